"""Cross-EMR aggregation: wall time per request and throughput, with 1, 2 and 4 FHIR sources.

Each source is a sandbox instance (`tools.fhir.sandbox`) that adds `--latency-ms` (default 100) to every
request, served from a separate process so the sandboxes' CPU does not count against the aggregator.
For each source count it measures one request at a time (median of `--samples`), then `--requests`
aggregations at `--concurrency` (default 20), and prints a table. Loopback only; stops by itself.

    .venv/bin/python bench/aggregate.py [--sources 1 2 4] [--latency-ms 100] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.base import IntegrationContext  # noqa: E402
from tools.fhir.aggregate import aggregate_patient  # noqa: E402
from tools.fhir.connector import CONNECTOR  # noqa: E402
from tools.fhir.reader import PatientCriteria  # noqa: E402
from tools.fhir.sandbox import create_sandbox_app, sandbox_state  # noqa: E402
from tools.net import OutboundPolicy  # noqa: E402
from tools.sandbox_server import LoopbackServer, free_port  # noqa: E402

DATASETS = ("epic", "cerner")
QUERY = PatientCriteria(name="Harold Quimby", birthdate="1958-03-14")


def serve(ports: list[int], latency_ms: float) -> None:
    """Child process: one sandbox per port until killed."""

    async def main() -> None:
        servers = []
        for index, port in enumerate(ports):
            state = sandbox_state(DATASETS[index % 2], f"Source {index + 1}", latency_ms=latency_ms)  # type: ignore[arg-type]
            server = LoopbackServer(create_sandbox_app(state), port=port)
            await server.start()
            servers.append(server)
        await asyncio.Event().wait()

    asyncio.run(main())


async def wait_ready(ports: list[int]) -> None:
    async with httpx.AsyncClient() as http:
        for port in ports:
            for _ in range(200):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/metadata")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)


def contexts(ports: list[int]) -> list[IntegrationContext]:
    found = []
    for index, port in enumerate(ports):
        config, _ = CONNECTOR.validate({"base_url": f"http://127.0.0.1:{port}", "auth": "none"}, None)
        found.append(
            IntegrationContext(
                id=f"source-{index + 1}",
                name=f"Source {index + 1}",
                integration_type="emr",
                config=config,
                credentials=None,
                outbound=OutboundPolicy.from_entries(["127.0.0.1/32"]),
            )
        )
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), to tell the sandboxes' cost from ours."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(count: int, args: argparse.Namespace) -> dict[str, float]:
    sources = contexts(args.ports[:count])
    result = await aggregate_patient(sources, search=QUERY)
    assert result.status == "merged" and len(result.sources) == count and not result.failed_sources, result.message
    single = []
    for _ in range(args.samples):
        began = time.perf_counter()
        await aggregate_patient(sources, search=QUERY)
        single.append(time.perf_counter() - began)
    latencies: list[float] = []
    queue = list(range(args.requests))

    async def worker() -> None:
        while queue:
            queue.pop()
            began = time.perf_counter()
            await aggregate_patient(sources, search=QUERY)
            latencies.append(time.perf_counter() - began)

    began, cpu_began, sandbox_began = time.perf_counter(), time.process_time(), cpu_seconds(args.child_pid)
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - began
    cpu = (time.process_time() - cpu_began) / len(latencies)
    sandbox_cpu = (cpu_seconds(args.child_pid) - sandbox_began) / len(latencies)
    latencies.sort()
    return {
        "single_ms": statistics.median(single) * 1000,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "cpu_ms": cpu * 1000,
        "sandbox_cpu_ms": sandbox_cpu * 1000,
    }


async def run(args: argparse.Namespace) -> None:
    await wait_ready(args.ports)
    print(
        f"latency per FHIR request {args.latency_ms:g} ms · concurrency {args.concurrency} · {args.requests} requests"
    )
    columns = ["sources", "wall time, one at a time (median)", "requests/s at C", "p50 at C", "p95 at C"]
    columns += ["aggregator CPU/request", "sandboxes CPU/request"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for count in args.sources:
        row = await measure(count, args)
        cells = [
            f"{row['single_ms']:.0f} ms",
            f"{row['rps']:.1f}",
            f"{row['p50_ms']:.0f} ms",
            f"{row['p95_ms']:.0f} ms",
        ]
        cells += [f"{row['cpu_ms']:.0f} ms", f"{row['sandbox_cpu_ms']:.0f} ms"]
        print(f"| {count} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--samples", type=int, default=7)
    args = parser.parse_args()
    args.ports = [free_port() for _ in range(max(args.sources))]
    child = multiprocessing.get_context("spawn").Process(target=serve, args=(args.ports, args.latency_ms), daemon=True)
    child.start()
    args.child_pid = child.pid
    try:
        asyncio.run(run(args))
    finally:
        child.terminate()
        child.join(5)


if __name__ == "__main__":
    main()
