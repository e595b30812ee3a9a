"""The Jira connector against Atlassian's own published examples, served by Prism over HTTP.

Every operation the connector calls is answered with the example response of Atlassian's Jira Cloud
platform OpenAPI document (v3; the same examples under v2 for Data Center, see `mock_spec`). These
examples are shaped unlike our sandbox: the issue's `comment` field is a bare list, `summary` and
`status` are absent, `updated` is a number. Before the tolerant readers, "show me ED-1" crashed with
`'list' object has no attribute 'get'` and the turn ended in `agent_error`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool

from agents.approvals import ApprovalDecision
from agents.checkpoint import open_checkpointer
from agents.events import AgentEvent
from agents.offline.model import OfflineChatModel
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import collect
from tests.contracts.jira.mock_spec import response_example, vendor_document
from tests.tools.jira.jira_helpers import context
from tools.jira.connector import CONNECTOR
from tools.jira.tools import build_jira_tools, operations_for

DOCUMENT = vendor_document()
ISSUE = response_example(DOCUMENT, "get", "/rest/api/3/issue/{issueIdOrKey}", "200")
MYSELF = response_example(DOCUMENT, "get", "/rest/api/3/myself", "200")
PROJECTS = response_example(DOCUMENT, "get", "/rest/api/3/project", "200")
TRANSITIONS = response_example(DOCUMENT, "get", "/rest/api/3/issue/{issueIdOrKey}/transitions", "200")
CREATED = response_example(DOCUMENT, "post", "/rest/api/3/issue", "201")
COMMENT = response_example(DOCUMENT, "post", "/rest/api/3/issue/{issueIdOrKey}/comment", "201")
SERVER = response_example(DOCUMENT, "get", "/rest/api/3/serverInfo", "200")
USERS = response_example(DOCUMENT, "get", "/rest/api/3/user/search", "200")

FLAVOURS = ["cloud", "datacenter"]


def test_the_examples_are_the_shapes_that_crashed_us() -> None:
    """Guards the premise: Atlassian's issue example carries its comments as a bare list."""
    assert isinstance(ISSUE["fields"]["comment"], list)
    assert "summary" not in ISSUE["fields"] and isinstance(ISSUE["fields"]["updated"], int)


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_every_read_carries_the_examples_data(prism_url: str, flavour: str) -> None:
    ops = operations_for(context(prism_url, deployment=flavour))
    issue = await ops.get_issue("ED-1")
    assert issue["key"] == ISSUE["key"] == "ED-1"
    assert issue["description"] == "Main order flow broken"
    assert issue["project"] == "Example (EX)"
    first = ISSUE["fields"]["comment"][0]
    assert issue["comments"][0]["author"] == first["author"]["displayName"] == "Mia Krystof"
    assert issue["comments"][0]["body"].startswith("Lorem ipsum dolor sit amet")
    assert issue["comment_count"] == len(ISSUE["fields"]["comment"])

    found = await ops.search_issues(text="order flow")
    assert [i.key for i in found["issues"]] == ["ED-1"]
    mine = await ops.my_open_issues()
    assert [i.key for i in mine["issues"]] == ["ED-1"] and mine["next_page_token"] is None

    projects = await ops.list_projects()
    assert [p["key"] for p in projects["projects"]] == [p["key"] for p in PROJECTS] == ["EX", "ABC"]

    moves = await ops.list_transitions("ED-1")
    expected = [(t["id"], t["name"], t["to"]["name"]) for t in TRANSITIONS["transitions"]]
    assert [(t["id"], t["name"], t["to"]) for t in moves["transitions"]] == expected

    me = await ops.whoami()
    assert me["user"] == MYSELF["displayName"] and me["version"] == SERVER["version"]


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_every_write_carries_the_examples_data(prism_url: str, flavour: str) -> None:
    ops = operations_for(context(prism_url, deployment=flavour))
    created = await ops.create_issue(summary="Checkout fails", project="EX", assignee="me")
    assert created["created"] is True and created["key"] == CREATED["key"] == "ED-24"
    assert created["issue_type"] == "Bug"  # the only type in the create-metadata example
    comment = await ops.add_comment("ED-1", "Deployed to staging")
    assert comment["comment_id"] == COMMENT["id"] and comment["author"] == "Mia Krystof"
    moved = await ops.transition_issue("ED-1", "In Progress")
    assert moved["status"] == "In Progress"
    assigned = await ops.assign_issue("ED-1", USERS[0]["displayName"])
    assert assigned["assignee"] == "Mia Krystof"


async def test_connection_test_reads_the_examples(prism_url: str) -> None:
    result = await CONNECTOR.test_connection(context(prism_url))
    failed = [step for step in result.steps if not step.ok]
    assert failed == [] and result.ok
    assert result.details["user"] == "Mia Krystof"


# --------------------------------------------------------------------------- the agent


@dataclass
class Agent:
    runner: AgentRunner
    tools: list[BaseTool]

    async def ask(self, message: str, thread: str) -> list[AgentEvent]:
        return await collect(self.runner.run_turn(thread_id=thread, message=message, tools=self.tools))

    async def approve(self, events: list[AgentEvent], thread: str) -> list[AgentEvent]:
        request = next(e for e in events if e.type == "approval_required")
        decision = ApprovalDecision(tool_call_id=request.metadata["tool_call_id"], decision="approve")
        return await collect(self.runner.run_turn(thread_id=thread, decisions=[decision], tools=self.tools))


@pytest.fixture
async def agent(prism_url: str, tmp_path: Path) -> AsyncIterator[Agent]:
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'checkpoints.db'}") as saver:
        yield Agent(AgentRunner(OfflineChatModel(), saver), build_jira_tools(context(prism_url, name="Acme Jira")))


def answer(events: list[AgentEvent]) -> str:
    kinds = [e.type for e in events]
    assert "error" not in kinds, [e.content for e in events if e.type == "error"]
    final = events[-1]
    assert final.type == "final" and final.metadata["finish_reason"] == "stop"
    failed = [e.content for e in events if e.type == "tool_result" and e.metadata["status"] != "completed"]
    assert failed == []
    return final.content


READS: list[tuple[str, list[str]]] = [
    ("show me jira issue ED-1", ["ED-1", "Main order flow broken", "Mia Krystof", "Lorem ipsum"]),
    ("search jira for order flow", ["ED-1"]),
    ("what are my open jira issues?", ["ED-1"]),
]
WRITES: list[tuple[str, list[str]]] = [
    ("comment on ED-1: Deployed to staging", ["ED-1", "focusedCommentId=10000"]),
    ("move ED-1 to in progress", ["ED-1", "In Progress"]),
    ("assign ED-1 to Mia Krystof", ["ED-1", "Mia Krystof"]),
]


@pytest.mark.parametrize(("message", "expected"), READS, ids=[m for m, _ in READS])
async def test_agent_answers_from_the_examples(
    agent: Agent, message: str, expected: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    text = answer(await agent.ask(message, thread="read"))
    for needle in expected:
        assert needle in text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(("message", "expected"), WRITES, ids=[m for m, _ in WRITES])
async def test_agent_writes_after_approval_from_the_examples(
    agent: Agent, message: str, expected: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    asked = await agent.ask(message, thread="write")
    assert asked[-1].type == "approval_required", [e.content for e in asked]
    text = answer(await agent.approve(asked, thread="write"))
    for needle in expected:
        assert needle in text, text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_agent_creates_after_asking_for_what_the_create_metadata_requires(agent: Agent) -> None:
    """The create-metadata example requires an Assignee: the agent asks, then creates ED-24."""
    asked = await agent.ask("create a bug in EX: Checkout fails", thread="create")
    first = answer(await agent.approve(asked, thread="create"))
    assert "Assignee" in first and "Nothing was created" in first
    asked = await agent.ask("assignee me", thread="create")
    assert asked[-1].type == "approval_required", [e.content for e in asked]
    text = answer(await agent.approve(asked, thread="create"))
    assert CREATED["key"] in text and "EX" in text
