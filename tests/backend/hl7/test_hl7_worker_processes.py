"""Delivery by separate worker processes sharing the database: each message reaches each destination
exactly once, and a worker killed in the middle of a send loses nothing (another one finishes it).

On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`; on SQLite the conditional claim under SQLite's
write lock. The workers are real processes (`tests/backend/hl7/outbox_worker.py`).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.backend.hl7.test_hl7_routing import _channel, _submit, _until, fast
from tests.conftest import TestUser
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener

ROOT = Path(__file__).resolve().parents[3]


class Worker:
    """A worker process; `stop()` closes its stdin (clean exit), `kill()` is SIGKILL."""

    def __init__(self, settings: Settings, lease_s: float, batch: int = 3) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.backend.hl7.outbox_worker",
                settings.resolved_database_url,
                str(settings.data_dir),
                str(lease_s),
                str(batch),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            text=True,
        )

    async def ready(self) -> None:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 60)
        assert line.startswith("ready"), line

    async def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            await asyncio.to_thread(self.process.wait, 20)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


class Receiver:
    """Records (control id, peer) per message; `hold` keeps the ACK of one control id back."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.hold: str | None = None
        self.released = asyncio.Event()
        self.listener = MllpListener(self.handle)

    async def handle(self, message: str, peer: str) -> str:
        control_id = message.split("\r")[0].split("|")[9]
        self.received.append((control_id, peer))
        if control_id == self.hold and not self.released.is_set():
            await self.released.wait()
        await asyncio.sleep(0.01)  # a receiver that takes a moment, so claims overlap
        return build_ack(message, "AA")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.listener.start()
    yield r
    r.released.set()
    await r.listener.stop()


@pytest.fixture
async def workers(settings: Settings) -> AsyncIterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(lease_s: float = 60) -> Worker:
        worker = Worker(settings, lease_s)
        started.append(worker)
        return worker

    yield start
    await asyncio.gather(*(worker.stop() for worker in started))


async def _quiet(app: Any) -> None:
    """The test app's own in-process worker steps aside: only the worker processes deliver."""
    await fast(app).stop()


async def _destination(client: httpx.AsyncClient, user: TestUser, port: int) -> None:
    response = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={"name": "LIS", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": port, "timeout_s": 15}},
    )
    assert response.status_code == 201, response.text


async def _wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_two_worker_processes_deliver_each_parallel_message_exactly_once(
    app: Any,
    client: httpx.AsyncClient,
    admin: TestUser,
    alice: TestUser,
    receiver: Receiver,
    workers: Callable[..., Worker],
) -> None:
    await _quiet(app)
    await _destination(client, admin, receiver.listener.port)
    await _channel(client, admin, ordering="parallel")  # a parallel channel: both processes may send
    first, second = workers(), workers()
    await asyncio.gather(first.ready(), second.ready())
    ids = [(await _submit(client, alice, f"P{i}", None)).json()["message_id"] for i in range(16)]
    for mid in ids:
        done = await _until(client, alice, mid, "delivered")
        assert done["destinations"][0]["attempts"] == 1
    control_ids = sorted(cid for cid, _ in receiver.received)
    assert control_ids == sorted(f"P{i}" for i in range(16))  # every one, none twice
    assert len({peer for _, peer in receiver.received}) == 2  # and both processes did part of the work


async def test_a_worker_killed_mid_send_loses_nothing(
    app: Any,
    client: httpx.AsyncClient,
    alice: TestUser,
    receiver: Receiver,
    workers: Callable[..., Worker],
) -> None:
    await _quiet(app)
    await _destination(client, alice, receiver.listener.port)
    receiver.hold = "K1"
    doomed = workers(lease_s=1)
    await doomed.ready()
    mid = (await _submit(client, alice, "K1", ["LIS"])).json()["message_id"]
    await _wait_for(lambda: [cid for cid, _ in receiver.received] == ["K1"])
    in_flight = (await client.get(f"/api/v1/messages/{mid}", headers=alice.headers)).json()
    assert in_flight["destinations"][0]["status"] == "sent"  # on the wire, no ACK recorded yet
    doomed.kill()
    receiver.released.set()

    survivor = workers(lease_s=1)
    await survivor.ready()
    done = await _until(client, alice, mid, "delivered")
    assert done["destinations"][0]["attempts"] == 2 and done["destinations"][0]["ack_code"] == "AA"
    # The killed worker may have sent it before dying; the retry carries the same control id (MSH-10),
    # which is how a receiver recognises the duplicate. Nothing is lost.
    assert [cid for cid, _ in receiver.received] == ["K1", "K1"]
