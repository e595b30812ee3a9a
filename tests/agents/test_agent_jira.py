"""The agent with the offline model and real Jira tools against the sandbox over HTTP.

Covers what people type ("what are my open Jira tickets?", "whats on my plate in jira", "show me
SB-7"), writes that wait for approval and land in the sandbox, follow-ups that refer to an earlier
issue, required fields asked for, and the choice between two Jira sites.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool

from agents.approvals import ApprovalDecision
from agents.checkpoint import open_checkpointer
from agents.events import AgentEvent
from agents.offline.model import OfflineChatModel
from agents.offline.planner import build_turn, tool_infos
from agents.offline.skill import normalize
from agents.offline.skills.jira import SKILL
from agents.offline.skills.jira_intents import parse_intent
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import collect
from tests.tools.jira.jira_helpers import context, running_sandbox, sandbox_state
from tools.jira.sandbox import JiraSandbox
from tools.jira.sandbox_state import JiraState
from tools.jira.tools import build_jira_tools

DANAS_OPEN = ["OPS-2", "SB-1", "OPS-5", "SB-7", "SB-4", "MKT-3"]


@dataclass
class Harness:
    runner: AgentRunner
    sandbox: JiraSandbox
    tools: list[BaseTool]

    @property
    def state(self) -> JiraState:
        return sandbox_state(self.sandbox)

    async def ask(self, message: str, thread: str = "t") -> list[AgentEvent]:
        return await collect(self.runner.run_turn(thread_id=thread, message=message, tools=self.tools))

    async def decide(self, events: list[AgentEvent], decision: str = "approve", thread: str = "t") -> list[AgentEvent]:
        request = next(e for e in events if e.type == "approval_required")
        answer = ApprovalDecision(tool_call_id=request.metadata["tool_call_id"], decision=decision)  # type: ignore[arg-type]
        return await collect(self.runner.run_turn(thread_id=thread, decisions=[answer], tools=self.tools))


@pytest.fixture
async def jira(tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        running_sandbox() as server,
        open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'checkpoints.db'}") as saver,
    ):
        yield Harness(AgentRunner(OfflineChatModel(), saver), server, build_jira_tools(context(server.url)))


def final(events: list[AgentEvent]) -> str:
    assert events[-1].type == "final", [e.type for e in events]
    return events[-1].content


def calls(events: list[AgentEvent]) -> list[tuple[str, dict[str, object]]]:
    return [(e.metadata["tool_name"], e.metadata["args"]) for e in events if e.type == "tool_call"]


async def test_what_are_my_open_jira_tickets(jira: Harness) -> None:
    events = await jira.ask("what are my open Jira tickets?")
    assert calls(events) == [("acme_jira__my_open_issues", {})]
    answer = final(events)
    assert answer.startswith("You have **6** open Jira issues assigned to you, most important first:")
    rows = [line for line in answer.splitlines() if line.startswith("| [")]
    assert [row.split("]")[0].removeprefix("| [") for row in rows] == DANAS_OPEN
    assert f"[OPS-2]({jira.sandbox.url}/browse/OPS-2)" in answer and "Nightly database backup" in answer
    # Grounded: every key in the answer is one the sandbox returned for Dana.
    assert {k for k in jira.state.issues if f"[{k}]" in answer} == set(DANAS_OPEN)


@pytest.mark.parametrize(
    "message",
    ["whats on my plate in jira", "tickets assigned to me", "Show me my open jria tikets", "what am I working on?"],
)
async def test_varied_phrasing_finds_my_issues(jira: Harness, message: str) -> None:
    events = await jira.ask(message)
    assert calls(events) == [("acme_jira__my_open_issues", {})]
    assert "**6** open Jira issues" in final(events)


async def test_show_an_issue_by_key(jira: Harness) -> None:
    answer = final(await jira.ask("show me sb-7"))
    assert answer.startswith(f"**[SB-7]({jira.sandbox.url}/browse/SB-7): Show the last connection test result")
    assert "- **Status:** In Review" in answer and "**Alex Kim**" in answer and "Design approved." in answer
    missing = final(await jira.ask("show me SB-999", thread="other"))
    assert missing.startswith("I could not open SB-999. Jira said:") and "does not exist" in missing


async def test_search_by_text_and_jql(jira: Harness) -> None:
    events = await jira.ask("find tickets about certificate")
    assert calls(events)[0][1]["jql"] == 'text ~ "certificate" ORDER BY updated DESC'
    assert "[OPS-5]" in final(events) and "[OPS-3]" in final(events)
    events = await jira.ask("jql: project = MKT AND assignee is EMPTY", thread="jql")
    assert "[MKT-5]" in final(events) and "Found **1** issue" in final(events)
    bad = final(await jira.ask("jql: project = NOPE", thread="bad"))
    assert "The value 'NOPE' does not exist for the field 'project'" in bad


async def test_create_after_approval_lands_in_the_sandbox(jira: Harness) -> None:
    events = await jira.ask("create a bug in SB: Export button does nothing on Safari")
    assert [e.type for e in events][-1] == "approval_required"
    request = events[-1].metadata
    assert request["tool_name"] == "acme_jira__create_issue"
    assert request["args"] == {"summary": "Export button does nothing on Safari", "issue_type": "Bug", "project": "SB"}
    assert "SB-19" not in jira.state.issues  # nothing happens before the approval
    answer = final(await jira.decide(events))
    assert (
        answer
        == f"Created **[SB-19]({jira.sandbox.url}/browse/SB-19)**: Export button does nothing on Safari (Bug in SB)."
    )
    created = jira.state.issues["SB-19"]
    assert (created.summary, created.type, created.reporter, created.status) == (
        "Export button does nothing on Safari",
        "Bug",
        "dana",
        "To Do",
    )
    # "assign it to me" refers to the issue just created.
    follow = await jira.ask("great, assign it to me")
    assert follow[-1].metadata["args"] == {"assignee": "me", "key": "SB-19"}
    assert (
        final(await jira.decide(follow)) == f"Assigned **[SB-19]({jira.sandbox.url}/browse/SB-19)** to **Dana Demo**."
    )
    assert created.assignee == "dana"


async def test_rejected_write_changes_nothing(jira: Harness) -> None:
    events = await jira.ask("move SB-3 to done")
    assert events[-1].metadata["args"] == {"to": "Done", "key": "SB-3"}
    answer = final(await jira.decide(events, "reject"))
    assert answer.startswith("OK — I did not move SB-3") and jira.state.issues["SB-3"].status == "To Do"
    events = await jira.ask("ok, close SB-3 then")
    assert final(await jira.decide(events)).endswith("from **To Do** to **Done**.")
    assert jira.state.issues["SB-3"].status == "Done"


async def test_comment_and_transition_follow_ups(jira: Harness) -> None:
    assert "SB-4" in final(await jira.ask("show SB-4"))
    events = await jira.ask('comment on it: "Deployed to staging"')
    assert events[-1].metadata["args"] == {"body": "Deployed to staging", "key": "SB-4"}
    assert final(await jira.decide(events)).startswith("Added your comment to **[SB-4]")
    assert jira.state.issues["SB-4"].comments[-1].body["content"][0]["content"][0]["text"] == "Deployed to staging"
    events = await jira.ask("mark it as in progress")
    assert final(await jira.decide(events)).endswith("to **In Progress**.")
    assert jira.state.issues["SB-4"].status == "In Progress"


async def test_required_fields_are_asked_for_then_filled(jira: Harness) -> None:
    events = await jira.ask("create an incident in OPS: Disk full on db-2")
    answer = final(await jira.decide(events))
    assert answer.startswith("Jira needs more before I can create this **Incident** in **OPS**.")
    assert "**Component/s**: one of Network, Database, Integrations" in answer and "OPS-13" not in jira.state.issues
    events = await jira.ask("priority high, component database")
    assert events[-1].metadata["args"]["fields"] == {"Component/s": "Database"}
    assert final(await jira.decide(events)).startswith("Created **[OPS-13]")
    assert jira.state.issues["OPS-13"].components == ["Database"] and jira.state.issues["OPS-13"].priority == "High"


async def test_two_sites_reads_everywhere_and_writes_ask_which(jira: Harness) -> None:
    async with running_sandbox() as second:
        other = build_jira_tools(replace(context(second.url, name="Beta Jira"), id="int-beta"))
        jira.tools = [*jira.tools, *other]
        events = await jira.ask("my open issues")
        assert [name for name, _ in calls(events)] == ["acme_jira__my_open_issues", "beta_jira__my_open_issues"]
        assert "on **Acme Jira**" in final(events) and "on **Beta Jira**" in final(events)
        asked = final(await jira.ask("create a task: Renew the domain", thread="w"))
        assert asked == "Which Jira site should I use: **Acme Jira** or **Beta Jira**?"
        events = await jira.ask("beta", thread="w")
        assert events[-1].metadata["tool_name"] == "beta_jira__create_issue"
        # No project named and no default: the answer asks for it, and the next message resumes the create.
        assert "**Project**: one of SB, OPS, MKT" in final(await jira.decide(events, thread="w"))
        events = await jira.ask("MKT", thread="w")
        assert events[-1].metadata["args"] == {"summary": "Renew the domain", "issue_type": "Task", "project": "MKT"}
        assert final(await jira.decide(events, thread="w")).startswith(f"Created **[MKT-11]({second.url}")
        assert "MKT-11" in sandbox_state(second).issues and "MKT-11" not in jira.state.issues


@pytest.mark.parametrize(
    ("message", "kind", "args"),
    [
        ("what are my open Jira tickets?", "my_open", {}),
        ("show me PROJ-7", "get", {}),
        ("my open bugs in SB", "search", {"jql": "project = SB AND assignee = currentUser() AND statusCategory != Done "
                                         "AND issuetype = Bug ORDER BY updated DESC"}),
        ("open incidents in OPS updated in the last week", "search",
         {"jql": "project = OPS AND statusCategory != Done AND issuetype = Incident AND updated >= -7d "
                 "ORDER BY updated DESC"}),
        ("unassigned bugs", "search", {"jql": "assignee is EMPTY AND issuetype = Bug ORDER BY updated DESC"}),
        ('create a ticket in OPS called "Disk full on db-2" with high priority', "create",
         {"summary": "Disk full on db-2", "project": "OPS", "priority": "High"}),
        ("open a new task to update the onboarding docs in MKT and assign it to me", "create",
         {"summary": "Update the onboarding docs", "issue_type": "Task", "project": "MKT", "assignee": "me"}),
        ("report a bug: crash on save", "create", {"summary": "Crash on save", "issue_type": "Bug"}),
        ("move ABC-12 to done", "transition", {"to": "done"}),
        ("close SB-4", "transition", {"to": "Done"}),
        ("assign SB-3 to priya", "assign", {"assignee": "priya"}),
        ("unassign SB-3", "assign", {"assignee": "unassigned"}),
        ("assign SB-3 to Priya Patel please", "assign", {"assignee": "Priya Patel"}),
        ("take SB-9", "assign", {"assignee": "me"}),
        ("what did I file last week?", "search",
         {"jql": "reporter = currentUser() AND created >= -7d ORDER BY updated DESC"}),
        ("add a comment to SB-3 saying looks good", "comment", {"body": "looks good"}),
        ("which projects can I see?", "projects", {}),
        ("who am i in jira", "whoami", {}),
        ("what transitions can SB-3 take", "transitions", {}),
        ("any tickets labeled webhooks?", "search", {"jql": 'labels = "webhooks" ORDER BY updated DESC'}),
    ],
)  # fmt: skip
def test_intents(message: str, kind: str, args: dict[str, str]) -> None:
    intent = parse_intent(normalize(message), message)
    assert intent is not None and (intent.kind, intent.args) == (kind, args)


def test_clinical_questions_yield_to_the_emr_skill(jira: Harness) -> None:
    """The EMR skill scores 0.85 on patient questions; Jira must stay below unless Jira is named."""
    infos = tool_infos(jira.tools)
    clinical = build_turn([HumanMessage("does this patient have any open issues with allergies?")], infos)
    named = build_turn([HumanMessage("any jira issues about patient allergies?")], infos)
    assert SKILL.score(clinical) < 0.85 <= SKILL.score(named)


async def test_follow_ups_by_position_and_by_pronoun(jira: Harness) -> None:
    await jira.ask("my open issues pls")
    second = await jira.ask("tell me more about the second one")
    assert calls(second) == [("acme_jira__get_issue", {"key": "SB-1"})]
    assert "Login fails with SSO" in final(second)
    found = await jira.ask("search jira for MLLP", thread="mllp")
    assert calls(found)[0][1]["jql"] == 'text ~ "MLLP" ORDER BY updated DESC' and "[OPS-6]" in final(found)
    who = await jira.ask("who's on it?", thread="mllp")
    assert calls(who) == [("acme_jira__get_issue", {"key": "OPS-6"})]
    assert "- **Assignee:** Priya Patel" in final(who)


async def test_unsupported_and_project_scoped_requests(jira: Harness) -> None:
    refused = await jira.ask("delete all my jira issues")
    assert calls(refused) == [] and final(refused).startswith("I can't delete or archive Jira issues")
    assert len(jira.state.issues) == 40
    progress = await jira.ask("what's in progress in OPS?", thread="ops")
    searches = [args for name, args in calls(progress) if name.endswith("search_issues")]
    assert searches[0]["jql"] == 'project = OPS AND status = "In Progress" ORDER BY updated DESC'
    assert "[OPS-2]" in final(progress) and "[OPS-6]" in final(progress)
    stock = await jira.ask("what's the stock price of epic systems right now", thread="stock")
    assert calls(stock) == []
