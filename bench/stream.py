"""Streaming under load: time to first token and server CPU per streamed token, at C concurrent turns.

Every turn streams the offline model's detailed guide ("Give me a detailed guide to Switchboard", 200+
tokens, no tool call). The same client runs against these servers, each its own process on loopback
(`bench/stream_servers.py` holds the baselines):
  bare         a FastAPI WebSocket endpoint streaming that answer's tokens, pre-made (the floor)
  langgraph    a FastAPI WebSocket endpoint streaming the offline model through a one-node LangGraph
               graph (`stream_mode="messages"`)
  switchboard  the product (`switchboard serve`): JWT auth, sessions, the user's toolset, the full agent
               with the SQLite checkpointer, the stream hub, persistence of every turn
  model        (`--model-first-token-ms`) the product on the `openai:` provider against a local
               OpenAI-compatible server that waits that long before its first token; the same client
               also measures that server's own time to first token, so the table shows what the
               product adds to it

With `--pin` (the default on 2+ cores) the client runs on core 0 and each server on core 1, so a
server's CPU and its latency are its own. A turn counts as an error unless its tokens concatenate
exactly to its `final` and number at least 200. A level of C runs max(1, ceil(20 / C)) successive
waves of C concurrent turns (C=1: 20 turns in a row). Each row is the median over `--rounds`.

Per-phase timers (the second table): from the client's connect call to the WebSocket being open
(`open`), to the product's `connection_established` (`ready`: socket auth and session read), to the
turn's first `agent_event` (`started`: the turn claimed, prepared and its agent run begun), to the first
token (`first`). `--profile DIR` records the product with py-spy while each level runs.

Usage: `python bench/stream.py [--concurrency 1 50 200] [--rounds 3] [--servers bare langgraph switchboard]`
       `python bench/stream.py --servers model --concurrency 50 --model-first-token-ms 300`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop
import websockets

ROOT = Path(__file__).resolve().parent.parent
SERVERS_SCRIPT = Path(__file__).resolve().with_name("stream_servers.py")
QUESTION = "Give me a detailed guide to Switchboard"
MIN_TOKENS = 200
MIN_TURNS = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVERS = ("bare", "langgraph", "switchboard", "model")
PHASES = ("open", "ready", "started", "first")
CLIENT_CORE, SERVER_CORE = 0, 1


# ----------------------------------------------------------------------------- measurement


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ws_content(raw: str) -> str:
    return str(json.loads(raw)["content"])


def completion_content(raw: str) -> str:
    choices = json.loads(raw[6:]).get("choices") or [{}]
    return str(choices[0].get("delta", {}).get("content") or "")


@dataclass
class Turn:
    """One measured turn: seconds from the connect call to each phase, its frames, whether it was whole."""

    phases: dict[str, float] = field(default_factory=dict)
    raw_tokens: list[str] = field(default_factory=list)
    ended: bool = False  # the stream ended as it should (a `final`; a completion's `stop`)
    final: str | None = None  # what the tokens must concatenate to, when the server says
    content_of: Callable[[str], str] = ws_content
    tokens: int = 0
    ok: bool = False

    def check(self) -> Turn:
        """Decode the token frames (after the level: the client's JSON work is not in the timings)."""
        parts = [self.content_of(raw) for raw in self.raw_tokens]
        self.tokens = len(parts)
        whole = self.final is None or "".join(parts) == self.final
        self.ok = self.ended and whole and len(parts) >= MIN_TOKENS
        return self


def frame_type(raw: str) -> str:
    """The frame's `type` without decoding it: every server here writes `type` as the first key."""
    colon = raw.index(":", raw.index('"type"') + 6)
    start = raw.index('"', colon) + 1
    return raw[start : raw.index('"', start)]


async def one_turn(url: str, first_frame: str | None) -> Turn:
    """Stream one turn, timing its phases; token frames are kept raw and checked by `Turn.check`."""
    turn = Turn()
    started = time.perf_counter()
    async with asyncio.timeout(120), websockets.connect(url, max_size=2**22, compression=None) as socket:
        turn.phases["open"] = time.perf_counter() - started
        if first_frame is not None:
            await socket.send(first_frame)
        tokens = turn.raw_tokens
        while True:
            raw = str(await socket.recv())
            kind = frame_type(raw)
            if kind == "token":
                if not tokens:
                    turn.phases["first"] = time.perf_counter() - started
                tokens.append(raw)
            elif kind == "connection_established":
                turn.phases["ready"] = time.perf_counter() - started
            elif kind == "agent_event" and "started" not in turn.phases:
                turn.phases["started"] = time.perf_counter() - started
            elif kind == "final":
                turn.ended, turn.final = True, ws_content(raw)
                return turn
            elif kind == "error":
                return turn


async def model_turn(http: httpx.AsyncClient, url: str) -> Turn:
    """One streamed completion straight from the OpenAI-compatible server (its own first-token time)."""
    turn = Turn(content_of=completion_content)
    started = time.perf_counter()
    body = {"model": "bench-model", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    async with http.stream("POST", url, json=body) as response:
        async for line in response.aiter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                turn.phases.setdefault("first", time.perf_counter() - started)
                turn.raw_tokens.append(line)
            turn.ended = turn.ended or '"finish_reason": "stop"' in line
    return turn


def waves(level: int) -> int:
    """Successive waves of `level` concurrent turns in one measurement: at least 20 turns, so the CPU
    time of a small level spans enough 10 ms clock ticks of /proc to mean something."""
    return max(1, -(-MIN_TURNS // level))


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def run_level(pid: int, waves_of_turns: list[list[Any]]) -> dict[str, Any]:
    """Run the waves (each a list of turn coroutines) and measure the server `pid` meanwhile."""
    cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
    results: list[Any] = []
    for wave in waves_of_turns:
        results += await asyncio.gather(*wave, return_exceptions=True)
    wall = time.perf_counter() - wall_before
    cpu = cpu_seconds(pid) - cpu_before
    ok = [r for r in results if isinstance(r, Turn) and r.check().ok]
    tokens = sum(r.tokens for r in ok)
    row: dict[str, Any] = {
        "tokens_per_s": tokens / wall if wall else 0.0,
        "errors": len(results) - len(ok),
        "rss_mb": rss_mb(pid),
        "cpu_us_per_token": cpu * 1e6 / tokens if tokens else float("nan"),
        "tokens_per_turn": tokens / len(ok) if ok else 0.0,
    }
    for phase in PHASES:
        values = [r.phases[phase] * 1000 for r in ok if phase in r.phases]
        row[f"{phase}_p50_ms"] = statistics.median(values) if values else float("nan")
        row[f"{phase}_p99_ms"] = percentile(values, 0.99)
    return row


def median_row(server: str, level: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric's median over the rounds; errors are summed (zero means zero in every round)."""
    row: dict[str, Any] = {"server": server, "C": level, "load": load_average()}
    for key in runs[0]:
        values = [r[key] for r in runs]
        row[key] = sum(values) if key == "errors" else statistics.median(values)
    return row


class Profiler:
    """py-spy attached to the server while one level is measured (collapsed stacks for reading)."""

    def __init__(self, out_dir: Path | None, pid: int) -> None:
        self.out_dir, self.pid = out_dir, pid
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, name: str) -> None:
        if self.out_dir is None:
            return
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        args = ["record", "--pid", str(self.pid), "--format", "raw", "--rate", "250", "--gil"]
        self.process = await asyncio.create_subprocess_exec(
            py_spy, *args, "-o", str(self.out_dir / f"{name}.txt"), stdout=subprocess.DEVNULL
        )
        await asyncio.sleep(1)  # attached before the level starts

    async def stop(self) -> None:
        if self.process is not None:
            if self.process.returncode is None:
                self.process.send_signal(2)  # SIGINT: py-spy writes its output and exits
            await asyncio.wait_for(self.process.wait(), 30)
            self.process = None


# ----------------------------------------------------------------------------- servers


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(300):
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(argv: list[str], core: int | None) -> list[str]:
    """`taskset -c core argv` (taskset execs the command, so the pid is the server's own)."""
    return argv if core is None else ["taskset", "-c", str(core), *argv]


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


@asynccontextmanager
async def product_server(core: int | None, extra_env: dict[str, str]) -> AsyncIterator[tuple[Any, str, dict[str, str]]]:
    """`switchboard serve` on a fresh SQLite database with one registered user: (process, base, headers)."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="sb-bench-")
    env = {
        **os.environ,
        "DATA_DIR": data,
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite+aiosqlite:///{data}/bench.db",
        "DEMO_MODE": "false",
        # The bench creates hundreds of sessions a minute for one user; it measures streaming, not limits.
        "RATE_LIMIT_DEFAULT": "1000000/minute",
        "RATE_LIMIT_AUTH": "1000000/minute",
        "RATE_LIMIT_CHAT": "1000000/minute",
        **extra_env,
    }
    argv = [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--migrate"]
    server = await asyncio.create_subprocess_exec(*pinned(argv, core), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/health")
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            account = {"email": "b@example.com", "username": "bench", "password": "bench-password"}
            await http.post("/api/v1/auth/register", json=account)
            login = {"username": "bench", "password": "bench-password"}
            token = (await http.post("/api/v1/auth/login", json=login)).json()["access_token"]
        yield server, base, {"Authorization": f"Bearer {token}"}
    finally:
        await stop(server)
        shutil.rmtree(data, ignore_errors=True)


async def measure_product(
    name: str,
    server: Any,
    base: str,
    headers: dict[str, str],
    levels: list[int],
    rounds: int,
    message: str,
    profile: Path | None,
) -> list[dict[str, Any]]:
    profiler = Profiler(profile, server.pid)
    token = headers["Authorization"].split()[1]
    ws_base = base.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:

        async def session_urls(count: int) -> list[str]:
            # A session created with its first message; opening its WebSocket starts the answer.
            created = [await http.post("/api/v1/chat/sessions", json={"message": message}) for _ in range(count)]
            return [f"{ws_base}/api/v1/chat/ws/{r.json()['session_id']}?token={token}" for r in created]

        await run_level(server.pid, [[one_turn(u, None) for u in await session_urls(2)]])  # warm-up
        rows = []
        try:
            for level in levels:
                runs = []
                for round_no in range(rounds):
                    urls = [await session_urls(level) for _ in range(waves(level))]
                    await profiler.start(f"{name}-c{level}-r{round_no}")
                    runs.append(await run_level(server.pid, [[one_turn(u, None) for u in wave] for wave in urls]))
                    await profiler.stop()
                rows.append(median_row(name, level, runs))
        finally:
            await profiler.stop()
        return rows


async def bench_switchboard(
    levels: list[int], rounds: int, message: str, profile: Path | None, core: int | None
) -> list[dict[str, Any]]:
    async with product_server(core, {}) as (server, base, headers):
        return await measure_product("switchboard", server, base, headers, levels, rounds, message, profile)


async def bench_model(
    levels: list[int], rounds: int, first_token_ms: float, token_ms: float, profile: Path | None, pin: bool
) -> list[dict[str, Any]]:
    """The product on an OpenAI-compatible server with a real model's latency, and that server alone."""
    port = free_port()
    argv = [sys.executable, str(SERVERS_SCRIPT), "openai", "--port", str(port)]
    argv += ["--first-token-ms", str(first_token_ms), "--token-ms", str(token_ms)]
    # The stand-in model shares the client's core: its CPU must not count against the product.
    model = await asyncio.create_subprocess_exec(*pinned(argv, CLIENT_CORE if pin else None), cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/health")
        rows = []
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            url = base + "/v1/chat/completions"
            for level in levels:
                runs = [
                    await run_level(model.pid, [[model_turn(http, url) for _ in range(level)]]) for _ in range(rounds)
                ]
                rows.append(median_row("model-alone", level, runs))
        env = {"LLM_MODEL": "openai:bench-model", "OPENAI_BASE_URL": base + "/v1", "OPENAI_API_KEY": "bench"}
        async with product_server(SERVER_CORE if pin else None, env) as (server, product, headers):
            rows += await measure_product("sb+model", server, product, headers, levels, rounds, QUESTION, profile)
        return rows
    finally:
        await stop(model)


async def bench_baseline(kind: str, levels: list[int], rounds: int, core: int | None) -> list[dict[str, Any]]:
    port = free_port()
    argv = [sys.executable, str(SERVERS_SCRIPT), kind, "--port", str(port)]
    server = await asyncio.create_subprocess_exec(*pinned(argv, core), cwd=ROOT)
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        for _ in range(300):
            if server.returncode is not None:
                raise RuntimeError(f"the {kind} server exited with {server.returncode}")
            try:
                async with websockets.connect(url):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        await run_level(server.pid, [[one_turn(url, "go") for _ in range(2)]])  # warm-up
        rows = []
        for level in levels:
            runs = []
            for _ in range(rounds):
                turns = [[one_turn(url, "go") for _ in range(level)] for _ in range(waves(level))]
                runs.append(await run_level(server.pid, turns))
            rows.append(median_row(kind, level, runs))
        return rows
    finally:
        await stop(server)


# ----------------------------------------------------------------------------- report


def print_tables(rows: list[dict[str, Any]]) -> None:
    floor = {r["C"]: r["cpu_us_per_token"] for r in rows if r["server"] == "bare"}
    graph = {r["C"]: r for r in rows if r["server"] == "langgraph"}
    alone = {r["C"]: r for r in rows if r["server"] == "model-alone"}
    print(
        f"{'server':12} {'C':>4} {'ttft p50':>10} {'ttft p99':>10} {'tok/s':>7} {'tok/turn':>8} {'err':>4} "
        f"{'RSS MB':>7} {'µs/token':>9} {'x floor':>7} {'p99 x lg':>8} {'cpu x lg':>8} {'+p99 ms':>8}  load"
    )
    nan = float("nan")
    for r in rows:
        level = r["C"]
        base = graph.get(level)
        model = alone.get(level) if r["server"] == "sb+model" else None
        print(
            f"{r['server']:12} {level:>4} {r['first_p50_ms']:>8.1f}ms {r['first_p99_ms']:>8.1f}ms "
            f"{r['tokens_per_s']:>7.0f} {r['tokens_per_turn']:>8.0f} {r['errors']:>4} {r['rss_mb']:>7.1f} "
            f"{r['cpu_us_per_token']:>9.1f} {r['cpu_us_per_token'] / floor[level] if level in floor else nan:>7.2f} "
            f"{r['first_p99_ms'] / base['first_p99_ms'] if base else nan:>8.2f} "
            f"{r['cpu_us_per_token'] / base['cpu_us_per_token'] if base else nan:>8.2f} "
            f"{r['first_p99_ms'] - model['first_p99_ms'] if model else nan:>8.1f}  {r['load']}"
        )
    print()
    print(f"{'phases, ms':12} {'C':>4} " + " ".join(f"{p + ' p50/p99':>17}" for p in PHASES))
    for r in rows:
        cells = " ".join(f"{r[p + '_p50_ms']:>8.1f}/{r[p + '_p99_ms']:<8.1f}" for p in PHASES)
        print(f"{r['server']:12} {r['C']:>4} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--rounds", type=int, default=3, help="runs per level; the tables show medians")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=["bare", "langgraph", "switchboard"])
    parser.add_argument("--message", default=QUESTION, help="the switchboard turn's user message")
    parser.add_argument("--profile", type=Path, help="py-spy the product into this directory")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=(os.cpu_count() or 1) >= 2)
    parser.add_argument("--model-first-token-ms", type=float, default=300.0)
    parser.add_argument("--model-token-ms", type=float, default=10.0, help="the stand-in model's pace")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if args.pin:
        os.sched_setaffinity(0, {CLIENT_CORE})
    core = SERVER_CORE if args.pin else None
    print(f"load average at start: {load_average()}", flush=True)
    rows: list[dict[str, Any]] = []
    # uvloop (uvicorn's own loop, installed with it) keeps the client's share of the timings small.
    for kind in ("bare", "langgraph"):
        if kind in args.servers:
            rows += uvloop.run(bench_baseline(kind, args.concurrency, args.rounds, core))
    if "switchboard" in args.servers:
        rows += uvloop.run(bench_switchboard(args.concurrency, args.rounds, args.message, args.profile, core))
    if "model" in args.servers:
        first, pace = args.model_first_token_ms, args.model_token_ms
        rows += uvloop.run(bench_model(args.concurrency, args.rounds, first, pace, args.profile, args.pin))
    print_tables(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path; the project root serves better there (the
    # checkout's packages, and no sibling script can shadow a library).
    sys.path[0] = str(ROOT)
    main()
