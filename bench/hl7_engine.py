"""HL7 v2 throughput: parsing and validation, MLLP round trips, and routed messages end to end.

Rows (each a rate, higher is better):
  parse  python-hl7     `hl7.parse` alone (the raw library floor, no validation)
  parse  hl7apy         hl7apy `parse_message`, tolerant (what our parse stands on)
  parse  hl7apy strict  hl7apy strict parse with groups + `validate()`
  inspect               our `inspect`: normalise, summary, tolerant parse, strict validation (the API's path)
  mllp   1 connection   `MllpClient.send` round trips (message → ACK) on one persistent connection
  mllp   8 connections  the same with 8 clients in parallel
  routed                `POST /api/v1/messages` → delivered (outbox worker, MLLP, ACK recorded), in-process
                        ASGI client, SQLite by default (`--database-url postgresql://...` for PostgreSQL)

The MLLP receiver answers AA without validating, so the MLLP rows measure transport and ACK
correlation. Usage: `.venv/bin/python bench/hl7_engine.py [--seconds 2] [--routed 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path and `import hl7` would find this file.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import hl7  # noqa: E402
import httpx  # noqa: E402
from hl7apy.consts import VALIDATION_LEVEL  # noqa: E402
from hl7apy.parser import parse_message  # noqa: E402

from backend.config import Settings  # noqa: E402
from backend.db.migrate import upgrade  # noqa: E402
from backend.main import create_app  # noqa: E402
from tools.hl7.ack import build_ack  # noqa: E402
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
ORU = "\r".join(
    [
        "MSH|^~\\&|LAB|HOSP|EMR|HOSP|20250102080000||ORU^R01^ORU_R01|{cid}|P|2.5.1",
        "PID|1||55555^^^HOSP^MR||ROE^RICHARD^A||19500101|M",
        "ORC|RE|ORD448811|LAB9911",
        "OBR|1|ORD448811|LAB9911|80048^BASIC METABOLIC PANEL^CPT|||20250102070000",
        *[f"OBX|{i}|NM|2345-7^GLUCOSE^LN||{100 + i}|mg/dL|70-99|H|||F" for i in range(1, 9)],
        "NTE|1|L|Specimen slightly hemolyzed \\T\\ repeat advised",
    ]
)


def rate(work: Callable[[], Any], seconds: float) -> float:
    """Calls per second of a synchronous function, measured for about `seconds`."""
    work()  # warm caches (hl7apy loads its tables lazily)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - started)


def parse_rows(seconds: float) -> list[tuple[str, str, float]]:
    from tools.hl7.message import inspect

    rows = []
    for label, template in (("ADT^A01", ADT), ("ORU^R01 (8 OBX)", ORU)):
        text = template.format(cid="B1")
        rows += [
            ("parse python-hl7", label, rate(lambda t=text: hl7.parse(t), seconds)),
            ("parse hl7apy", label, rate(lambda t=text: parse_message(t), seconds)),
            (
                "parse hl7apy strict + validate",
                label,
                rate(
                    lambda t=text: parse_message(
                        t, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True
                    ).validate(),
                    seconds,
                ),
            ),
            ("inspect (ours: parse + validate)", label, rate(lambda t=text: inspect(t), seconds)),
        ]
    return rows


async def ack_only(message: str, peer: str) -> str:
    return build_ack(message, "AA")


async def mllp_rate(port: int, connections: int, seconds: float) -> float:
    clients = [MllpClient("127.0.0.1", port, timeout_s=10) for _ in range(connections)]
    sent = 0
    deadline = time.perf_counter() + seconds

    async def run(client: MllpClient, index: int) -> None:
        nonlocal sent
        n = 0
        while time.perf_counter() < deadline:
            result = await client.send(ADT.format(cid=f"M{index}-{n}"))
            assert result.accepted, result
            n += 1
            sent += 1

    started = time.perf_counter()
    await asyncio.gather(*(run(c, i) for i, c in enumerate(clients)))
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.close()
    return sent / elapsed


async def mllp_rows(seconds: float) -> list[tuple[str, str, float]]:
    listener = MllpListener(ack_only)
    port = await listener.start()
    try:
        await mllp_rate(port, 1, 0.2)  # warm up
        return [
            ("mllp send + ACK, 1 connection", "ADT^A01", await mllp_rate(port, 1, seconds)),
            ("mllp send + ACK, 8 connections", "ADT^A01", await mllp_rate(port, 8, seconds)),
        ]
    finally:
        await listener.stop()


async def routed_row(count: int, database_url: str | None) -> tuple[str, str, float]:
    listener = MllpListener(ack_only)
    port = await listener.start()
    with tempfile.TemporaryDirectory(prefix="sb-bench-hl7-") as tmp:
        settings = Settings(
            environment="test",
            database_url=database_url or f"sqlite+aiosqlite:///{tmp}/bench.db",
            data_dir=Path(tmp),
            secret_key="bench-secret-" + "x" * 40,  # type: ignore[arg-type]
            outbound_allowlist=["127.0.0.1/32"],
            rate_limit_default="1000000/minute",  # the bench measures the engine, not the rate limiter
            log_level="WARNING",
            _env_file=None,  # type: ignore[call-arg]
        )
        await asyncio.to_thread(upgrade, settings.resolved_database_url)
        app = create_app(settings)
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
            ):
                user = {"email": "bench@example.com", "username": "bench", "password": "correct horse battery"}
                await http.post("/api/v1/auth/register", json=user)
                login = await http.post("/api/v1/auth/login", json={"username": "bench", "password": user["password"]})
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                created = await http.post(
                    "/api/v1/integrations",
                    headers=headers,
                    json={
                        "name": "Bench LIS",
                        "integration_type": "hl7",
                        "config": {"host": "127.0.0.1", "port": port},
                    },
                )
                assert created.status_code == 201, created.text
                started = time.perf_counter()
                for i in range(count):
                    body = {"message": ADT.format(cid=f"R{i}"), "metadata": {"destination": ["Bench LIS"]}}
                    accepted = await http.post("/api/v1/messages", headers=headers, json=body)
                    assert accepted.status_code == 202, accepted.text
                while True:
                    page = await http.get("/api/v1/messages?status=delivered&size=1", headers=headers)
                    if page.json()["total"] >= count:
                        break
                    await asyncio.sleep(0.02)
                elapsed = time.perf_counter() - started
        finally:
            await listener.stop()
    backend = "PostgreSQL" if database_url else "SQLite"
    return (f"routed POST → delivered ({backend})", f"ADT^A01 x{count}", count / elapsed)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per rate row")
    parser.add_argument("--routed", type=int, default=200, help="messages for the end-to-end row")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL for the routed row (default SQLite)")
    args = parser.parse_args()
    rows = parse_rows(args.seconds) + await mllp_rows(args.seconds) + [await routed_row(args.routed, args.database_url)]
    print(f"| {'measurement':<36} | {'message':<16} | {'per second':>10} |")
    print(f"|{'-' * 38}|{'-' * 18}|{'-' * 12}|")
    for name, message, value in rows:
        print(f"| {name:<36} | {message:<16} | {value:>10,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
