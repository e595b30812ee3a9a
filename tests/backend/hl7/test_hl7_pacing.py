"""Per-destination pacing: `min_interval_ms` in the hl7 integration config spaces out deliveries."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx

from tests.backend.hl7.test_hl7_routing import _submit, _until, fast
from tests.conftest import TestUser
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener


async def _paced_destination(client: httpx.AsyncClient, user: TestUser, port: int, interval_ms: int) -> httpx.Response:
    return await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={
            "name": "Slow LIS",
            "integration_type": "hl7",
            "config": {"host": "127.0.0.1", "port": port, "timeout_s": 5, "min_interval_ms": interval_ms},
        },
    )


async def test_deliveries_to_a_paced_destination_are_spaced(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    fast(app)
    arrivals: list[float] = []

    async def handler(message: str, peer: str) -> str:
        arrivals.append(time.monotonic())
        return build_ack(message, "AA")

    listener = MllpListener(handler)
    await listener.start()
    try:
        assert (await _paced_destination(client, alice, listener.port, 250)).status_code == 201
        ids = [(await _submit(client, alice, f"S{i}", ["Slow LIS"])).json()["message_id"] for i in range(4)]
        for mid in ids:
            await _until(client, alice, mid, "delivered")
    finally:
        await listener.stop()
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4 and min(gaps) >= 0.24, gaps


async def test_pacing_is_bounded(app: Any, client: httpx.AsyncClient, alice: TestUser) -> None:
    fast(app)
    response = await _paced_destination(client, alice, 2575, 600_000)
    assert response.status_code == 422 and "min_interval_ms" in response.text
