"""One HL7 delivery worker in a process of its own, for the multi-process tests.

    python -m tests.backend.hl7.outbox_worker DATABASE_URL DATA_DIR LEASE_S BATCH

Prints "ready" once it polls, and stops cleanly when its stdin closes (or dies when killed).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from backend.config import Settings
from backend.context import AppContext
from backend.hl7.outbox import DeliveryWorker, OutboxSettings
from tests.conftest import TEST_SECRET


async def main(url: str, data_dir: str, lease_s: float, batch: int) -> None:
    settings = Settings(
        environment="test",
        database_url=url,
        data_dir=Path(data_dir),
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        outbound_allowlist=["127.0.0.1/32"],
        _env_file=None,  # type: ignore[call-arg]
    )
    ctx = AppContext.from_settings(settings)
    worker = DeliveryWorker(
        ctx,
        OutboxSettings(
            poll_interval_s=0.05,
            batch_size=batch,
            lease_s=lease_s,
            backoff_base_s=0.1,
            backoff_max_s=0.3,
            max_attempts=10_000,  # a destination down for a while is retried, never given up on
        ),
    )
    worker.start()
    print("ready", worker.worker_id, flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the test closes our stdin
    await worker.stop()
    await ctx.db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
