"""A hostile EMR: the agent asks for a patient's vitals while the FHIR server answers badly.

The patient search answers properly; the Observation search answers with an HTML page (200 and 500),
JSON cut short, an empty body, a stall past the timeout, a redirect, a body past the size cap, a
Bundle shaped wrongly, or an OperationOutcome. Each turn ends in `final` stop with an answer that
says which EMR could not be read and why: no `agent_error`, no exception, no ERROR line in the log.
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
from tools.base import IntegrationContext, ToolServices
from tools.fhir.client import MAX_BODY_BYTES
from tools.fhir.connector import CONNECTOR
from tools.fhir.tools import build_emr_tools
from tools.net import OutboundPolicy

HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
PATIENTS = {
    "resourceType": "Bundle",
    "type": "searchset",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Quimby", "given": ["Harold"]}]}}
    ],
}
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": {"severity": "error", "code": "processing", "diagnostics": "Observation search is disabled"},
}

CASES: dict[str, tuple[Answer, str]] = {
    "html page with 200": (Answer(200, HTML, {"Content-Type": "text/html"}), "without FHIR JSON"),
    "html error page with 500": (Answer(500, HTML, {"Content-Type": "text/html"}), "HTTP 500"),
    "truncated json": (Answer(200, b'{"resourceType": "Bundle", "entry": [{"reso'), "without FHIR JSON"),
    "empty body": (Answer(200, b""), "without FHIR JSON"),
    "stall past the timeout": (Answer(200, b"{}", delay_s=2.5), "did not answer"),
    "redirect": (Answer(302, b"", {"Location": "http://169.254.169.254/"}), "HTTP 302"),
    "body past the size cap": (Answer(200, b" " * (MAX_BODY_BYTES + 10)), "more than 16 MB"),
    "not a bundle": (Answer.json({"resourceType": "Patient", "id": "p1"}), "did not return a Bundle"),
    "operation outcome with one issue object": (Answer.json(OUTCOME, status=403), "Observation search is disabled"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def context(server: ScriptedServer) -> IntegrationContext:
    config, credentials = CONNECTOR.validate({"base_url": server.url + "/fhir", "timeout_s": 1}, None)
    return IntegrationContext(
        id="emr-1",
        name="Hostile EMR",
        integration_type="emr",
        config=config,
        credentials=credentials,
        outbound=OutboundPolicy.from_entries(["127.0.0.1/32"]),
    )


@pytest.mark.parametrize("case", list(CASES))
async def test_a_hostile_emr_gets_a_helpful_answer(
    server: ScriptedServer, case: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    hostile, expected = CASES[case]
    server.by_path = {"/fhir/Patient": Answer.json(PATIENTS), "/fhir/Observation": hostile}
    tools = build_emr_tools(context(server), ToolServices())
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}") as saver:
        runner = AgentRunner(OfflineChatModel(), saver)
        events = await collect(runner.run_turn(thread_id="h", message="show vitals for Harold Quimby", tools=tools))
    kinds = [e.type for e in events]
    assert "error" not in kinds, [e.content for e in events if e.type == "error"]
    final = events[-1]
    assert final.type == "final" and final.metadata["finish_reason"] == "stop"
    results = [e for e in events if e.type == "tool_result"]
    assert results[0].metadata["status"] == "completed"  # the patient search
    assert results[-1].metadata["status"] == "failed", results[-1].content
    assert "Hostile EMR" in final.content and expected in final.content, final.content
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
