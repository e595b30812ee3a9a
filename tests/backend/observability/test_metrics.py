"""`GET /metrics`: Prometheus text with request counts by route template, state gauges, optional token."""

from __future__ import annotations

import uuid

import httpx
from pydantic import SecretStr

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser, asgi_client, running_app


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the exposition text, or None when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, alice: TestUser) -> None:
    for _ in range(3):
        missing = await client.get(f"/api/v1/integrations/{uuid.uuid4()}", headers=alice.headers)
        assert missing.status_code == 404

    scraped = await client.get("/metrics")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    count = _sample(
        text, "switchboard_http_requests_total", route="/api/v1/integrations/{integration_id}", status="404"
    )
    assert count == 3
    assert "/api/v1/integrations/" + "0" not in text  # raw ids never become labels
    assert _sample(text, "switchboard_http_request_duration_seconds_count", method="GET") is not None
    assert _sample(text, "switchboard_websocket_connections") == 0
    assert _sample(text, "switchboard_chat_runs_active") == 0
    assert _sample(text, "switchboard_hl7_outbox_depth", status="queued") == 0


async def test_metrics_token_when_configured(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("scrape-me-please")})
    async with running_app(guarded) as application, asgi_client(application) as http:
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})

    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "switchboard_http_requests_total" in right.text


ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG900|P|2.5.1\nPID|1||12345^^^HOSP^MR||DOE^JANE"


async def test_metrics_count_turns_tokens_and_tool_calls(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    created = await client.post(
        "/api/v1/chat/sessions", json={"message": "Explain this message:\n" + ADT}, headers=alice.headers
    )
    socket = await ChatSocket.open(live_server, created.json()["session_id"], alice.access_token)
    frames = await socket.until_type("final")
    await socket.close()
    streamed = len(of_type(frames, "token"))

    text = (await client.get("/metrics")).text

    assert _sample(text, "switchboard_chat_turns_total", finish_reason="stop") == 1
    assert _sample(text, "switchboard_chat_tokens_total") == streamed
    assert _sample(text, "switchboard_tool_calls_total", outcome="completed") == 1
