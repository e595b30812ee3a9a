"""Live integration health from real chat calls, tool labels in the frames, approvals in plain words."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.integrations.health import HealthTracker, derive_status, tracker_of
from backend.models.integration import Integration
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser
from tools.jira.sandbox import JiraSandbox
from tools.jira.sandbox_seed import DEMO_API_TOKEN, DEMO_EMAIL
from tools.net import OutboundPolicy


@pytest.fixture
async def jira_sandbox() -> AsyncIterator[JiraSandbox]:
    server = JiraSandbox()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def team_jira(app: Any, client: httpx.AsyncClient, alice: TestUser, jira_sandbox: JiraSandbox) -> dict[str, Any]:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    saved = await client.post(
        "/api/v1/integrations",
        headers=alice.headers,
        json={
            "name": "Team Jira",
            "integration_type": "jira",
            "config": {"base_url": jira_sandbox.url, "deployment": "cloud", "default_project": "SB"},
            "credentials": {"email": DEMO_EMAIL, "api_token": DEMO_API_TOKEN},
        },
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["status"] == "untested" and saved.json()["health"]["status"] == "untested"
    return dict(saved.json())


async def _turn(client: httpx.AsyncClient, base: str, user: TestUser, message: str, until: str = "final") -> Any:
    created = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    socket = await ChatSocket.open(base, created.json()["session_id"], user.access_token)
    frames = await socket.until_type(until)
    return frames, socket


async def test_a_chat_call_makes_the_integration_ok_and_a_failure_shows_its_error(
    app: Any,
    client: httpx.AsyncClient,
    live_server: str,
    alice: TestUser,
    admin: TestUser,
    team_jira: dict[str, Any],
    jira_sandbox: JiraSandbox,
) -> None:
    frames, socket = await _turn(client, live_server, alice, "what are my open Jira tickets?")
    await socket.close()
    call = of_type(frames, "tool_call")[0]["metadata"]
    assert call["tool_label"] == "Team Jira \u00b7 my open issues" and call["integration_type"] == "jira"
    assert of_type(frames, "tool_result")[0]["metadata"]["tool_label"] == "Team Jira \u00b7 my open issues"

    mine = (await client.get(f"/api/v1/integrations/{team_jira['id']}", headers=alice.headers)).json()
    assert mine["status"] == "ok", mine["health"]
    assert mine["health"]["last_success_at"] and mine["health"]["calls_1h"] == 1
    overview = (await client.get("/api/v1/admin/overview", headers=admin.headers)).json()
    row = next(i for i in overview["integrations"] if i["id"] == team_jira["id"])
    assert row["status"] == "ok" and row["health"]["last_failure_at"] is None

    await jira_sandbox.stop()  # the site goes down
    frames, socket = await _turn(client, live_server, alice, "what are my open Jira tickets?")
    await socket.close()
    assert of_type(frames, "tool_result")[0]["metadata"]["status"] == "failed"
    mine = (await client.get(f"/api/v1/integrations/{team_jira['id']}", headers=alice.headers)).json()
    assert mine["status"] == "error"
    assert mine["health"]["last_error"].startswith("integration_unreachable")
    assert mine["health"]["failures_1h"] == 1 and mine["health"]["error_rate_1h"] == 0.5
    listed = (await client.get("/api/v1/integrations", headers=alice.headers)).json()["items"]
    assert next(i for i in listed if i["id"] == team_jira["id"])["status"] == "error"

    # Flushed (without a database write per call) so other replicas and restarts see it.
    assert await tracker_of(app.state.ctx).flush(app.state.ctx) == 1
    async with app.state.ctx.db.session() as session:
        stored = await session.get(Integration, uuid.UUID(team_jira["id"]))
        assert stored is not None and stored.status == "error"
        assert stored.health is not None and stored.health["calls_1h"] == 2


async def test_approval_frame_and_audit_say_in_plain_words_what_will_happen(
    client: httpx.AsyncClient, live_server: str, alice: TestUser, admin: TestUser, team_jira: dict[str, Any]
) -> None:
    frames, socket = await _turn(
        client, live_server, alice, "create a bug in SB: Discharge summary PDF is blank", "approval_required"
    )
    request = frames[-1]["metadata"]
    assert request["summary"] == "Create a Bug in SB \u2014 \u201cDischarge summary PDF is blank\u201d"
    assert request["risk"] == "write" and request["integration_name"] == "Team Jira"
    assert request["tool_label"] == "Team Jira \u00b7 create issue"
    assert request["args_schema"]["properties"]["summary"]["maxLength"] == 255
    edited = {**request["args"], "summary": "Discharge PDF empty"}
    await socket.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "edit", "args": edited})
    await socket.until_type("final")
    await socket.close()
    audit = (await client.get("/api/v1/audit?action=approval.decision", headers=admin.headers)).json()["items"]
    assert audit[0]["details"]["summary"] == "Create a Bug in SB \u2014 \u201cDischarge PDF empty\u201d"
    assert audit[0]["details"]["risk"] == "write"


def test_status_follows_the_latest_outcome_and_the_hour() -> None:
    assert derive_status({}) == "untested"
    ok = {"last_success_at": "2026-01-01T10:00:00Z"}
    assert derive_status(ok) == "ok"
    assert derive_status({**ok, "last_failure_at": "2026-01-01T09:00:00Z", "failures_1h": 1}) == "degraded"
    assert derive_status({**ok, "last_failure_at": "2026-01-01T11:00:00Z", "failures_1h": 1}) == "error"


def test_a_snapshot_older_than_an_hour_has_an_empty_window() -> None:
    tracker = HealthTracker()
    stale = Integration(
        status="degraded",
        health={
            "last_success_at": "2026-01-01T10:00:00Z",
            "last_failure_at": "2026-01-01T09:00:00Z",
            "calls_1h": 5,
            "failures_1h": 2,
            "window_at": "2026-01-01T10:00:00Z",
        },
    )
    merged = tracker.merged(stale)
    assert merged["calls_1h"] == 0 and merged["status"] == "ok" and merged["error_rate_1h"] is None
