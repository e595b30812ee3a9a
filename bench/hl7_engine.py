"""HL7 v2 throughput: the parts (parse, validation, MLLP round trips) and the engine end to end.

Rows (rates per second, higher is better; latencies in ms):
  parse  python-hl7          `hl7.parse` alone (the raw library floor)
  check  routing (ours)      `inspect(deep=False)`: normalise, summary, structural checks — what ingest runs
  check  hl7apy (ours)       `inspect`: + hl7apy structure/datatype validation — only for `validation` channels
  mllp   1 / 8 connections   `MllpClient.send` round trips (message → ACK) against an AA-only receiver
  POST /messages           → ACK recorded: single requests, `--concurrency` in flight, through a channel
  POST /messages/batch     → ACK recorded: batches of `--batch` messages
  MLLP inbound             → channel → destination: `--connections` senders, each waiting for its ACK
  FIFO drain               one destination's queue of `--count` messages (paused, filled, resumed),
                           beside the raw 1-connection MLLP rate of the same run

The engine rows run `switchboard serve` as its own process (one worker), on PostgreSQL with
`--database-url` (SQLite otherwise), with a channel to an AA-only MLLP receiver in this process.
"→ ACK recorded" ends when the receiver's ACK is committed for the last message. Every engine row
checks that nothing was lost and that the receiver saw each queue's messages in sequence order.

Usage: `.venv/bin/python bench/hl7_engine.py [--count 3000] [--database-url postgresql://...]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and `import hl7` would find this file.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import hl7  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from backend.config import Settings  # noqa: E402
from tools.hl7.ack import build_ack  # noqa: E402
from tools.hl7.message import inspect  # noqa: E402
from tools.hl7.mllp import MllpClient, MllpListener  # noqa: E402

ADT = "\r".join(
    [
        "MSH|^~\\&|EPIC|HOSP|LIS|LAB|20250301083015||ADT^A01^ADT_A01|{cid}|P|2.5.1",
        "EVN|A01|20250301083000",
        "PID|1||4455667^^^HOSP^MR~123-45-6789^^^SSA^SS||GARCIA^MARIA^L||19651231|F|||1600 DIVISADERO ST^^SAN "
        "FRANCISCO^CA^94115||^PRN^PH^^1^415^5550101",
        "NK1|1|GARCIA^JOSE|SPO^Spouse^HL70063",
        "PV1|1|I|4WEST^412^B||||1234^HOUSE^GREGORY|||MED||||ADM|||||V0001",
        "AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives",
        "DG1|1||I10^Essential hypertension^I10||20250301|A",
    ]
)
Row = tuple[str, str, str]  # measurement, rate, latency


def rate(work: Callable[[], Any], seconds: float) -> float:
    work()  # warm caches (hl7apy loads its tables lazily)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - started)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latency(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.1f} / p99 {percentile(values, 99):.1f}" if values else "-"


def parse_rows(seconds: float) -> list[Row]:
    message = ADT.format(cid="B1")
    return [
        ("parse python-hl7 (ADT^A01)", f"{rate(lambda: hl7.parse(message), seconds):,.0f}", "-"),
        ("check for routing, ours", f"{rate(lambda: inspect(message, deep=False), seconds):,.0f}", "-"),
        ("check with hl7apy validation, ours", f"{rate(lambda: inspect(message), seconds):,.0f}", "-"),
    ]


class Receiver:
    """The destination: AA for everything, control ids in arrival order."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.listener = MllpListener(self.handle)

    async def handle(self, message: str, peer: str) -> str:
        self.received.append(message[: message.find("\r")].split("|")[9])
        return build_ack(message, "AA")


async def mllp_rate(port: int, connections: int, seconds: float) -> float:
    clients = [MllpClient("127.0.0.1", port, timeout_s=10) for _ in range(connections)]
    sent = 0
    deadline = time.perf_counter() + seconds

    async def run(client: MllpClient, index: int) -> None:
        nonlocal sent
        n = 0
        while time.perf_counter() < deadline:
            assert (await client.send(ADT.format(cid=f"M{index}-{n}"))).accepted
            n += 1
            sent += 1

    started = time.perf_counter()
    await asyncio.gather(*(run(c, i) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.close()
    return sent / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Engine:
    """`switchboard serve` in its own process, signed in as its admin, with a channel to the receiver."""

    def __init__(self, database_url: str, data_dir: Path, receiver_port: int) -> None:
        self.port, self.mllp_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = Settings(database_url=database_url, _env_file=None).resolved_database_url  # type: ignore[call-arg]
        self.receiver_port = receiver_port
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "bench-secret-" + "x" * 40,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_DEFAULT": "100000000/minute",  # the bench measures the engine, not the limiter
            "RATE_LIMIT_AUTH": "100000/minute",
            "OUTBOUND_ALLOWLIST": "127.0.0.1/32",
            "HL7_LISTEN_PORT": str(self.mllp_port),
        }
        self.log = data_dir / "server.log"
        self.process: asyncio.subprocess.Process | None = None
        self.headers: dict[str, str] = {}
        self.integration_id = ""
        self.db = create_async_engine(self.database_url)

    async def start(self, http: httpx.AsyncClient) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port), "--migrate",
                env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        for _ in range(600):
            try:
                if (await http.get(f"{self.url}/health", timeout=1)).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(self.log.read_text())
        user = {"email": "bench@example.com", "username": "bench", "password": "correct horse battery"}
        await http.post(f"{self.url}/api/v1/auth/register", json=user)
        login = await http.post(
            f"{self.url}/api/v1/auth/login", json={"username": "bench", "password": user["password"]}
        )
        self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        config = {"host": "127.0.0.1", "port": self.receiver_port, "timeout_s": 10}
        created = await http.post(
            f"{self.url}/api/v1/integrations",
            headers=self.headers,
            json={"name": "Bench LIS", "integration_type": "hl7", "config": config},
        )
        assert created.status_code == 201, created.text
        self.integration_id = created.json()["id"]
        channel = {"name": "bench", "sources": ["api", "mllp"], "destinations": ["Bench LIS"]}
        made = await http.post(f"{self.url}/api/v1/hl7/channels", headers=self.headers, json=channel)
        assert made.status_code == 201, made.text

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        await self.db.dispose()

    async def delivered(self, prefix: str) -> tuple[list[float], list[str]]:
        """Accept → ACK-recorded latencies (ms) and the control ids in sequence order."""
        async with self.db.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT m.control_id, m.received_at, d.delivered_at, d.status FROM hl7_deliveries d "
                        "JOIN hl7_messages m ON m.id = d.message_id WHERE m.control_id LIKE :p ORDER BY d.seq"
                    ),
                    {"p": f"{prefix}%"},
                )
            ).all()

        def ms(a: Any, b: Any) -> float:
            if isinstance(a, str):  # SQLite hands timestamps back as text
                a, b = datetime.fromisoformat(a), datetime.fromisoformat(b)
            return float((b - a).total_seconds() * 1000)

        return [ms(r[1], r[2]) for r in rows if r[3] == "delivered"], [r[0] for r in rows]

    async def wait_delivered(self, prefix: str, count: int, limit_s: float = 600) -> tuple[list[float], list[str]]:
        """Poll a cheap count (this process also runs the receiver: it must not be kept busy)."""
        deadline = time.perf_counter() + limit_s
        query = text(
            "SELECT count(*) FROM hl7_deliveries d JOIN hl7_messages m ON m.id = d.message_id "
            "WHERE d.status = 'delivered' AND m.control_id LIKE :p"
        )
        while True:
            async with self.db.connect() as connection:
                done = int((await connection.execute(query, {"p": f"{prefix}%"})).scalar_one())
            if done >= count:
                return await self.delivered(prefix)
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{prefix}: {done}/{count} delivered")
            await asyncio.sleep(0.1)


def check(receiver: Receiver, prefix: str, count: int, order: list[str]) -> str:
    got = [c for c in receiver.received if c.startswith(prefix)]
    lost = count - len(set(got))
    in_order = got == order
    return f"{lost} lost, {'in order' if in_order else 'OUT OF ORDER'}"


async def post_row(engine: Engine, receiver: Receiver, count: int, concurrency: int) -> Row:
    prefix, latencies = "P-", []
    async with httpx.AsyncClient(base_url=engine.url, headers=engine.headers, timeout=60) as http:
        next_index = 0
        started = time.perf_counter()

        async def sender() -> None:
            nonlocal next_index
            while next_index < count:
                index, next_index = next_index, next_index + 1
                t = time.perf_counter()
                response = await http.post("/api/v1/messages", json={"message": ADT.format(cid=f"{prefix}{index:06d}")})
                assert response.status_code == 202 and response.json()["status"] == "accepted", response.text
                latencies.append((time.perf_counter() - t) * 1000)

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        accepted_s = time.perf_counter() - started
        acked, order = await engine.wait_delivered(prefix, count)
        elapsed = time.perf_counter() - started
    return (
        f"POST /messages x{count}, {concurrency} in flight → ACK recorded",
        f"{count / elapsed:,.0f} (202s: {count / accepted_s:,.0f})",
        f"202 {latency(latencies)}; ACK {latency(acked)}; {check(receiver, prefix, count, order)}",
    )


async def batch_row(engine: Engine, receiver: Receiver, count: int, size: int) -> Row:
    prefix, latencies = "B-", []
    async with httpx.AsyncClient(base_url=engine.url, headers=engine.headers, timeout=60) as http:
        started = time.perf_counter()
        for first in range(0, count, size):
            body = {
                "messages": [
                    {"message": ADT.format(cid=f"{prefix}{i:06d}")} for i in range(first, min(count, first + size))
                ]
            }
            t = time.perf_counter()
            response = await http.post("/api/v1/messages/batch", json=body)
            assert response.status_code == 202 and response.json()["rejected"] == 0, response.text
            latencies.append((time.perf_counter() - t) * 1000)
        accepted_s = time.perf_counter() - started
        acked, order = await engine.wait_delivered(prefix, count)
        elapsed = time.perf_counter() - started
    return (
        f"POST /messages/batch x{count} ({size} a request) → ACK recorded",
        f"{count / elapsed:,.0f} (202s: {count / accepted_s:,.0f})",
        f"request {latency(latencies)}; ACK {latency(acked)}; {check(receiver, prefix, count, order)}",
    )


async def inbound_row(engine: Engine, receiver: Receiver, count: int, connections: int) -> Row:
    prefix, latencies = "I-", []
    clients = [MllpClient("127.0.0.1", engine.mllp_port, timeout_s=30) for _ in range(connections)]
    next_index = 0
    started = time.perf_counter()

    async def sender(client: MllpClient) -> None:
        nonlocal next_index
        while next_index < count:
            index, next_index = next_index, next_index + 1
            t = time.perf_counter()
            result = await client.send(ADT.format(cid=f"{prefix}{index:06d}"))
            assert result.code == "AA", result
            latencies.append((time.perf_counter() - t) * 1000)

    await asyncio.gather(*(sender(c) for c in clients))
    accepted_s = time.perf_counter() - started
    for client in clients:
        await client.close()
    acked, order = await engine.wait_delivered(prefix, count)
    elapsed = time.perf_counter() - started
    return (
        f"MLLP inbound x{count}, {connections} connections → channel → destination",
        f"{count / elapsed:,.0f} (ACKs: {count / accepted_s:,.0f})",
        f"ACK {latency(latencies)}; delivered {latency(acked)}; {check(receiver, prefix, count, order)}",
    )


async def fifo_row(engine: Engine, receiver: Receiver, count: int, raw_rate: float) -> Row:
    prefix = "F-"
    queue = f"{engine.url}/api/v1/hl7/queues/{engine.integration_id}"
    async with httpx.AsyncClient(base_url=engine.url, headers=engine.headers, timeout=60) as http:
        assert (await http.post(f"{queue}/pause")).status_code == 200
        for first in range(0, count, 500):
            body = {
                "messages": [
                    {"message": ADT.format(cid=f"{prefix}{i:06d}")} for i in range(first, min(count, first + 500))
                ]
            }
            assert (await http.post("/api/v1/messages/batch", json=body)).status_code == 202
        started = time.perf_counter()
        assert (await http.post(f"{queue}/resume")).status_code == 200
        _, order = await engine.wait_delivered(prefix, count)
        elapsed = time.perf_counter() - started
    fifo = count / elapsed
    return (
        f"FIFO drain, 1 destination, backlog of {count}",
        f"{fifo:,.0f}",
        f"{raw_rate / fifo:.2f}x slower than raw 1-connection MLLP ({raw_rate:,.0f}/s); "
        f"{check(receiver, prefix, count, order)}",
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per library/MLLP row")
    parser.add_argument("--count", type=int, default=3000, help="messages per engine row")
    parser.add_argument("--concurrency", type=int, default=32, help="POST requests in flight")
    parser.add_argument("--connections", type=int, default=16, help="inbound MLLP sender connections")
    parser.add_argument("--batch", type=int, default=100, help="messages per batch request")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument(
        "--only", default="post,batch,inbound,fifo", help="engine rows to run (comma-separated; for profiling)"
    )
    args = parser.parse_args()

    rows = parse_rows(args.seconds)
    receiver = Receiver()
    port = await receiver.listener.start()
    raw_one = await mllp_rate(port, 1, args.seconds)
    rows += [
        ("MLLP send + ACK, 1 connection (raw)", f"{raw_one:,.0f}", "-"),
        ("MLLP send + ACK, 8 connections (raw)", f"{await mllp_rate(port, 8, args.seconds):,.0f}", "-"),
    ]
    receiver.received.clear()
    with tempfile.TemporaryDirectory(prefix="sb-bench-hl7-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        engine = Engine(url, Path(tmp), port)
        async with httpx.AsyncClient() as http:
            await engine.start(http)
        try:
            only = set(args.only.split(","))
            if "post" in only:
                rows.append(await post_row(engine, receiver, args.count, args.concurrency))
            if "batch" in only:
                rows.append(await batch_row(engine, receiver, args.count, args.batch))
            if "inbound" in only:
                rows.append(await inbound_row(engine, receiver, args.count, args.connections))
            if "fifo" in only:
                raw_one = await mllp_rate(port, 1, args.seconds)  # again, right before: the same machine load
                receiver.received[:] = [c for c in receiver.received if not c.startswith("M")]
                rows.append(await fifo_row(engine, receiver, args.count, raw_one))
        except BaseException:
            print(engine.log.read_text(errors="replace")[-5000:], file=sys.stderr)  # the server's side of it
            raise
        finally:
            await engine.stop()
            await receiver.listener.stop()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"backend: {backend}; load: {os.getloadavg()[0]:.2f} (1-min average, 2 cores)")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measurement':<{width}} | {'per second':>22} | latency (ms) / checks")
    print(f"|{'-' * (width + 2)}|{'-' * 24}|{'-' * 40}")
    for name, value, note in rows:
        print(f"| {name:<{width}} | {value:>22} | {note}")


if __name__ == "__main__":
    asyncio.run(main())
