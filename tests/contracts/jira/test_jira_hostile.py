"""A hostile "Jira": every way a real site, proxy or login page answers badly ends in a helpful answer.

The agent (offline model, real Jira tools over HTTP) asks for an issue while the site answers with an
HTML page (200 and 500), JSON cut short, an empty body, a stall longer than the tool's timeout, a
redirect (to the cloud metadata address), a body past the size cap, the wrong content type. Each
turn ends with `final` stop and an answer that says what happened: no `agent_error`, no exception,
and no ERROR line in the log (these are the system's failures, not ours).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.checkpoint import open_checkpointer
from agents.offline.model import OfflineChatModel
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import collect
from tests.contracts.json_server import Answer, ScriptedServer, scripted_server
from tests.tools.jira.jira_helpers import context
from tools.jira.tools import build_jira_tools
from tools.jira.wire import MAX_BODY_BYTES

HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>"
ISSUE = b'{"key": "ED-1", "fields": {"summary": "Main order flow broken", "status": {"name": "Open"}}}'

# name -> (answer, what the user must read, whether the tool result is a failure)
CASES: dict[str, tuple[Answer, list[str], bool]] = {
    "html page with 200": (Answer(200, HTML, {"Content-Type": "text/html"}), ["not Jira's JSON"], True),
    "html error page with 500": (Answer(500, HTML, {"Content-Type": "text/html"}), ["(500)"], True),
    "truncated json": (Answer(200, ISSUE[:40]), ["not Jira's JSON"], True),
    "empty body": (Answer(200, b""), ["unknown"], False),
    "stall past the timeout": (Answer(200, ISSUE, delay_s=3.0), ["did not answer", "0.5 s"], True),
    "redirect to the metadata address": (
        Answer(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}),
        ["redirect"],
        True,
    ),
    "body past the size cap": (Answer(200, b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"), ["more than 8 MB"], True),
    "json as text/plain": (Answer(200, ISSUE, {"Content-Type": "text/plain"}), ["Main order flow broken"], False),
    "json error body as html content type": (
        Answer(404, b'{"errorMessages": ["Issue does not exist"]}', {"Content-Type": "text/html"}),
        ["Issue does not exist"],
        True,
    ),
    "body shorter than declared": (Answer(200, ISSUE[:30], declared_length=len(ISSUE)), ["failed"], True),
}


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


@pytest.mark.parametrize("case", list(CASES))
async def test_a_hostile_site_gets_a_helpful_answer(
    server: ScriptedServer, case: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer, expected, fails = CASES[case]
    server.answer = answer
    tools = build_jira_tools(context(server.url, timeout_s=0.5))
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}") as saver:
        runner = AgentRunner(OfflineChatModel(), saver)
        events = await collect(runner.run_turn(thread_id="h", message="show me jira issue ED-1", tools=tools))
    kinds = [e.type for e in events]
    assert "error" not in kinds, [e.content for e in events if e.type == "error"]
    final = events[-1]
    assert final.type == "final" and final.metadata["finish_reason"] == "stop"
    result = next(e for e in events if e.type == "tool_result")
    assert (result.metadata["status"] == "failed") is fails, result.content
    for needle in expected:
        assert needle in final.content, final.content
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
