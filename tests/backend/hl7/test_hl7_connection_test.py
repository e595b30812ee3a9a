"""`POST /integrations/{id}/test` for hl7: clear, located failures for refused, timeout, TLS and NAK,
and a TLS success with the integration's private CA (a certificate the test makes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TestUser
from tests.tools.hl7.certificates import self_signed_certificate, server_context
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener
from tools.net import OutboundPolicy
from tools.sandbox_server import free_port


async def _test(
    client: httpx.AsyncClient, user: TestUser, port: int, *, tls: bool = False, ca: str | None = None
) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={
            "name": f"LIS {port}",
            "integration_type": "hl7",
            "config": {"host": "127.0.0.1", "port": port, "timeout_s": 1, "tls": tls},
            "credentials": {"tls_ca_pem": ca} if ca else None,
        },
    )
    assert created.status_code == 201, created.text
    response = await client.post(f"/api/v1/integrations/{created.json()['id']}/test", headers=user.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(autouse=True)
def loopback(app: Any) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """Accepts and reads, never answers."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()


def failed_step(result: dict[str, Any]) -> dict[str, Any]:
    assert result["ok"] is False
    return next(s for s in result["steps"] if not s["ok"])


async def test_refused(client: httpx.AsyncClient, alice: TestUser) -> None:
    result = await _test(client, alice, free_port())
    step = failed_step(result)
    assert step["name"] == "connect" and "Cannot connect" in step["detail"] and step["remediation"]
    assert result["error_code"] == "integration_unreachable"


async def test_no_ack_is_a_timeout(client: httpx.AsyncClient, alice: TestUser, silent_port: int) -> None:
    result = await _test(client, alice, silent_port)
    step = failed_step(result)
    assert step["name"] == "send test message" and "No ACK" in step["detail"]
    assert result["error_code"] == "integration_timeout"


async def test_tls_to_a_plain_port_says_tls(client: httpx.AsyncClient, alice: TestUser, silent_port: int) -> None:
    result = await _test(client, alice, silent_port, tls=True)
    step = failed_step(result)
    assert step["name"] == "connect" and "TLS" in step["detail"] and "TLS" in step["remediation"]


async def test_tls_with_and_without_the_private_ca(client: httpx.AsyncClient, alice: TestUser, tmp_path: Path) -> None:
    key_file, cert_file, pem = self_signed_certificate(tmp_path)
    listener = MllpListener(tls=server_context(key_file, cert_file))
    await listener.start()
    try:
        untrusted = await _test(client, alice, listener.port, tls=True)
        trusted = await _test(client, alice, listener.port, tls=True, ca=pem)
    finally:
        await listener.stop()
    step = failed_step(untrusted)
    assert step["name"] == "connect" and "TLS handshake" in step["detail"] and "certificate" in step["remediation"]
    assert trusted["ok"] is True and trusted["details"]["ack_code"] == "AA"
    assert "with TLS" in trusted["steps"][1]["detail"]


async def test_an_application_error_ack_is_reported_with_its_text(client: httpx.AsyncClient, alice: TestUser) -> None:
    async def refuse_queries(message: str, peer: str) -> str:
        return build_ack(message, "AE", "QRY not supported")

    listener = MllpListener(refuse_queries)
    await listener.start()
    try:
        result = await _test(client, alice, listener.port)
    finally:
        await listener.stop()
    # The receiver answered and correlated our control id: reachable, with an application error shown.
    assert result["details"]["ack_code"] == "AE"
    assert (
        "AE: Application Error" in result["steps"][-1]["detail"]
        and "QRY not supported" in result["steps"][-1]["detail"]
    )
