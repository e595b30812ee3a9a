"""Every write or destructive tool of every connector says in plain words what a call will do.

The tools are enumerated from the connector registry (per-integration and shared tools), so a new
write tool without a summary fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool

from tools.base import IntegrationContext, ToolServices
from tools.registry import connectors
from tools.tooling import tool_policy

CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "jira": (
        {"base_url": "https://acme.atlassian.net", "deployment": "cloud"},
        {"email": "dana@example.com", "api_token": "token"},
    ),
    "emr": ({"base_url": "https://fhir.example.org/r4"}, None),
    "hl7": ({"host": "lis.example.org", "port": 2575}, None),
}
NAMES = {"jira": "Demo Jira", "emr": "Epic sandbox", "hl7": "Demo HL7 receiver"}

ADT = (
    "MSH|^~\\&|SB|HOSP|LIS|LAB|20250101120000||ADT^A01^ADT_A01|CTRL1|P|2.5\r"
    "PID|1||12345^^^HOSP^MR~999^^^SSA||Quimby^Harold||19500101|M"
)
# Arguments a model would send, per operation, and the line a person should read.
EXPECTED: dict[str, tuple[dict[str, Any], str]] = {
    "jira.create_issue": (
        {"summary": "Discharge summary PDF is blank", "project": "sb", "issue_type": "Bug"},
        "Create a Bug in SB \u2014 \u201cDischarge summary PDF is blank\u201d",
    ),
    "jira.add_comment": ({"key": "OPS-2", "body": "Looked at it"}, "Comment on OPS-2 \u2014 \u201cLooked at it\u201d"),
    "jira.transition_issue": ({"key": "SB-4", "to": "In Progress"}, "Move SB-4 to In Progress"),
    "jira.assign_issue": ({"key": "SB-4", "assignee": "unassigned"}, "Unassign SB-4"),
    "hl7.send": ({"message": ADT}, "Send ADT^A01 for MRN 12345 to Demo HL7 receiver"),
}


def all_tools() -> list[BaseTool]:
    found: list[BaseTool] = []
    for kind, connector in connectors().items():
        config, credentials = CONFIGS[kind]
        parsed_config, parsed_credentials = connector.validate(config, credentials)
        ctx = IntegrationContext(
            id=f"int-{kind}",
            name=NAMES[kind],
            integration_type=kind,
            config=parsed_config,
            credentials=parsed_credentials,
        )
        services = ToolServices(user_id="u1")
        found += connector.build_tools(ctx, services)
        found += connector.build_shared_tools([ctx], services)
    return found


def test_the_registry_holds_the_three_connectors() -> None:
    assert set(connectors()) == {"jira", "emr", "hl7"}


def test_every_write_tool_has_a_plain_words_summary_from_the_tool() -> None:
    writes = [tool for tool in all_tools() if tool_policy(tool).access != "read"]
    assert {tool_policy(tool).operation for tool in writes} == set(EXPECTED)
    for tool in writes:
        policy = tool_policy(tool)
        assert policy.summarize is not None, f"{policy.operation} has no summary"
        args, line = EXPECTED[policy.operation]
        assert policy.summary(args) == line


def test_risk_and_label_say_what_a_person_weighs() -> None:
    by_operation = {tool_policy(tool).operation: tool_policy(tool) for tool in all_tools()}
    assert by_operation["hl7.send"].risk == "patient_data"
    assert by_operation["jira.transition_issue"].risk == "write"
    assert by_operation["emr.vitals"].risk == "read"
    assert by_operation["jira.my_open_issues"].label == "Demo Jira \u00b7 my open issues"
    assert by_operation["hl7.explain"].label == "HL7 \u00b7 explain"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ({"key": "sb-4", "assignee": "me"}, "Assign SB-4 to you"),
        ({"key": "SB-4", "assignee": "Priya Shah"}, "Assign SB-4 to Priya Shah"),
        ({"key": "SB-4"}, "Demo Jira \u00b7 assign issue"),  # arguments the model got wrong: the label
    ],
)
def test_summaries_follow_the_arguments(args: dict[str, Any], line: str) -> None:
    tool = next(t for t in all_tools() if tool_policy(t).operation == "jira.assign_issue")
    assert tool_policy(tool).summary(args) == line


def test_a_long_text_is_cut_on_one_line() -> None:
    tool = next(t for t in all_tools() if tool_policy(t).operation == "jira.add_comment")
    line = tool_policy(tool).summary({"key": "OPS-2", "body": "word\n" * 100})
    assert "\n" not in line and line.endswith("\u2026\u201d") and len(line) < 90
