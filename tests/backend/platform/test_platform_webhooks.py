"""Webhooks: signed deliveries checked by an independent receiver, retries, auto-disable, the log, SSRF."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from backend.config import Settings
from backend.models.webhook import WebhookDelivery
from tests.backend.platform.receiver import Receiver
from tests.conftest import TestUser, asgi_client, running_app

HL7 = {"name": "Lab feed", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": 2575}}


async def make_webhook(
    client: httpx.AsyncClient, user: TestUser, receiver: Receiver, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks",
        headers=user.headers,
        json={"name": "ops", "url": receiver.url, "events": events or ["integration.*"]},
    )
    assert response.status_code == 201, response.text
    body = dict(response.json())
    receiver.secret = body["secret"]
    return body


async def deliveries(client: httpx.AsyncClient, user: TestUser, webhook_id: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def wait_until(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_events_are_delivered_signed_and_logged(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    webhook = await make_webhook(client, alice, receiver)
    assert webhook["secret"].startswith("whsec_")
    shown = (await client.get(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers)).json()
    assert "secret" not in shown and shown["is_active"] is True

    created = (await client.post("/api/v1/integrations", headers=alice.headers, json=HL7)).json()
    [hit] = await receiver.wait_for(1)
    assert hit.signature_ok, hit.headers
    assert hit.headers["x-switchboard-event"] == "integration.created"
    assert abs(int(hit.headers["x-switchboard-timestamp"]) - time.time()) < 60
    assert hit.json["event"] == "integration.created" and hit.json["data"]["id"] == created["id"]
    assert hit.json["data"]["name"] == "Lab feed" and "credentials" not in hit.json["data"]
    assert hit.json["timestamp"].endswith("Z")

    async def delivered() -> dict[str, Any] | None:
        page = await deliveries(client, alice, webhook["id"])
        return page if page["items"] and page["items"][0]["status"] == "delivered" else None

    page = await wait_until(delivered)
    item = page["items"][0]
    assert item["id"] == hit.headers["x-switchboard-delivery"]
    assert item["response_code"] == 200 and item["attempts"] == 1 and item["duration_ms"] >= 0
    assert item["error"] is None and item["event"] == "integration.created"

    # A tampered body or another secret does not verify: the receiver's check is real.
    assert not receiver.verify(hit.headers, hit.body + b" ")
    receiver.secret = "whsec_other"
    assert not receiver.verify(hit.headers, hit.body)


async def test_test_endpoint_sends_now_and_reports_the_outcome(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    webhook = await make_webhook(client, alice, receiver)
    result = await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=alice.headers)
    assert result.status_code == 200, result.text
    assert result.json()["status"] == "delivered" and result.json()["response_code"] == 200
    assert receiver.received[0].signature_ok and receiver.received[0].json["event"] == "webhook.test"

    receiver.always_fail = True
    failed = (await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=alice.headers)).json()
    assert failed["status"] == "failed" and failed["response_code"] == 500 and "HTTP 500" in failed["error"]
    after = (await client.get(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers)).json()
    assert after["consecutive_failures"] == 0  # test sends do not count toward auto-disable
    assert (await deliveries(client, alice, webhook["id"], event="webhook.test"))["total"] == 2


async def test_a_failing_receiver_is_retried_until_it_recovers(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    webhook = await make_webhook(client, alice, receiver)
    await client.post("/api/v1/integrations", headers=alice.headers, json=HL7)
    hits = await receiver.wait_for(3)
    assert [h.status_sent for h in hits] == [500, 500, 200]
    assert len({h.headers["x-switchboard-delivery"] for h in hits}) == 1  # the same delivery, re-sent
    assert all(h.signature_ok for h in hits)

    async def delivered() -> dict[str, Any] | None:
        page = await deliveries(client, alice, webhook["id"])
        return page["items"][0] if page["items"][0]["status"] == "delivered" else None

    item = await wait_until(delivered)
    assert item["attempts"] == 3 and item["response_code"] == 200
    shown = (await client.get(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers)).json()
    assert shown["consecutive_failures"] == 0


async def test_ten_consecutive_failures_disable_the_webhook(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    receiver.always_fail = True
    receiver.failure_status = 503
    webhook = await make_webhook(client, alice, receiver)
    await client.post("/api/v1/integrations", headers=alice.headers, json=HL7)

    async def disabled() -> dict[str, Any] | None:
        shown = (await client.get(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers)).json()
        return shown if not shown["is_active"] else None

    shown = await wait_until(disabled, timeout=20)
    assert shown["consecutive_failures"] == 10 and "10 consecutive" in shown["disabled_reason"]
    assert len(receiver.received) == 10
    item = (await deliveries(client, alice, webhook["id"]))["items"][0]
    assert item["status"] == "failed" and item["attempts"] == 10 and item["response_code"] == 503

    # Disabled: new events are not queued for it; re-enabling resets the count.
    await client.post("/api/v1/integrations", headers=alice.headers, json={**HL7, "name": "Second"})
    await asyncio.sleep(0.3)
    assert len(receiver.received) == 10
    receiver.always_fail = False
    enabled = await client.patch(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers, json={"is_active": True})
    assert enabled.json()["is_active"] and enabled.json()["consecutive_failures"] == 0
    assert enabled.json()["disabled_reason"] is None
    await client.post("/api/v1/integrations", headers=alice.headers, json={**HL7, "name": "Third"})
    assert (await receiver.wait_for(11))[-1].status_sent == 200


async def test_redirects_are_not_followed(client: httpx.AsyncClient, alice: TestUser, receiver: Receiver) -> None:
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    webhook = await make_webhook(client, alice, receiver)
    result = (await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=alice.headers)).json()
    assert result["status"] == "failed" and result["response_code"] == 302
    assert "redirects are not followed" in result["error"]
    assert len(receiver.received) == 1


async def test_webhooks_only_receive_events_their_owner_may_see(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    alice_receiver, bob_receiver = Receiver().start(), Receiver().start()
    try:
        await make_webhook(client, alice, alice_receiver)
        await make_webhook(client, bob, bob_receiver)
        await client.post("/api/v1/integrations", headers=alice.headers, json={**HL7, "name": "Alice private"})
        await client.post(
            "/api/v1/integrations", headers=admin.headers, json={**HL7, "name": "Shared", "visibility": "shared"}
        )
        await alice_receiver.wait_for(2)
        await bob_receiver.wait_for(1)
        await asyncio.sleep(0.3)
        assert sorted(h.json["data"]["name"] for h in alice_receiver.received) == ["Alice private", "Shared"]
        assert [h.json["data"]["name"] for h in bob_receiver.received] == ["Shared"]
    finally:
        alice_receiver.stop()
        bob_receiver.stop()


async def test_crud_validation_ownership_and_pagination(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser, receiver: Receiver
) -> None:
    for body in [
        {"name": "x", "url": "ftp://example.com/hook", "events": ["hl7.*"]},
        {"name": "x", "url": receiver.url, "events": []},
        {"name": "x", "url": receiver.url, "events": ["nothing.matches"]},
        {"name": "x", "url": receiver.url, "events": ["hl7.*; DROP"]},
        {"name": "x", "url": receiver.url, "events": ["hl7.*"], "secret": "mine"},
    ]:
        response = await client.post("/api/v1/webhooks", headers=alice.headers, json=body)
        assert response.status_code == 422 and response.json()["code"] == "validation_error", body

    webhook = await make_webhook(client, alice, receiver, ["hl7.*", "integration.tested"])
    assert webhook["events"] == ["hl7.*", "integration.tested"]
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"/api/v1/webhooks/{webhook['id']}", headers=bob.headers, json={})
        assert response.status_code == 404
    assert (await client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=bob.headers)).status_code == 404
    assert (await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=bob.headers)).status_code == 404

    for _ in range(3):
        await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=alice.headers)
    page = await deliveries(client, alice, webhook["id"], page=2, size=2)
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 1
    assert (await deliveries(client, alice, webhook["id"], status="failed"))["total"] == 0

    patched = await client.patch(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers, json={"name": "renamed"})
    assert patched.json()["name"] == "renamed"
    assert (await client.delete(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"/api/v1/webhooks/{webhook['id']}", headers=alice.headers)).status_code == 404


async def test_private_targets_are_refused_without_an_allow_list(settings: Settings) -> None:
    async with running_app(settings) as app, asgi_client(app) as http:
        account = {"email": "owner@example.com", "username": "owner", "password": "correct horse"}
        await http.post("/api/v1/auth/register", json=account)
        token = (await http.post("/api/v1/auth/login", json={"username": "owner", "password": "correct horse"})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for url in ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/", "http://[::1]/x"]:
            response = await http.post(
                "/api/v1/webhooks", headers=headers, json={"name": "x", "url": url, "events": ["hl7.*"]}
            )
            assert response.status_code == 422 and response.json()["code"] == "outbound_blocked", url


async def test_chat_turns_announce_approvals_to_the_owner(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    await make_webhook(client, alice, receiver, ["approval.required", "chat.*"])
    lab = {"name": "Lab LIS", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": 9}}
    assert (await client.post("/api/v1/integrations", headers=alice.headers, json=lab)).status_code == 201
    adt = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|AP1|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
    chat = (await client.post("/api/v1/chat/sessions", headers=alice.headers, json={"message": "hello"})).json()
    paused = await client.post(
        f"/api/v1/chat/sessions/{chat['session_id']}/messages",
        headers=alice.headers,
        json={"message": f"Please send this to Lab LIS:\n{adt}"},
    )
    assert paused.status_code == 409 and paused.json()["code"] == "approval_required", paused.text
    hits = await receiver.wait_for(2)  # the answer to "hello", then the paused turn
    assert [h.json["event"] for h in hits] == ["chat.message.completed", "approval.required"]
    hit = hits[1]
    assert hit.signature_ok
    data = hit.json["data"]
    assert data["session_id"] == chat["session_id"] and data["tool_name"] == "lab_lis__send"
    assert data["tool_call_id"] and data["allowed_decisions"] == ["approve", "edit", "reject"]


async def test_old_finished_deliveries_are_pruned_and_webhooks_are_capped(
    app: Any, client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    webhook = await make_webhook(client, alice, receiver)
    for _ in range(2):
        await client.post(f"/api/v1/webhooks/{webhook['id']}/test", headers=alice.headers)
    ctx = app.state.ctx
    async with ctx.db.session() as session:
        oldest = (await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))).first()
        assert oldest is not None
        oldest.created_at = datetime.now(UTC) - timedelta(days=31)
    assert await ctx.extras["webhook_worker"].prune() == 1
    assert (await deliveries(client, alice, webhook["id"]))["total"] == 1

    for index in range(49):
        body = {"name": f"hook {index}", "url": receiver.url, "events": ["hl7.*"]}
        assert (await client.post("/api/v1/webhooks", headers=alice.headers, json=body)).status_code == 201
    over = await client.post(
        "/api/v1/webhooks", headers=alice.headers, json={"name": "one more", "url": receiver.url, "events": ["hl7.*"]}
    )
    assert over.status_code == 409 and over.json()["code"] == "limit_reached"
