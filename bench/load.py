"""Load: many concurrent chat turns plus many idle sockets, on one server process and on two replicas.

Starts real `switchboard serve` processes on loopback (one, or two sharing PostgreSQL and Redis),
opens `--idle` WebSocket connections that just sit there, then runs `--turns` concurrent chat turns
(offline model), spread over the replicas. Prints errors (must be 0), time to first token p50/p99,
aggregate tokens/s, server RSS and RSS per idle connection. Bounded and loopback-only; it stops by itself.

    python bench/load.py                                   # 500 turns + 1000 idle, 1 process (SQLite)
    python bench/load.py --replicas 2 --database postgres  # the same on two replicas (PostgreSQL + Redis)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import websockets

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = "load-bench-secret-" + "x" * 32
USERS = 25  # turns are spread over users so no single one meets its per-user chat limit


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: str

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://")


def start_replicas(count: int, database_url: str, data_dir: Path, token_delay_ms: float) -> list[Replica]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
        "OFFLINE_TOKEN_DELAY_MS": str(token_delay_ms),
        # The bench is one client IP and a few users: lift the per-user and per-IP limits.
        "RATE_LIMIT_DEFAULT": "1000000/minute",
        "RATE_LIMIT_AUTH": "1000000/minute",
        "RATE_LIMIT_CHAT": "1000000/minute",
    }
    if count > 1:
        env["REDIS_URL"] = REDIS_URL
    subprocess.run([sys.executable, "-m", "backend.cli", "migrate"], env=env, check=True, capture_output=True)
    replicas = []
    for _ in range(count):
        port = free_port()
        log = (data_dir / f"server-{port}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        replicas.append(Replica(f"http://127.0.0.1:{port}", process, str(data_dir / f"server-{port}.log")))
    return replicas


async def wait_ready(replicas: list[Replica]) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        for replica in replicas:
            for _ in range(600):
                try:
                    if (await http.get(f"{replica.url}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                log = (await asyncio.to_thread(Path(replica.log).read_text, errors="replace"))[-3000:]
                raise RuntimeError(f"{replica.url} did not start; its log ends:\n{log}")


def stop_replicas(replicas: list[Replica]) -> None:
    for replica in replicas:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        try:
            replica.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            replica.process.kill()


async def sign_up(http: httpx.AsyncClient, base: str, index: int) -> str:
    credentials = {"email": f"load{index}@example.com", "username": f"load{index}", "password": "load bench pass"}
    await http.post(f"{base}/api/v1/auth/register", json=credentials)
    login = await http.post(f"{base}/api/v1/auth/login", json=credentials)
    login.raise_for_status()
    return str(login.json()["access_token"])


async def new_session(http: httpx.AsyncClient, base: str, token: str, message: str) -> str:
    created = await http.post(
        f"{base}/api/v1/chat/sessions", json={"message": message}, headers={"Authorization": f"Bearer {token}"}
    )
    created.raise_for_status()
    return str(created.json()["session_id"])


async def one_turn(ws_base: str, session_id: str, token: str) -> tuple[float, int, bool]:
    """Open the socket (the first message is answered on connect); (ttft, tokens, ok)."""
    started = time.perf_counter()
    first = 0.0
    parts: list[str] = []
    url = f"{ws_base}/api/v1/chat/ws/{session_id}?token={token}"
    async with websockets.connect(url, max_size=2**22, compression=None, open_timeout=60) as socket:
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), 120))
            if frame["type"] == "token":
                if not parts:
                    first = time.perf_counter() - started
                parts.append(frame["content"])
            elif frame["type"] == "final":
                return first, len(parts), "".join(parts) == frame["content"] and bool(parts)
            elif frame["type"] == "error":
                return first, len(parts), False


async def discard_frames(socket: Any) -> None:
    """An idle client still reads what the server sends (the answer to its session's first message)."""
    try:
        async for _ in socket:
            pass
    except websockets.ConnectionClosed:
        pass


async def still_alive(socket: Any) -> bool:
    try:
        await asyncio.wait_for(await socket.ping(), 10)
        return True
    except Exception:
        return False


async def measure(replicas: list[Replica], turns: int, idle: int) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as http:
        base = replicas[0].url
        tokens = [await sign_up(http, base, i) for i in range(USERS)]
        idle_sessions = [await new_session(http, base, tokens[i % USERS], "hello") for i in range(USERS)]
        turn_sessions = [
            await new_session(http, replicas[i % len(replicas)].url, tokens[i % USERS], "what can you do?")
            for i in range(turns)
        ]

    # Answer the idle sessions' first messages now, so the idle sockets below cost only themselves.
    await asyncio.gather(*(one_turn(replicas[0].ws, sid, tokens[i]) for i, sid in enumerate(idle_sessions)))
    rss_before = sum(rss_mb(r.process.pid) for r in replicas)
    sockets = []
    readers = []
    for i in range(idle):
        replica = replicas[i % len(replicas)]
        url = f"{replica.ws}/api/v1/chat/ws/{idle_sessions[i % USERS]}?token={tokens[i % USERS]}"
        socket = await websockets.connect(url, compression=None, open_timeout=60)
        sockets.append(socket)
        readers.append(asyncio.create_task(discard_frames(socket)))
    await asyncio.sleep(1)
    rss_idle = sum(rss_mb(r.process.pid) for r in replicas)

    started = time.perf_counter()
    results = await asyncio.gather(
        *(one_turn(replicas[i % len(replicas)].ws, turn_sessions[i], tokens[i % USERS]) for i in range(turns)),
        return_exceptions=True,
    )
    wall = time.perf_counter() - started
    rss_peak = sum(rss_mb(r.process.pid) for r in replicas)
    alive = sum(await asyncio.gather(*(still_alive(socket) for socket in sockets)))
    for socket in sockets:
        await socket.close()
    for reader in readers:
        reader.cancel()

    ok = [r for r in results if isinstance(r, tuple) and r[2]]
    ttft = sorted(r[0] for r in ok) or [0.0]
    streamed = sum(r[1] for r in ok)
    return {
        "turns": turns,
        "errors": len(results) - len(ok) + (idle - alive),
        "ttft_p50_ms": statistics.median(ttft) * 1000,
        "ttft_p99_ms": ttft[min(len(ttft) - 1, int(len(ttft) * 0.99))] * 1000,
        "tokens_per_s": streamed / wall,
        "wall_s": wall,
        "idle": idle,
        "rss_before_mb": rss_before,
        "rss_kb_per_idle": (rss_idle - rss_before) * 1024 / idle if idle else 0.0,
        "rss_peak_mb": rss_peak,
    }


def scratch_postgres() -> tuple[str, str]:
    name = f"switchboard_load_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(replica_count: int, database: str, turns: int, idle: int, token_delay_ms: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="switchboard-load-") as tmp:
        scratch = None
        if database == "postgres":
            scratch, database_url = scratch_postgres()
        else:
            database_url = f"sqlite:///{tmp}/load.db"
        replicas = start_replicas(replica_count, database_url, Path(tmp), token_delay_ms)
        try:
            await wait_ready(replicas)
            row = await measure(replicas, turns, idle)
        finally:
            stop_replicas(replicas)
            if scratch:
                drop_postgres(scratch)
    return {"replicas": replica_count, "database": database, **row}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--token-delay-ms", type=float, default=0.0, help="pace the offline model (0 = flat out)")
    args = parser.parse_args()
    rows = []
    for count in args.replicas:
        database = "postgres" if count > 1 else args.database
        rows.append(asyncio.run(run(count, database, args.turns, args.idle, args.token_delay_ms)))
    header = (
        "| replicas | db | turns | errors | TTFT p50 | TTFT p99 | tokens/s | wall s | idle sockets "
        "| RSS KB / idle socket | RSS before → peak MB |"
    )
    print(header)
    print("|" + "---|" * 11)
    for r in rows:
        print(
            f"| {r['replicas']} | {r['database']} | {r['turns']} | {r['errors']} | {r['ttft_p50_ms']:,.0f} ms "
            f"| {r['ttft_p99_ms']:,.0f} ms | {r['tokens_per_s']:,.0f} | {r['wall_s']:.1f} | {r['idle']} "
            f"| {r['rss_kb_per_idle']:.1f} | {r['rss_before_mb']:.0f} → {r['rss_peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
