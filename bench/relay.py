"""The chat relay's CPU cost per streamed token (Redis on), measured in-process without the agent.

S sessions stream T token frames each through a real `StreamHub` (one local subscriber per session,
as a connected socket), one token per session per event-loop turn (or every `--interval-ms`, as a
hosted model streams), like S concurrent turns. Once with the hub alone (no `REDIS_URL`: the relay
is not loaded) and once with the relay hooked in against a real Redis (its batched XADD + PUBLISH
included); prints process CPU µs per token for each and the difference: the relay's cost. Needs
Redis (`REDIS_URL`, default redis://127.0.0.1:6379/0); keys go under a throwaway prefix and are
deleted.

Usage: `python bench/relay.py [--sessions 1 50] [--tokens 240] [--rounds 5] [--interval-ms 20]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from backend.chat.hub import RunningTurn, StreamHub
from backend.chat.relay import ChatRelay


async def stream(hub: StreamHub, relay: ChatRelay | None, sessions: int, tokens: int, interval: float) -> float:
    """CPU seconds to stream `tokens` frames in each of `sessions` sessions (and relay them)."""
    keys = [str(uuid.uuid4()) for _ in range(sessions)]
    subscriptions = []
    for key in keys:
        stream = hub.ensure(key, 1)
        stream.run = RunningTurn(run_id=uuid.uuid4().hex)
        subscriptions.append(hub.subscribe(key, 1)[0])
        if relay is not None:
            await relay.claim(key, "bench-user")
    message_id = str(uuid.uuid4())
    started = time.process_time()
    for index in range(tokens):
        for key in keys:
            run = hub.running(key)
            assert run is not None
            hub.publish_token(key, run.run_id, "word ", index, message_id)
        for subscription in subscriptions:  # the sockets' writers drain their queues
            while not subscription.queue.empty():
                subscription.queue.get_nowait()
        await asyncio.sleep(interval)
    if relay is not None:
        await asyncio.gather(*(relay.finish(key, []) for key in keys))
        for _ in range(1000):  # wait for the last batch: its cost counts too
            if not (relay._pending or relay._releases):
                break
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
    return time.process_time() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--tokens", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=5, help="runs per row; the table shows medians")
    parser.add_argument(
        "--interval-ms", type=float, default=0, help="pause between tokens (0: offline model; ~20: an LLM)"
    )
    args = parser.parse_args()
    interval = args.interval_ms / 1000
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"sbbench-relay-{uuid.uuid4().hex[:8]}"
    commands = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    print(f"{'sessions':>8} {'hub µs/tok':>11} {'+relay µs/tok':>14} {'relay cost':>11}")
    try:
        for sessions in args.sessions:
            bare, relayed = [], []
            for _ in range(args.rounds):
                count = sessions * args.tokens
                bare.append(await stream(StreamHub(), None, sessions, args.tokens, interval) / count * 1e6)
                hub = StreamHub()
                relay = ChatRelay(commands, Redis.from_url(url, socket_connect_timeout=2), hub, prefix)
                await relay.start()
                hub.on_publish = relay.on_frame
                try:
                    relayed.append(await stream(hub, relay, sessions, args.tokens, interval) / count * 1e6)
                finally:
                    await relay.stop()
            b, r = statistics.median(bare), statistics.median(relayed)
            print(f"{sessions:>8} {b:>11.1f} {r:>14.1f} {r - b:>11.1f}")
    finally:
        async for key in commands.scan_iter(f"{prefix}:*"):
            await commands.delete(key)
        await commands.aclose()


if __name__ == "__main__":
    asyncio.run(main())
