"""Webhooks carry ids and summaries, never patient data, unless an admin marked one `allow_phi` (finding 9)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.backend.platform.receiver import Receiver
from tests.conftest import TestUser

PATIENT = "QUIMBY^HAROLD"
MRN = "778899"
ADT = f"MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|PHI1|P|2.5.1\rPID|1||{MRN}^^^HOSP^MR||{PATIENT}||19580314|M"
LAB = {"name": "Lab LIS", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": 9}}


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


async def _pause_on_an_hl7_send(client: httpx.AsyncClient, user: TestUser) -> None:
    chat = (await client.post("/api/v1/chat/sessions", headers=user.headers, json={"message": "hello"})).json()
    paused = await client.post(
        f"/api/v1/chat/sessions/{chat['session_id']}/messages",
        headers=user.headers,
        json={"message": f"Please send this to Lab LIS:\n{ADT}"},
    )
    assert paused.status_code == 409 and paused.json()["code"] == "approval_required", paused.text


async def test_deliveries_carry_no_patient_data_by_default(
    client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    hook = await client.post(
        "/api/v1/webhooks", headers=alice.headers, json={"url": receiver.url, "events": ["approval.required", "chat.*"]}
    )
    assert hook.status_code == 201 and hook.json()["allow_phi"] is False
    assert (await client.post("/api/v1/integrations", headers=alice.headers, json=LAB)).status_code == 201
    await _pause_on_an_hl7_send(client, alice)
    hits = await receiver.wait_for(2)
    assert [h.json["event"] for h in hits] == ["chat.message.completed", "approval.required"]
    for hit in hits:
        assert PATIENT not in hit.body.decode() and MRN not in hit.body.decode() and "QUIMBY" not in hit.body.decode()
    completed, approval = (h.json["data"] for h in hits)
    assert "content" not in completed and completed["content_length"] > 0 and completed["message_id"]
    assert "args" not in approval and "description" not in approval
    assert approval["tool_name"] == "lab_lis__send" and approval["tool_call_id"]
    # The stored delivery log holds what was sent: no patient data at rest either.
    log = await client.get(f"/api/v1/webhooks/{hook.json()['id']}/deliveries", headers=alice.headers)
    assert PATIENT not in log.text


async def test_only_an_admin_allows_phi_audited_and_a_new_url_clears_it(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, receiver: Receiver, second_receiver: Receiver
) -> None:
    refused = await client.post(
        "/api/v1/webhooks",
        headers=alice.headers,
        json={"url": receiver.url, "events": ["approval.required"], "allow_phi": True},
    )
    assert refused.status_code == 403 and refused.json()["code"] == "phi_requires_admin"
    own = await client.post("/api/v1/webhooks", headers=alice.headers, json={"url": receiver.url, "events": ["*"]})
    patched = await client.patch(
        f"/api/v1/webhooks/{own.json()['id']}", headers=alice.headers, json={"allow_phi": True}
    )
    assert patched.status_code == 403 and patched.json()["code"] == "phi_requires_admin"

    hook = await client.post(
        "/api/v1/webhooks",
        headers=admin.headers,
        json={"url": receiver.url, "events": ["approval.required"], "allow_phi": True},
    )
    assert hook.status_code == 201 and hook.json()["allow_phi"] is True
    receiver.secret = hook.json()["secret"]
    assert (await client.post("/api/v1/integrations", headers=admin.headers, json=LAB)).status_code == 201
    await _pause_on_an_hl7_send(client, admin)
    [hit] = await receiver.wait_for(1)
    assert hit.signature_ok and MRN in hit.json["data"]["args"]["message"]  # the receiver the admin vouched for

    audit = (await client.get("/api/v1/audit", headers=admin.headers, params={"action": "webhook.phi_*"})).json()
    assert [e["action"] for e in audit["items"]] == ["webhook.phi_allowed"]
    moved = await client.patch(
        f"/api/v1/webhooks/{hook.json()['id']}", headers=admin.headers, json={"url": second_receiver.url}
    )
    assert moved.json()["allow_phi"] is False  # vouching was for the old receiver
    audit = (await client.get("/api/v1/audit", headers=admin.headers, params={"action": "webhook.phi_*"})).json()
    assert sorted(e["action"] for e in audit["items"]) == ["webhook.phi_allowed", "webhook.phi_revoked"]
