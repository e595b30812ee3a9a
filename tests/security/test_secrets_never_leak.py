"""Planted secrets never come back: not in any API response (except the one create response that
shows an API key or webhook secret by contract), not in any log record — raw, before redaction.

The connected systems answer 401 with an error body, so every error path (connection tests, chat
tools, webhook deliveries) runs with the planted credentials in flight."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import UserFactory
from tests.security.conftest import marker
from tests.security.servers import LoopbackHttp


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def refusing() -> Iterator[LoopbackHttp]:
    """A Jira / FHIR / webhook receiver that refuses everything with a 401."""
    server = LoopbackHttp(status=401, body=b'{"errorMessages": ["Unauthorized"], "error": "invalid_client"}').start()
    yield server
    server.stop()


class Recorder:
    """Every response body the client saw, with the request that produced it."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, str]] = []

    async def __call__(self, response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            body = (await response.aread()).decode("utf-8", "replace")
        else:
            body = (await response.aread()).decode("utf-8", "replace")
        self.responses.append((f"{response.request.method} {response.request.url.path}", body))


async def test_planted_secrets_never_appear_in_responses_or_logs(
    base_url: str, make_user: UserFactory, refusing: LoopbackHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    password = marker("password")
    jira_token = marker("jira-token")
    fhir_secret = marker("fhir-client-secret")
    fhir_password = marker("fhir-password")
    pem = _private_key_pem()
    pem_line = pem.splitlines()[5]  # a line from the middle of the key body
    planted = {
        "password": password,
        "jira api token": jira_token,
        "jira basic auth": base64.b64encode(f"owner@example.com:{jira_token}".encode()).decode(),
        "fhir client secret": fhir_secret,
        "fhir client basic auth": base64.b64encode(f"sb-client:{fhir_secret}".encode()).decode(),
        "fhir password": fhir_password,
        "fhir basic auth": base64.b64encode(f"clinician:{fhir_password}".encode()).decode(),
        "private key": pem_line,
    }
    shown_once: dict[str, str] = {}  # secret -> the one request line allowed to show it

    async with httpx.AsyncClient(base_url=base_url, timeout=30, event_hooks={"response": [recorder]}) as http:
        await make_user("admin")
        body = {"email": "o@example.com", "username": "owner", "password": password}
        assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
        assert (
            await http.post("/api/v1/auth/login", json={"username": "owner", "password": password + "!"})
        ).status_code == 401
        login = await http.post("/api/v1/auth/login", json={"username": "owner", "password": password})
        tokens = login.json()
        me = {"Authorization": f"Bearer {tokens['access_token']}"}

        integrations: dict[str, Any] = {
            "jira": {
                "config": {"base_url": refusing.url, "deployment": "cloud", "default_project": "OPS"},
                "credentials": {"email": "owner@example.com", "api_token": jira_token},
            },
            "emr-secret": {
                "config": {
                    "base_url": refusing.url + "/fhir",
                    "auth": "client_credentials",
                    "client_id": "sb-client",
                    "token_url": refusing.url + "/token",
                },
                "credentials": {"client_secret": fhir_secret},
            },
            "emr-basic": {
                "config": {"base_url": refusing.url + "/fhir", "auth": "basic", "username": "clinician"},
                "credentials": {"password": fhir_password},
            },
            "emr-key": {
                "config": {
                    "base_url": refusing.url + "/fhir",
                    "auth": "smart_backend",
                    "client_id": "sb-client",
                    "token_url": refusing.url + "/token",
                },
                "credentials": {"private_key_pem": pem, "key_id": "k1"},
            },
        }
        ids = []
        for name, spec in integrations.items():
            kind = "jira" if name == "jira" else "emr"
            created = await http.post(
                "/api/v1/integrations", json={"name": name, "integration_type": kind, **spec}, headers=me
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        for integration_id in ids:
            assert (await http.get(f"/api/v1/integrations/{integration_id}", headers=me)).status_code == 200
            test = await http.post(f"/api/v1/integrations/{integration_id}/test", headers=me)
            assert test.status_code == 200 and test.json()["ok"] is False, test.text
            await http.patch(f"/api/v1/integrations/{integration_id}", json={"description": "checked"}, headers=me)
            await http.post(
                f"/api/v1/integrations/{integration_id}/patients/search", json={"criteria": {"name": "doe"}}, headers=me
            )
        await http.get("/api/v1/integrations", headers=me)

        key = await http.post(
            "/api/v1/api-keys", json={"name": "ci", "scopes": ["chat", "integrations:read"]}, headers=me
        )
        planted["api key"] = key.json()["key"]
        shown_once[planted["api key"]] = "POST /api/v1/api-keys"
        by_key = {"X-API-Key": planted["api key"]}
        assert (await http.get("/api/v1/integrations", headers=by_key)).status_code == 200
        assert (await http.get("/api/v1/api-keys", headers=by_key)).status_code == 403
        await http.get("/api/v1/api-keys", headers=me)
        await http.get(f"/api/v1/api-keys/{key.json()['id']}", headers=me)
        await http.get("/api/v1/integrations", headers={"X-API-Key": planted["api key"] + "x"})

        hook = await http.post(
            "/api/v1/webhooks", json={"name": "ops", "url": refusing.url + "/hook", "events": ["*"]}, headers=me
        )
        planted["webhook secret"] = hook.json()["secret"]
        shown_once[planted["webhook secret"]] = "POST /api/v1/webhooks"
        hook_id = hook.json()["id"]
        await http.post(f"/api/v1/webhooks/{hook_id}/test", headers=me)
        await http.get(f"/api/v1/webhooks/{hook_id}", headers=me)
        await http.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=me)
        await http.get("/api/v1/webhooks", headers=me)

        # Chat: the offline model calls the Jira tools, which fail against the refusing server.
        chat = await http.post("/api/v1/chat/sessions", json={"message": "hi"}, headers=me)
        session_id = chat.json()["session_id"]
        for text in ("show my open jira issues", "search jira for login bugs"):
            turn = await http.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"message": text}, headers=me)
            assert turn.status_code == 200, turn.text
        messages = await http.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=me)
        assert any(m["role"] == "tool" for m in messages.json()["items"]), "no tool ran: the chat flow proves nothing"
        await http.get(f"/api/v1/chat/sessions/{session_id}/events", headers=me)
        await http.get(f"/api/v1/chat/sessions/{session_id}/export", headers=me)
        await http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        await http.get("/api/v1/audit", headers=me)  # the owner is not the admin here: 403, still checked

    assert refusing.hits, "the connectors never reached the refusing server"
    leaks = []
    for line, body in recorder.responses:
        for what, value in planted.items():
            if value in body and shown_once.get(value) != line:
                leaks.append(f"{what} in the response to {line}")
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for what, value in planted.items():
            if value in text:
                leaks.append(f"{what} in a log record of {record.name}: {text[:200]}")
    assert leaks == []
    assert len(recorder.responses) > 30 and len(caplog.records) > 30
