"""The Jira connector's operations against the sandbox over real HTTP, on Cloud (v3) and Data Center (v2)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from pydantic import ValidationError

from tests.tools.jira.jira_helpers import context, sandbox_state
from tools.errors import (
    ConnectorAuthError,
    ConnectorBadRequest,
    ConnectorConfigError,
    ConnectorNotFound,
    ConnectorRateLimited,
    ConnectorTimeout,
)
from tools.jira.client import JiraClient, RetryPolicy, retry_after_seconds
from tools.jira.config import JiraConfig, JiraCredentials
from tools.jira.connector import CONNECTOR
from tools.jira.operations import JiraOperations
from tools.jira.sandbox import JiraSandbox
from tools.jira.tools import build_jira_tools
from tools.tooling import tool_policy

DANAS_OPEN = ["OPS-2", "SB-1", "OPS-5", "SB-7", "SB-4", "MKT-3"]


def operations(server: JiraSandbox, retry: RetryPolicy | None = None, **kwargs: object) -> JiraOperations:
    ctx = context(server.url, deployment=server.flavour, **kwargs)  # type: ignore[arg-type]
    assert isinstance(ctx.config, JiraConfig) and isinstance(ctx.credentials, JiraCredentials)
    return JiraOperations(JiraClient(ctx.config, ctx.credentials, outbound=ctx.outbound, retry=retry))


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
async def test_my_open_issues_and_paging(flavour: str, sandbox: JiraSandbox, dc_sandbox: JiraSandbox) -> None:
    server = sandbox if flavour == "cloud" else dc_sandbox
    ops = operations(server)
    mine = await ops.my_open_issues()
    assert [i.key for i in mine["issues"]] == DANAS_OPEN
    first = mine["issues"][0]
    assert first.summary == "Nightly database backup job exceeded its window"
    assert (first.status, first.priority, first.assignee) == ("In Progress", "Highest", "Dana Demo")
    assert first.link == f"{server.url}/browse/OPS-2" and first.updated.endswith("UTC")
    # Paging: Cloud hands out nextPageToken (search/jql), Data Center startAt (search); both reach every issue.
    seen, token = [], None
    while True:
        page = await ops.search_issues(jql="project = SB ORDER BY key ASC", max_results=7, page_token=token)
        seen += [i.key for i in page["issues"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [f"SB-{n}" for n in range(1, 19)]
    assert ("total" in page) is (flavour == "datacenter")
    if flavour == "datacenter":
        with pytest.raises(ConnectorBadRequest, match="page token is not valid"):
            await ops.search_issues(jql="project = SB", page_token="start:x")
    paths = sandbox_state(server).requests
    expected = "/search/jql" if flavour == "cloud" else "/rest/api/2/search"
    assert all(expected in p for p in paths if "/search" in p) and any(expected in p for p in paths)


async def test_search_by_filters_builds_jql(sandbox: JiraSandbox) -> None:
    ops = operations(sandbox)
    found = await ops.search_issues(text="certificate", open_only=True)
    assert found["jql"] == 'text ~ "certificate" AND statusCategory != Done ORDER BY updated DESC'
    assert [i.key for i in found["issues"]] == ["OPS-5"]
    labelled = await ops.search_issues(project="sb", labels=["ui"], assignee="me")
    assert {i.key for i in labelled["issues"]} == {"SB-7"}
    unassigned = await ops.search_issues(assignee="unassigned", project="OPS")
    assert {i.key for i in unassigned["issues"]} == {"OPS-10", "OPS-12"}


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
async def test_get_issue_with_description_and_comments(
    flavour: str, sandbox: JiraSandbox, dc_sandbox: JiraSandbox
) -> None:
    server = sandbox if flavour == "cloud" else dc_sandbox
    issue = await operations(server).get_issue("SB-1")
    assert issue["reporter"] == "Alex Kim" and issue["labels"] == ["auth", "sso"]
    assert issue["project"] == "Switchboard (SB)" and issue["resolution"] == "Unresolved"
    # v3 sends ADF, v2 text: both read back as the same markdown.
    assert issue["description"].startswith("Users whose IdP sends `Dana.Demo@Example.com` get **401**")
    assert "1. Sign in with SSO\n2. Use a mixed-case email" in issue["description"]
    assert [c["author"] for c in issue["comments"]] == ["Alex Kim", "Dana Demo"]
    assert issue["comments"][1]["body"] == "Root cause: we compare emails case-sensitively."


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
async def test_writes_change_the_sandbox(flavour: str, sandbox: JiraSandbox, dc_sandbox: JiraSandbox) -> None:
    server = sandbox if flavour == "cloud" else dc_sandbox
    ops = operations(server)
    state = sandbox_state(server)
    created = await ops.create_issue(
        project="SB",
        issue_type="bug",
        summary="Export button does nothing",
        description="Click **Export** on the audit page.\n\n- Chrome\n- Firefox",
        priority="high",
        labels=["audit log", "ui"],
        assignee="me",
    )
    assert created == {
        "created": True,
        "key": "SB-19",
        "summary": "Export button does nothing",
        "project": "SB",
        "issue_type": "Bug",
        "link": f"{server.url}/browse/SB-19",
    }
    stored = state.issues["SB-19"]
    assert (stored.type, stored.priority, stored.assignee, stored.reporter) == ("Bug", "High", "dana", "dana")
    assert stored.labels == ["audit-log", "ui"]
    assert stored.description is not None and stored.description["content"][1]["type"] == "bulletList"

    comment = await ops.add_comment("SB-19", "Seen on *staging* too")
    assert comment["author"] == "Dana Demo" and comment["link"].endswith(f"focusedCommentId={comment['comment_id']}")
    assert stored.comments[-1].body["content"][0]["content"][1] == {
        "type": "text",
        "text": "staging",
        "marks": [{"type": "em"}],
    }
    moves = await ops.list_transitions("SB-19")
    assert {m["to"] for m in moves["transitions"]} == {"In Progress", "In Review", "Done"}
    moved = await ops.transition_issue("SB-19", "done", comment="Fixed in 2.4")
    assert moved["previous_status"] == "To Do" and moved["status"] == "Done"
    assert stored.status == "Done" and stored.resolution == "Done" and len(stored.comments) == 2
    assigned = await ops.assign_issue("SB-19", "Priya")
    assert assigned["assignee"] == "Priya Patel" and stored.assignee == "priya"
    await ops.assign_issue("SB-19", "unassigned")
    assert stored.assignee is None


async def test_create_asks_for_required_fields_instead_of_failing(sandbox: JiraSandbox) -> None:
    ops = operations(sandbox)
    state = sandbox_state(sandbox)
    asked = await ops.create_issue(project="OPS", issue_type="Incident", summary="Disk full on db-2")
    assert asked["created"] is False and "OPS-13" not in state.issues
    assert {m["field"]: m["allowed"] for m in asked["missing"]} == {
        "priority": ["Highest", "High", "Medium", "Low", "Lowest"],
        "components": ["Network", "Database", "Integrations"],
    }
    done = await ops.create_issue(
        project="OPS",
        issue_type="Incident",
        summary="Disk full on db-2",
        priority="High",
        fields={"Component/s": "database"},
    )
    assert done["created"] is True and state.issues["OPS-13"].components == ["Database"]
    no_project = await operations(sandbox).create_issue(summary="Somewhere")
    assert no_project["missing"] == [{"field": "project", "name": "Project", "allowed": ["SB", "OPS", "MKT"]}]
    with pytest.raises(ConnectorBadRequest, match="not a valid priority"):
        await ops.create_issue(project="SB", summary="x", priority="Blocker")
    wrong_type = await ops.create_issue(project="MKT", summary="x", issue_type="Bug")
    assert wrong_type["missing"][0]["allowed"] == ["Task"]
    with pytest.raises(ConnectorNotFound, match="XYZ"):
        await ops.create_issue(project="XYZ", summary="x")


async def test_default_project_fills_in(sandbox: JiraSandbox) -> None:
    created = await operations(sandbox, default_project="mkt").create_issue(summary="Plan the autumn webinar")
    assert created["key"] == "MKT-11" and created["issue_type"] == "Task"


async def test_errors_are_precise(sandbox: JiraSandbox) -> None:
    ops = operations(sandbox)
    with pytest.raises(ConnectorNotFound, match="Issue does not exist"):
        await ops.get_issue("SB-999")
    with pytest.raises(ConnectorBadRequest, match="The value 'Bogus' does not exist for the field 'status'"):
        await ops.search_issues(jql="project = SB AND status = Bogus")
    with pytest.raises(ConnectorBadRequest, match="Expecting"):
        await ops.search_issues(jql="project = = SB")
    with pytest.raises(ConnectorBadRequest, match=r"cannot move to 'Shipped'.*Available"):
        await ops.transition_issue("SB-3", "Shipped")
    with pytest.raises(ConnectorNotFound, match="No Jira user matches"):
        await ops.assign_issue("SB-3", "Zed Nobody")
    bad = operations(sandbox, credentials={"email": "dana@example.com", "api_token": "wrong"})
    with pytest.raises(ConnectorAuthError) as caught:
        await bad.my_open_issues()
    assert caught.value.upstream_status == 401 and "API token" in (caught.value.remediation or "")


async def test_tools_are_typed_compact_and_marked(sandbox: JiraSandbox) -> None:
    tools = {t.name: t for t in build_jira_tools(context(sandbox.url))}
    writes = {n for n, t in tools.items() if tool_policy(t).access == "write"}
    assert writes == {"acme_jira__create_issue", "acme_jira__add_comment", "acme_jira__transition_issue"} | {
        "acme_jira__assign_issue"
    }
    assert {tool_policy(t).operation for t in tools.values()} >= {"jira.my_open_issues", "jira.whoami"}
    result = json.loads(await tools["acme_jira__my_open_issues"].ainvoke({"max_results": 2}))
    assert set(result["issues"][0]) == {"key", "summary", "status", "assignee", "priority", "type", "updated", "link"}
    assert result["count"] == 2 and result["next_page_token"]
    refused = await tools["acme_jira__get_issue"].ainvoke({"key": "SB-999"})
    assert refused.startswith("Error [not_found]")
    with pytest.raises(ValidationError):
        await tools["acme_jira__get_issue"].ainvoke({"key": "not a key"})
    who = json.loads(await tools["acme_jira__whoami"].ainvoke({}))
    assert who["user"] == "Dana Demo" and who["deployment"] == "cloud"
    projects = json.loads(await tools["acme_jira__list_projects"].ainvoke({}))
    assert [p["key"] for p in projects["projects"]] == ["SB", "OPS", "MKT"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


async def test_timeout_against_a_socket_that_never_answers(silent_port: int) -> None:
    ops = operations_at(f"http://127.0.0.1:{silent_port}", timeout_s=0.5)
    started = time.perf_counter()
    with pytest.raises(ConnectorTimeout, match=r"did not answer .* within 0\.5 s"):
        await ops.my_open_issues()
    assert time.perf_counter() - started < 3


def operations_at(base_url: str, **config: object) -> JiraOperations:
    ctx = context(base_url, **config)  # type: ignore[arg-type]
    assert isinstance(ctx.config, JiraConfig) and isinstance(ctx.credentials, JiraCredentials)
    return JiraOperations(JiraClient(ctx.config, ctx.credentials, outbound=ctx.outbound))


async def _fault(server: JiraSandbox, **fault: object) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=server.control_headers) as http:
        assert (await http.post("/_sandbox/faults", json=fault)).status_code == 204


async def test_429_is_retried_after_retry_after(sandbox: JiraSandbox) -> None:
    await _fault(sandbox, count=1, status=429, retry_after="1", path="/rest/api/3/myself")
    ops = operations(sandbox)
    started = time.perf_counter()
    assert (await ops.whoami())["user"] == "Dana Demo"
    assert time.perf_counter() - started >= 0.95  # it waited as told
    assert sandbox_state(sandbox).requests.count("GET /rest/api/3/myself") == 2


async def test_503_is_retried_with_backoff_then_429_gives_up(sandbox: JiraSandbox) -> None:
    await _fault(sandbox, count=2, status=503)
    ops = operations(sandbox, retry=RetryPolicy(base_backoff_s=0.05))  # no Retry-After: exponential backoff
    assert len((await ops.list_projects())["projects"]) == 3
    assert ops.client.calls == 3
    await _fault(sandbox, count=10, status=429, retry_after="0")
    limited = operations(sandbox)
    with pytest.raises(ConnectorRateLimited, match="after 3 retries"):
        await limited.list_projects()
    assert limited.client.calls == 4  # bounded: one try and three retries


async def test_a_long_retry_after_fails_fast(sandbox: JiraSandbox) -> None:
    await _fault(sandbox, count=1, status=429, retry_after="120")
    ctx = context(sandbox.url)
    assert isinstance(ctx.config, JiraConfig) and isinstance(ctx.credentials, JiraCredentials)
    client = JiraClient(ctx.config, ctx.credentials, outbound=ctx.outbound, retry=RetryPolicy(max_wait_s=5))
    started = time.perf_counter()
    with pytest.raises(ConnectorRateLimited, match="retry after 120 s"):
        await client.myself()
    assert time.perf_counter() - started < 2


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now


@pytest.mark.parametrize(
    ("config", "credentials", "message"),
    [
        ({"deployment": "cloud"}, {"personal_access_token": "x"}, "not a personal access token"),
        ({"deployment": "cloud"}, {"email": "dana@example.com"}, "both the account email and an API token"),
        ({"deployment": "datacenter"}, {"email": "a@b.c", "api_token": "t"}, "not an email and API token"),
        ({"deployment": "datacenter"}, {"personal_access_token": "  "}, "needs a personal access token"),
        ({"deployment": "cloud"}, None, "needs credentials"),
    ],
)
def test_validate_rejects_credentials_that_do_not_fit(
    config: dict[str, str], credentials: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(ConnectorConfigError, match=message):
        CONNECTOR.validate({"base_url": "https://acme.atlassian.net", **config}, credentials)


def test_config_normalizes_and_rejects_addresses() -> None:
    config, _ = CONNECTOR.validate(
        {"base_url": "https://Acme.atlassian.net/jira/software/projects/OPS/boards/1/", "default_project": " ops "},
        {"email": "dana@example.com", "api_token": "t", "personal_access_token": ""},
    )
    assert isinstance(config, JiraConfig)
    assert config.base_url == "https://acme.atlassian.net" and config.default_project == "OPS"
    kept, _ = CONNECTOR.validate(
        {"base_url": "https://jira.example.com/jira/", "deployment": "datacenter"}, {"personal_access_token": "p"}
    )
    assert isinstance(kept, JiraConfig) and kept.base_url == "https://jira.example.com/jira"
    for bad in ("jira.example.com", "ftp://jira.example.com", "https://jira.example.com/?x=1"):
        with pytest.raises(ValidationError, match="must be"):
            CONNECTOR.validate({"base_url": bad}, {"email": "a@b.c", "api_token": "t"})
    with pytest.raises(ValidationError, match="project key"):
        CONNECTOR.validate({"base_url": "https://a.atlassian.net", "default_project": "1X"}, None)
    schema = CONNECTOR.credentials_model.model_json_schema()
    assert schema["properties"]["api_token"]["writeOnly"] is True
