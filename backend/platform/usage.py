"""API key usage counters, batched: requests bump memory; a task folds them into the rows every few seconds.

Writing `usage_count + 1` on every request would serialise all requests of a busy key on one row;
an additive `UPDATE ... SET usage_count = usage_count + n` per interval is cheap and safe with any
number of processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from backend.db.session import Database
from backend.models.api_key import ApiKey

log = logging.getLogger("switchboard.platform.usage")


class UsageRecorder:
    def __init__(self, db: Database, interval_s: float = 5.0) -> None:
        self.db = db
        self.interval_s = interval_s
        self._pending: dict[uuid.UUID, tuple[int, datetime]] = {}
        self._task: asyncio.Task[None] | None = None

    def record(self, key_id: uuid.UUID) -> None:
        count, _ = self._pending.get(key_id, (0, datetime.now(UTC)))
        self._pending[key_id] = (count + 1, datetime.now(UTC))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="api-key-usage")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        """Write the counted uses; on failure they are put back for the next round."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            async with self.db.session() as session:
                for key_id, (count, last_used) in pending.items():
                    await session.execute(
                        update(ApiKey)
                        .where(ApiKey.id == key_id)
                        .values(usage_count=ApiKey.usage_count + count, last_used_at=last_used)
                    )
        except Exception:
            log.warning("recording API key usage failed; will retry", exc_info=True)
            for key_id, (count, last_used) in pending.items():
                earlier, _ = self._pending.get(key_id, (0, last_used))
                self._pending[key_id] = (earlier + count, last_used)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()
