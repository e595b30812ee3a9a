"""The admin charts' time-bucketed store, and its endpoint after real chat turns."""

from __future__ import annotations

import httpx

from backend.observability.activity import ActivitySeries, percentile
from tests.backend.chat.chat_client import ChatSocket
from tests.conftest import TestUser


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_minutes_fill_the_hour_and_old_buckets_leave() -> None:
    clock = Clock(1_800_000_000.0)
    series = ActivitySeries(clock)
    series.record_turn("stop", ["completed", "failed"], 0.2, ["approve"])
    clock.now += 120
    series.record_turn("error", [], 0.4, [])
    series.record_turn(None, ["completed"], None, ["reject"])  # paused: not a finished turn
    hour = series.series("1h")
    assert len(hour["points"]) == 60 and hour["step_s"] == 60
    assert hour["totals"] == {
        "turns": 2,
        "errors": 1,
        "tools_completed": 2,
        "tools_failed": 1,
        "p95_first_token_ms": 400.0,
    }
    assert hour["approvals_by_decision"] == {"approve": 1, "reject": 1}
    assert [p["turns"] for p in hour["points"] if p["turns"]] == [1, 1]
    assert len(series.series("24h")["points"]) == 96
    clock.now += 2 * 3600
    series.record_turn("stop", [], None, [])
    assert series.series("1h")["totals"]["turns"] == 1
    assert series.series("24h")["totals"]["turns"] == 3
    clock.now += 25 * 3600
    series.record_turn("stop", [], None, [])
    assert series.series("24h")["totals"]["turns"] == 1


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([float(v) for v in range(1, 101)], 0.95) == 95.0


async def test_the_endpoint_shows_a_burst_of_turns(
    client: httpx.AsyncClient, live_server: str, alice: TestUser, admin: TestUser
) -> None:
    assert (await client.get("/api/v1/admin/overview/activity", headers=alice.headers)).status_code == 403
    for _ in range(3):
        created = await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=alice.headers)
        socket = await ChatSocket.open(live_server, created.json()["session_id"], alice.access_token)
        await socket.until_type("final")
        await socket.close()
    body = (await client.get("/api/v1/admin/overview/activity?window=1h", headers=admin.headers)).json()
    assert body["totals"]["turns"] == 3 and body["totals"]["p95_first_token_ms"] is not None
    assert (await client.get("/api/v1/admin/overview/activity?window=7d", headers=admin.headers)).status_code == 422
