"""DNS rebinding between the guard's check and the connect (finding 4): every outbound client connects
to the very address the guard checked, so a name that answers differently the second time never
reaches what the second answer names.

The guard's lookups go through the policy's resolver hook (the "first answer": 127.0.0.2, allow-listed);
every other lookup in this process — the one an HTTP or socket library would make on its own — gets
the "second answer", 127.0.0.1, where an internal service listens on the same port. The connections
themselves are real sockets.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.conftest import asgi_client, running_app
from tools.net import IPAddress

NAME = "rebind.test"
CHECKED = "127.0.0.2"  # what the guard is told, and allows
INTERNAL = "127.0.0.1"  # what a second lookup is told: an internal service the allow-list does not open


class Listener:
    """Accepts and counts connections on one address, then hangs up."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(accepted, host, port)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def listeners() -> AsyncIterator[tuple[Listener, Listener, int]]:
    """The checked address and the internal one, on the same port (the URL names one port)."""
    for _ in range(20):
        checked, internal = Listener(), Listener()
        port = await checked.start(CHECKED, 0)
        try:
            await internal.start(INTERNAL, port)
        except OSError:
            await checked.stop()
            continue
        yield checked, internal, port
        await checked.stop()
        await internal.stop()
        return
    pytest.fail("no port free on both loopback addresses")


@pytest.fixture
def second_lookup_rebinds(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, (str, bytes)) and (host.decode() if isinstance(host, bytes) else host) == NAME:
            return real(INTERNAL, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)


async def first_answer(name: str, port: int | None) -> list[IPAddress]:
    assert name == NAME
    return [ipaddress.ip_address(CHECKED)]


async def _user(http: httpx.AsyncClient) -> dict[str, str]:
    body = {"email": "alice@example.com", "username": "alice", "password": "correct horse battery"}
    assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
    login = await http.post("/api/v1/auth/login", json={"username": "alice", "password": body["password"]})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_every_outbound_client_connects_to_the_checked_address(
    settings: Settings, listeners: tuple[Listener, Listener, int], second_lookup_rebinds: None
) -> None:
    checked, internal, port = listeners
    config = settings.model_copy(update={"outbound_allowlist": [CHECKED], "webhook_max_attempts": 1})
    async with running_app(config) as app, asgi_client(app) as http:
        ctx = app.state.ctx
        ctx.outbound = dataclasses.replace(ctx.outbound, resolver=first_answer)
        alice = await _user(http)
        base = f"http://{NAME}:{port}"
        bodies = {
            "jira": {
                "name": "jira",
                "integration_type": "jira",
                "config": {"base_url": base, "deployment": "cloud", "timeout_s": 2},
                "credentials": {"email": "a@example.com", "api_token": "t"},
            },
            "emr": {"name": "emr", "integration_type": "emr", "config": {"base_url": f"{base}/fhir", "timeout_s": 2}},
            "hl7": {"name": "lis", "integration_type": "hl7", "config": {"host": NAME, "port": port, "timeout_s": 2}},
        }
        reached: dict[str, int] = {}
        for kind, body in bodies.items():
            created = await http.post("/api/v1/integrations", json=body, headers=alice)
            assert created.status_code == 201, created.text
            before = checked.connections
            result = (await http.post(f"/api/v1/integrations/{created.json()['id']}/test", headers=alice)).json()
            assert result["ok"] is False  # the checked address hangs up: no real Jira, EMR or LIS there
            reached[kind] = checked.connections - before
        hook = await http.post(
            "/api/v1/webhooks", json={"name": "hook", "url": f"{base}/hook", "events": ["*"]}, headers=alice
        )
        assert hook.status_code == 201, hook.text
        before = checked.connections
        delivery = (await http.post(f"/api/v1/webhooks/{hook.json()['id']}/test", headers=alice)).json()
        assert delivery["status"] == "failed"
        reached["webhook"] = checked.connections - before
    assert internal.connections == 0, "a client resolved the name again and reached the internal service"
    assert all(reached.values()), reached  # each client did connect — to the address that was checked
