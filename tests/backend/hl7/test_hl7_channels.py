"""Channels end to end over real MLLP: the REST resource, routing by each filter field, each transform
operation, `filtered` messages, inbound routing, channel validation, negative ACK policy, events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.config import Settings
from backend.models.audit import AuditEvent
from tests.backend.hl7.test_hl7_routing import ADT, _channel, _destination, _submit, _until, fast
from tests.conftest import TestUser, asgi_client, running_app
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpClient, MllpListener

ORU = "MSH|^~\\&|LABSYS|MAIN|EMR|HOSP|20250101120000||ORU^R01|{cid}|P|2.3\rPID|1||777^^^HOSP^MR||ROE^RICHARD"
A08 = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A08|{cid}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
# PID-19 (SSN) set, so the delete step has something to remove.
ADT_SSN = ADT + "||||||||||||||123-45-6789"


class Receiver:
    """An MLLP receiver that records each message and answers with `code` (AA unless told)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.code = "AA"
        self.listener = MllpListener(self.handle)

    async def handle(self, message: str, peer: str) -> str:
        self.messages.append(message)
        return build_ack(message, self.code)  # type: ignore[arg-type]

    def control_ids(self) -> list[str]:
        return [m.split("\r")[0].split("|")[9] for m in self.messages]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.listener.start()
    yield r
    await r.listener.stop()


async def _audit_actions(app: Any) -> list[str]:
    async with app.state.ctx.db.session() as session:
        return list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.created_at)))


async def test_channel_crud_with_defaults_validation_and_audit(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port, "Demo HL7 receiver")
    minimal = {
        "name": "ADT feed",
        "sources": ["api", "mllp"],
        "filter": {"message_types": ["ADT^*"]},
        "destinations": ["Demo HL7 receiver"],
    }
    created = await client.post("/api/v1/hl7/channels", headers=admin.headers, json=minimal)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] and body["enabled"] is True and body["ordering"] == "fifo"
    assert body["validation"] == "off" and body["on_negative_ack"] == "retry" and body["transform"] == []
    assert body["destinations"] == ["Demo HL7 receiver"] and body["destination_details"][0]["id"]
    assert body["filter"] == {
        "message_types": ["ADT^*"],
        "sending_applications": [],
        "sending_facilities": [],
        "versions": [],
    }
    # By id works as well as by name; the same name twice is a conflict.
    by_id = {**minimal, "name": "by id", "destinations": [body["destination_details"][0]["id"]]}
    assert (await client.post("/api/v1/hl7/channels", headers=admin.headers, json=by_id)).status_code == 201
    again = await client.post("/api/v1/hl7/channels", headers=admin.headers, json=minimal)
    assert again.status_code == 409 and again.json()["code"] == "channel_exists"

    assert (await client.post("/api/v1/hl7/channels", headers=alice.headers, json=minimal)).status_code == 403
    assert (await client.get("/api/v1/hl7/channels", headers=alice.headers)).status_code == 403
    unknown = await client.post(
        "/api/v1/hl7/channels", headers=admin.headers, json={**minimal, "name": "x", "destinations": ["Nowhere"]}
    )
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_destination"
    for bad in (
        {"filter": {"message_types": ["ADT|A01"]}},
        {"transform": [{"set": "PID-3.1"}]},  # no value
        {"transform": [{"set": "MSH-2", "value": "x"}]},  # the delimiters themselves
        {"transform": [{"copy": "PID-3", "to": "not a path"}]},
        {"sources": ["ftp"]},
        {"ordering": "random"},
    ):
        response = await client.post(
            "/api/v1/hl7/channels", headers=admin.headers, json={**minimal, "name": "y", **bad}
        )
        assert response.status_code == 422, (bad, response.text)

    patched = await client.patch(f"/api/v1/hl7/channels/{body['id']}", headers=admin.headers, json={"enabled": False})
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert patched.json()["filter"]["message_types"] == ["ADT^*"]  # untouched fields stay
    listed = (await client.get("/api/v1/hl7/channels", headers=admin.headers)).json()
    assert [c["name"] for c in listed] == ["ADT feed", "by id"]
    assert (await client.delete(f"/api/v1/hl7/channels/{body['id']}", headers=admin.headers)).status_code == 204
    assert (await client.get(f"/api/v1/hl7/channels/{body['id']}", headers=admin.headers)).status_code == 404
    actions = await _audit_actions(app)
    assert actions.count("hl7.channel.created") == 2
    assert "hl7.channel.updated" in actions and "hl7.channel.deleted" in actions


async def _delivered_ids(client: httpx.AsyncClient, user: TestUser, ids: list[str]) -> None:
    for mid in ids:
        await _until(client, user, mid, "delivered")


@pytest.mark.parametrize(
    ("filter_spec", "taken", "left"),
    [
        ({"message_types": ["ADT^A0*"]}, ADT, ORU),
        ({"message_types": ["ORU"]}, ORU, ADT),
        ({"sending_applications": ["lab*"]}, ORU, ADT),
        ({"sending_facilities": ["HOSP"]}, ADT, ORU),
        ({"versions": ["2.5.1"]}, ADT, ORU),
    ],
    ids=["message_types", "type-without-trigger", "sending_applications", "sending_facilities", "versions"],
)
async def test_each_filter_field_routes_what_it_matches_and_filters_the_rest(
    app: Any,
    client: httpx.AsyncClient,
    admin: TestUser,
    alice: TestUser,
    receiver: Receiver,
    filter_spec: dict[str, list[str]],
    taken: str,
    left: str,
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    channel = await _channel(client, admin, sources=["api"], filter=filter_spec)
    routed = await _submit(client, alice, "T1", None, taken)
    assert routed.status_code == 202, routed.text
    assert routed.json()["status"] == "accepted" and routed.json()["channels"] == ["all"]
    done = await _until(client, alice, routed.json()["message_id"], "delivered")
    assert done["channels"] == ["all"] and done["destinations"][0]["channel_id"] == channel["id"]
    assert done["destinations"][0]["ordering"] == "fifo"

    skipped = await _submit(client, alice, "T2", None, left)
    assert skipped.status_code == 202 and skipped.json()["status"] == "filtered"
    assert skipped.json()["destinations"] == []
    stored = (await client.get(f"/api/v1/messages/{skipped.json()['message_id']}", headers=alice.headers)).json()
    assert stored["status"] == "filtered" and stored["destinations"] == []
    assert receiver.control_ids() == ["T1"]


async def test_transform_set_copy_delete_apply_in_order_to_what_is_sent_not_what_is_stored(
    app: Any, client: httpx.AsyncClient, admin: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    await _channel(
        client,
        admin,
        transform=[
            {"set": "MSH-5", "value": "LAB|X"},  # a field separator in a value is escaped, never a new field
            {"copy": "PID-3.1", "to": "PID-2"},
            {"delete": "PID-19"},
            {"set": "PID-5.2", "value": "JOHN^Q"},
        ],
    )
    mid = (await _submit(client, admin, "X1", None, ADT_SSN)).json()["message_id"]
    done = await _until(client, admin, mid, "delivered")
    sent = receiver.messages[0].split("\r")
    msh, pid = sent[0].split("|"), sent[1].split("|")
    assert msh[4] == "LAB\\F\\X" and len(msh) == 12
    assert pid[2] == "12345" and pid[3].startswith("12345^^^HOSP^MR")
    assert pid[5] == "DOE^JOHN\\S\\Q"
    assert "123-45-6789" not in receiver.messages[0] and len(pid) < 20
    assert "123-45-6789" in done["raw"] and "|LIS|" in done["raw"]  # the stored original is unchanged


async def test_filtered_messages_are_kept_searchable_and_replayable_through_a_new_channel(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    mid = (await _submit(client, alice, "F1", None)).json()["message_id"]
    page = (await client.get("/api/v1/messages?status=filtered", headers=alice.headers)).json()
    assert [m["message_id"] for m in page["items"]] == [mid]
    nothing = await client.post(f"/api/v1/messages/{mid}/replay", headers=alice.headers)
    assert nothing.status_code == 409 and nothing.json()["code"] == "not_replayable"
    await _channel(client, admin, sources=["api"])
    replayed = await client.post(f"/api/v1/messages/{mid}/replay", headers=alice.headers)
    assert replayed.status_code == 202, replayed.text
    await _until(client, alice, mid, "delivered")
    assert receiver.control_ids() == ["F1"]
    assert "hl7.message.replayed" in await _audit_actions(app)


async def test_channel_validation_reject_is_a_located_400_and_warn_keeps_the_problems(
    app: Any, client: httpx.AsyncClient, admin: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    # A segment HL7 does not define (not a Z-segment): hl7apy's check finds it, the cheap routing check does not.
    broken = ADT + "\rABC|1"
    channel = await _channel(client, admin, validation="reject")
    refused = await _submit(client, admin, "V1", None, broken)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_hl7", refused.text
    assert [p["location"] for p in refused.json()["detail"]] == ["ABC"]
    assert receiver.messages == []

    await client.patch(f"/api/v1/hl7/channels/{channel['id']}", headers=admin.headers, json={"validation": "warn"})
    kept = await _submit(client, admin, "V2", None, broken)
    assert kept.status_code == 202
    done = await _until(client, admin, kept.json()["message_id"], "delivered")
    assert "ABC" in [p["location"] for p in done["problems"]]
    assert (await _submit(client, admin, "V3", None, ADT)).status_code == 202  # valid ones pass as before


async def test_negative_acks_follow_the_channel_policy_and_ar_is_always_final(
    app: Any, client: httpx.AsyncClient, admin: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    channel = await _channel(client, admin, on_negative_ack="fail")
    receiver.code = "AE"
    failed = await _until(client, admin, (await _submit(client, admin, "N1", None)).json()["message_id"], "failed")
    assert failed["destinations"][0]["attempts"] == 1 and failed["destinations"][0]["ack_code"] == "AE"

    await client.patch(
        f"/api/v1/hl7/channels/{channel['id']}", headers=admin.headers, json={"on_negative_ack": "retry"}
    )
    mid = (await _submit(client, admin, "N2", None)).json()["message_id"]
    await _until(client, admin, mid, "retrying")
    receiver.code = "AA"
    done = await _until(client, admin, mid, "delivered")
    assert done["destinations"][0]["attempts"] >= 2

    receiver.code = "AR"
    rejected = await _until(client, admin, (await _submit(client, admin, "N3", None)).json()["message_id"], "failed")
    assert rejected["destinations"][0]["attempts"] == 1 and rejected["destinations"][0]["ack_code"] == "AR"


async def test_inbound_mllp_is_stored_before_its_ack_routed_and_announced(
    settings: Settings, receiver: Receiver
) -> None:
    config = settings.model_copy(update={"hl7_listen_port": 0})
    async with running_app(config) as app, asgi_client(app) as http:
        fast(app)
        admin = await _register(http, "admin")
        bob = await _register(http, "bob")
        await _destination(http, admin, receiver.listener.port)
        await _channel(http, admin, sources=["mllp"], filter={"message_types": ["ADT^A0*", "ORU^R01"]})
        bus = app.state.ctx.extras["event_bus"]
        watcher = bus.subscribe(bob.id, False)
        watcher.patterns = {"patient.*", "encounter.*", "lab.*", "hl7.message.received"}
        port = app.state.ctx.extras["hl7_listener_port"]
        sender = MllpClient("127.0.0.1", port, timeout_s=5)
        try:
            ack = await sender.send(ADT.format(cid="IN1"))
            assert ack.code == "AA"
            # The ACK came after the commit: the message is already there, routed, no waiting.
            found = (await http.get("/api/v1/messages?control_id=IN1", headers=admin.headers)).json()["items"]
            assert found and found[0]["direction"] == "inbound"
            done = await _until(http, admin, found[0]["message_id"], "delivered")
            assert done["channels"] == ["all"] and receiver.control_ids() == ["IN1"]

            assert (await sender.send(ORU.format(cid="IN2"))).code == "AA"
            assert (await sender.send(A08.format(cid="IN3"))).code == "AA"  # ADT^A08 matches ADT^A0* too
            bad = await sender.send(ADT.format(cid="IN4").replace("2.5.1", "9.9"))
            assert bad.code == "AE" and "MSH-12" in (bad.text or "")
        finally:
            await sender.close()
        events = []
        while not watcher.queue.empty():
            envelope = watcher.queue.get_nowait()
            assert envelope is not None
            frame = envelope.frame()
            events.append((frame["event"], frame["data"].get("control_id"), frame["data"].get("mrn")))
        assert ("encounter.admitted", "IN1", "12345") in events
        assert ("lab.result.ready", "IN2", "777") in events
        assert ("patient.updated", "IN3", "12345") in events
        assert ("hl7.message.received", "IN4", None) in events
        assert not [e for e in events if e[0] != "hl7.message.received" and e[1] == "IN4"]  # rejected: no event


async def test_clinical_events_of_submitted_messages_reach_their_owner_and_admins_only(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    await _channel(
        client, admin, sources=["api"], filter={"message_types": ["ADT^*", "ORU^R01"], "versions": ["2.5.1"]}
    )
    bus = app.state.ctx.extras["event_bus"]
    subscriptions = {}
    for user in (admin, alice, bob):
        subscriptions[user.username] = bus.subscribe(user.id, user.role == "admin")
        subscriptions[user.username].patterns = {"patient.*", "encounter.*", "lab.result.ready"}
    kinds = [
        ("ADT^A04", "patient.created"),
        ("ADT^A28", "patient.created"),
        ("ADT^A08", "patient.updated"),
        ("ADT^A31", "patient.updated"),
        ("ADT^A01", "encounter.admitted"),
        ("ADT^A03", "encounter.discharged"),
        ("ORU^R01", "lab.result.ready"),
        ("ADT^A02", None),  # a transfer: no clinical event defined
    ]
    for number, (kind, _) in enumerate(kinds):
        message = ADT.replace("ADT^A01", kind)
        assert (await _submit(client, alice, f"E{number}", None, message)).json()["status"] == "accepted"
    # An admission no channel takes (version 2.4): filtered, so no clinical event.
    filtered = await _submit(client, alice, "E99", None, ADT.replace("2.5.1", "2.4"))
    assert filtered.json()["status"] == "filtered"
    await asyncio.sleep(0.2)

    def drained(name: str) -> list[dict[str, Any]]:
        queue = subscriptions[name].queue
        return [e.frame() for e in (queue.get_nowait() for _ in range(queue.qsize())) if e is not None]

    seen = drained("alice")
    assert [(f["event"], f["data"]["message_type"]) for f in seen] == [(e, k) for k, e in kinds if e]
    assert all(f["data"]["mrn"] == "12345" and f["data"]["message_id"] for f in seen)
    assert "raw" not in seen[0]["data"] and "DOE" not in str(seen)  # ids and summaries, no other PHI
    assert len(drained("admin")) == len(seen)
    assert drained("bob") == []


async def _register(http: httpx.AsyncClient, name: str) -> TestUser:
    password = "correct horse battery"
    user = (
        await http.post(
            "/api/v1/auth/register", json={"email": f"{name}@example.com", "username": name, "password": password}
        )
    ).json()
    tokens = (await http.post("/api/v1/auth/login", json={"username": name, "password": password})).json()
    return TestUser(
        user["id"], name, f"{name}@example.com", password, user["role"], tokens["access_token"], tokens["refresh_token"]
    )


async def test_traffic_stats_count_messages_and_ack_codes_per_minute(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, admin, receiver.listener.port)
    await _channel(client, admin, sources=["api"], filter={"message_types": ["ADT^*"]})
    ids = [(await _submit(client, admin, f"S{i}", None)).json()["message_id"] for i in range(3)]
    await _submit(client, admin, "S9", None, ORU)  # filtered: counted as received, no ACK
    for mid in ids:
        await _until(client, admin, mid, "delivered")
    receiver.code = "AR"
    ids.append((await _submit(client, admin, "S3", None)).json()["message_id"])
    await _until(client, admin, ids[-1], "failed")
    assert (await client.get("/api/v1/hl7/stats", headers=alice.headers)).status_code == 403
    stats = (await client.get("/api/v1/hl7/stats?minutes=5", headers=admin.headers)).json()
    assert len(stats["minutes"]) == 5
    assert sum(m["received"] for m in stats["minutes"]) == 5
    totals: dict[str, int] = {}
    for minute in stats["minutes"]:
        for code, count in minute["acks"].items():
            totals[code] = totals.get(code, 0) + count
    assert totals == {"AA": 3, "AR": 1}
