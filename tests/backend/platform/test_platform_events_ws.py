"""The live event channel: subscribe with wildcards, receive only what you may see, unsubscribe."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from backend.config import Settings
from tests.conftest import TestUser, asgi_client, running_app, serving
from tools.hl7.mllp import MllpClient
from tools.sandbox_server import free_port

HL7 = {"name": "Lab feed", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": 2575}}
ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|{cid}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"

Frame = dict[str, Any]


class EventsSocket:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.frames: list[Frame] = []

    @classmethod
    async def open(cls, base: str, token: str) -> EventsSocket:
        url = base.replace("http://", "ws://") + f"/api/v1/events/ws?token={token}"
        socket = cls(await websockets.connect(url))
        assert (await socket.next())["event"] == "connection.established"
        return socket

    async def next(self, timeout: float = 10) -> Frame:
        frame: Frame = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def send(self, frame: Frame | str) -> Frame:
        """Send a control frame and return its reply."""
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))
        return await self.next()

    async def until(self, event: str, timeout: float = 10) -> Frame:
        while True:
            frame = await self.next(timeout)
            if frame["event"] == event:
                return frame

    async def quiet(self, seconds: float = 0.4) -> list[Frame]:
        """Frames that arrive within `seconds` (expected: none)."""
        arrived: list[Frame] = []
        try:
            while True:
                arrived.append(await self.next(seconds))
        except TimeoutError:
            return arrived

    async def close(self) -> None:
        await self.connection.close()


async def test_users_receive_only_events_about_what_they_may_see(
    live_server: str, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    alice_ws = await EventsSocket.open(live_server, alice.access_token)
    bob_ws = await EventsSocket.open(live_server, bob.access_token)
    admin_ws = await EventsSocket.open(live_server, admin.access_token)
    try:
        for socket in (alice_ws, bob_ws, admin_ws):
            reply = await socket.send({"action": "subscribe", "events": ["integration.*"]})
            assert reply["event"] == "subscribed" and reply["data"]["events"] == ["integration.*"]

        private = (await client.post("/api/v1/integrations", headers=alice.headers, json=HL7)).json()
        frame = await alice_ws.until("integration.created")
        assert frame["data"]["id"] == private["id"] and frame["timestamp"].endswith("Z")
        assert set(frame) >= {"event", "timestamp", "data"}

        shared = (
            await client.post(
                "/api/v1/integrations", headers=admin.headers, json={**HL7, "name": "Shared", "visibility": "shared"}
            )
        ).json()
        assert (await bob_ws.until("integration.created"))["data"]["id"] == shared["id"]
        admin_frames = [await admin_ws.until("integration.created")]
        assert [f["data"]["id"] for f in admin_frames] == [shared["id"]]
        assert (await alice_ws.until("integration.created"))["data"]["id"] == shared["id"]
        # Nobody else heard about Alice's private integration.
        assert not [f for f in bob_ws.frames + admin_ws.frames if f.get("data", {}).get("id") == private["id"]]

        await client.patch(f"/api/v1/integrations/{private['id']}", headers=alice.headers, json={"name": "Renamed"})
        assert (await alice_ws.until("integration.updated"))["data"]["name"] == "Renamed"
        await client.post(f"/api/v1/integrations/{private['id']}/test", headers=alice.headers)
        tested = await alice_ws.until("integration.tested")
        assert tested["data"]["result"]["ok"] is False and tested["data"]["status"] == "error"
        changed = await alice_ws.until("integration.status_changed")
        assert changed["data"]["previous_status"] == "untested" and changed["data"]["status"] == "error"
        await client.delete(f"/api/v1/integrations/{private['id']}", headers=alice.headers)
        assert (await alice_ws.until("integration.deleted"))["data"]["id"] == private["id"]
        assert not [f for f in await bob_ws.quiet() if f.get("data", {}).get("id") == private["id"]]

        reply = await alice_ws.send({"action": "unsubscribe", "events": ["integration.*"]})
        assert reply["data"]["events"] == []
        await client.post("/api/v1/integrations", headers=alice.headers, json={**HL7, "name": "Unheard"})
        assert await alice_ws.quiet() == []
    finally:
        for socket in (alice_ws, bob_ws, admin_ws):
            await socket.close()


async def test_bad_frames_get_errors_and_the_socket_stays_open(live_server: str, alice: TestUser) -> None:
    socket = await EventsSocket.open(live_server, alice.access_token)
    try:
        assert (await socket.send("not json"))["data"]["code"] == "invalid_frame"
        assert (await socket.send({"action": "subscribe"}))["data"]["code"] == "invalid_frame"
        assert (await socket.send({"action": "subscribe", "events": ["nope.*"]}))["data"]["code"] == "unknown_event"
        assert (await socket.send("x" * 20_000))["data"]["code"] == "frame_too_large"
        assert (await socket.send({"action": "ping"}))["event"] == "pong"
    finally:
        await socket.close()


async def test_unauthenticated_sockets_are_closed(live_server: str) -> None:
    url = live_server.replace("http://", "ws://") + "/api/v1/events/ws"
    for query in ["?token=garbage", ""]:
        async with websockets.connect(url + query) as ws:
            if not query:
                await ws.send(json.dumps({"action": "subscribe", "events": ["hl7.*"]}))
            try:
                await asyncio.wait_for(ws.recv(), 5)
                raise AssertionError("the socket should have been closed")
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4401


async def test_first_frame_auth_and_chat_and_hl7_events(platform_settings: Settings) -> None:
    port = free_port()
    config = platform_settings.model_copy(update={"hl7_listen_port": port})
    async with running_app(config) as app, asgi_client(app) as http, serving(app) as base:
        users = {}
        for name in ("admin", "alice", "bob"):
            await http.post(
                "/api/v1/auth/register",
                json={"email": f"{name}@example.com", "username": name, "password": "correct horse"},
            )
            login = await http.post("/api/v1/auth/login", json={"username": name, "password": "correct horse"})
            users[name] = login.json()["access_token"]
        alice = {"Authorization": f"Bearer {users['alice']}"}

        connection = await websockets.connect(base.replace("http://", "ws://") + "/api/v1/events/ws")
        await connection.send(json.dumps({"action": "auth", "token": users["alice"]}))
        alice_ws = EventsSocket(connection)
        assert (await alice_ws.next())["event"] == "connection.established"
        bob_ws = await EventsSocket.open(base, users["bob"])
        try:
            await alice_ws.send({"action": "subscribe", "events": ["hl7.*", "chat.message.completed"]})
            await bob_ws.send({"action": "subscribe", "events": ["*"]})

            mllp = MllpClient("127.0.0.1", port, timeout_s=3)
            assert (await mllp.send(ADT.format(cid="LIVE1"))).code == "AA"
            await mllp.close()
            for socket in (alice_ws, bob_ws):  # inbound traffic is visible to every user
                received = await socket.until("hl7.message.received")
                assert received["data"]["control_id"] == "LIVE1" and received["data"]["ack_code"] == "AA"
                assert "raw" not in received["data"] and "patient_id" not in received["data"]

            destination = {"name": "Loop", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": port}}
            assert (await http.post("/api/v1/integrations", headers=alice, json=destination)).status_code == 201
            submitted = await http.post(
                "/api/v1/messages",
                headers=alice,
                json={"message": ADT.format(cid="OUT1"), "metadata": {"source": "emr", "destination": ["Loop"]}},
            )
            assert submitted.status_code == 202
            delivered = await alice_ws.until("hl7.message.delivered")
            assert delivered["data"]["control_id"] == "OUT1" and delivered["data"]["destination"]["system"] == "Loop"
            assert delivered["data"]["destination"]["ack_code"] == "AA"

            chat = (await http.post("/api/v1/chat/sessions", headers=alice, json={"message": "hello"})).json()
            answer = await http.post(
                f"/api/v1/chat/sessions/{chat['session_id']}/messages", headers=alice, json={"message": "hello again"}
            )
            assert answer.status_code == 200, answer.text
            completed = await alice_ws.until("chat.message.completed")
            assert completed["data"]["session_id"] == chat["session_id"] and completed["data"]["content_length"] > 0
            assert "content" not in completed["data"]  # the answer may name a patient: never in an event
            assert completed["data"]["finish_reason"] == "stop"

            # Bob subscribed to everything yet heard nothing of Alice's integration, message or chat.
            bob_events = {f["event"] for f in bob_ws.frames + await bob_ws.quiet()}
            assert "hl7.message.delivered" not in bob_events and "chat.message.completed" not in bob_events
            assert "integration.created" not in bob_events
        finally:
            await alice_ws.close()
            await bob_ws.close()
