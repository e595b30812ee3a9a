"""The Jira skill through the understanding layer, against the sandbox over HTTP: meaning over cue
words, grounding before a write, negation in JQL, hypotheticals that never write, compound steps."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agents.checkpoint import open_checkpointer
from agents.offline.model import OfflineChatModel
from agents.runtime import AgentRunner
from tests.agents.test_agent_jira import Harness, calls, final
from tests.tools.jira.jira_helpers import context, running_sandbox
from tools.jira.tools import build_jira_tools


@pytest.fixture
async def jira(tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        running_sandbox() as server,
        open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'checkpoints.db'}") as saver,
    ):
        yield Harness(AgentRunner(OfflineChatModel(), saver), server, build_jira_tools(context(server.url)))


async def test_paraphrased_writes_are_understood_and_wait_for_approval(jira: Harness) -> None:
    note = await jira.ask("drop a note on OPS-2 saying the backup finished in time last night")
    assert calls(note) == [
        ("acme_jira__add_comment", {"key": "OPS-2", "body": "the backup finished in time last night"})
    ]
    assert note[-1].type == "approval_required"
    handed = await jira.ask("hand SB-16 over to alex kim please", thread="assign")
    assert calls(handed)[-1] == ("acme_jira__assign_issue", {"key": "SB-16", "assignee": "alex kim"})


async def test_a_status_is_grounded_in_the_issues_transitions(jira: Harness) -> None:
    events = await jira.ask("move SB-4 to the purple column please")
    assert calls(events) == [("acme_jira__list_transitions", {"key": "SB-4"})]
    answer = final(events)
    assert "can't move to" in answer and "**Done**" in answer and jira.state.issues["SB-4"].status == "To Do"
    started = await jira.ask("show me SB-4", thread="start")
    started = await jira.ask("ok I'm starting on it now", thread="start")
    assert calls(started)[-1] == ("acme_jira__transition_issue", {"to": "In Progress", "key": "SB-4"})


async def test_negation_and_scope_become_jql_clauses(jira: Harness) -> None:
    unowned = await jira.ask("which tickets have no owner at the moment?")
    jql = calls(unowned)[-1][1]["jql"]
    assert "assignee is EMPTY" in str(jql) and "owner" not in str(jql) and "[SB-9]" in final(unowned)
    others = await jira.ask("show the bugs in progress that are not assigned to me", thread="others")
    assert "(assignee != currentUser() OR assignee is EMPTY)" in str(calls(others)[-1][1]["jql"])
    marketing = await jira.ask("marketing tasks nobody has picked up", thread="mkt")
    assert calls(marketing)[0] == ("acme_jira__list_projects", {})
    assert "project = MKT" in str(calls(marketing)[-1][1]["jql"]) and "[MKT-5]" in final(marketing)
    open_ops = await jira.ask("are there open incidents right now", thread="yes")
    assert final(open_ops).startswith("Yes — **")


async def test_an_unknown_project_is_asked_about_never_sent(jira: Harness) -> None:
    events = await jira.ask("create a task in the finance project to renew licences")
    assert calls(events) == [("acme_jira__list_projects", {})]
    assert "doesn't exist" in final(events) and "**OPS** (Operations)" in final(events)


async def test_what_would_happen_explains_and_go_ahead_does_it(jira: Harness) -> None:
    explained = await jira.ask("what would happen if you closed OPS-11?")
    assert calls(explained) == [] and "Nothing has been changed" in final(explained)
    assert "**Done**" in final(explained) and jira.state.issues["OPS-11"].status == "To Do"
    held = await jira.ask("create a task in OPS to rotate the keys but don't create it yet", thread="hold")
    assert not any(name.endswith("create_issue") for name, _ in calls(held)) and "OPS-13" not in jira.state.issues
    assert "`Rotate the keys`" in final(held)
    confirmed = await jira.ask("ok go ahead")
    assert calls(confirmed) == [
        ("acme_jira__list_transitions", {"key": "OPS-11"}),  # grounded now that it will really run
        ("acme_jira__transition_issue", {"to": "Done", "key": "OPS-11"}),
    ]
    done = await jira.decide(confirmed)
    assert jira.state.issues["OPS-11"].status == "Done" and "Moved" in final(done)


async def test_a_compound_request_uses_the_first_steps_result(jira: Harness) -> None:
    events = await jira.ask("show me SB-4 and then assign it to me")
    assert calls(events) == [
        ("acme_jira__get_issue", {"key": "SB-4"}),
        ("acme_jira__assign_issue", {"key": "SB-4", "assignee": "me"}),
    ]
    done = final(await jira.decide(events))
    assert done.index("Add retry with backoff") < done.index("Assigned")


async def test_help_texts_name_no_issue_the_user_has_not_seen(jira: Harness) -> None:
    answer = final(await jira.ask("jira"))
    assert not re.search(r"\b[A-Z]{2,}-\d+\b", answer), answer
