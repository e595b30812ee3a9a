"""Webhook targets: TLS unless the allow-list names the host; `name` optional (finding 14)."""

from __future__ import annotations

import httpx

from tests.backend.platform.receiver import Receiver
from tests.conftest import TestUser

PUBLIC_IP = "93.184.216.34"  # a public address: the SSRF guard allows it, so only the TLS rule decides


async def test_plain_http_is_refused_for_hosts_outside_the_allow_list(
    client: httpx.AsyncClient, alice: TestUser
) -> None:
    for url in (f"http://{PUBLIC_IP}/hook", f"http://{PUBLIC_IP}:8080/hook", "http://hooks.invalid/hook"):
        response = await client.post("/api/v1/webhooks", headers=alice.headers, json={"url": url, "events": ["hl7.*"]})
        assert response.status_code == 422, (url, response.text)
        assert response.json()["code"] == "https_required", url
    created = await client.post(
        "/api/v1/webhooks", headers=alice.headers, json={"url": f"https://{PUBLIC_IP}/hook", "events": ["hl7.*"]}
    )
    assert created.status_code == 201, created.text
    moved = await client.patch(
        f"/api/v1/webhooks/{created.json()['id']}", headers=alice.headers, json={"url": f"http://{PUBLIC_IP}/x"}
    )
    assert moved.status_code == 422 and moved.json()["code"] == "https_required"


async def test_seed_003_client_creates_a_webhook_with_url_and_events_only(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    response = await client.post(
        "/api/v1/webhooks", headers=alice.headers, json={"url": f"https://{PUBLIC_IP}/hook", "events": ["hl7.*"]}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == PUBLIC_IP
    # An allow-listed receiver (127.0.0.1 here) may use plain http, as on the operator's own network.
    local = await client.post(
        "/api/v1/webhooks", headers=alice.headers, json={"url": receiver.url, "events": ["hl7.*"]}
    )
    assert local.status_code == 201 and local.json()["name"] == "127.0.0.1"
    named = await client.post(
        "/api/v1/webhooks", headers=alice.headers, json={"name": "  ops  ", "url": receiver.url, "events": ["hl7.*"]}
    )
    assert named.json()["name"] == "ops"
