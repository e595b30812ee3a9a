"""Jira answers generated from the response schemas of Atlassian's OpenAPI document, through the HTTP client.

For each operation the connector calls, hypothesis (with schemathesis' JSON-schema generator) draws
response bodies the vendor's schema allows (missing and `null` fields, extra fields, any enum value,
Cloud v3 and Data Center v2 routes); a loopback server answers with them and the real client path
reads them. No exception may escape, and the fields we know are read as the body says. The issue's
`fields` object is free-form in the schema (`additionalProperties`), so the known fields are drawn
from their own vendor schemas (StatusDetails, UserDetails, PageOfComments...), each possibly `null`,
plus Atlassian's bare-list comments. Examples per test are bounded (`JIRA_SCHEMA_EXAMPLES`, default
25) to keep CI fast.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.jira.mock_spec import vendor_document
from tests.contracts.json_server import Answer, ScriptedServer, scripted_server
from tests.contracts.schemas import from_schema, inline, or_null
from tests.tools.jira.jira_helpers import context
from tools.errors import ConnectorError
from tools.jira.operations import JiraOperations
from tools.jira.tools import operations_for

EXAMPLES = int(os.environ.get("JIRA_SCHEMA_EXAMPLES", "25"))
COMPONENTS: dict[str, Any] = vendor_document()["components"]["schemas"]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def component(name: str, depth: int = 2) -> dict[str, Any]:
    schema: dict[str, Any] = inline({"$ref": f"#/components/schemas/{name}"}, COMPONENTS, depth)
    return schema


ADF_TEXT = {
    "type": "object",
    "properties": {
        "type": {"const": "doc"},
        "version": {"const": 1},
        "content": {"type": "array", "maxItems": 2, "items": {}},
    },
}
COMMENT = component("Comment", 1)
FIELDS = {
    "type": "object",
    "properties": {
        "summary": or_null({"type": "string"}),
        "status": or_null(component("StatusDetails")),
        "assignee": or_null(component("UserDetails")),
        "reporter": or_null(component("UserDetails")),
        "priority": or_null(component("Priority", 1)),
        "issuetype": or_null(component("IssueTypeDetails", 1)),
        "project": or_null(component("ProjectDetails", 1)),
        "resolution": or_null(component("Resolution")),
        "labels": or_null({"type": "array", "items": {"type": "string"}, "maxItems": 4}),
        "updated": or_null({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "integer"}]}),
        "created": or_null({"type": "string", "format": "date-time"}),
        "description": or_null({"anyOf": [ADF_TEXT, {"type": "string"}]}),
        # The REST answer's page, or the bare list Atlassian's own example carries.
        "comment": or_null(
            {"anyOf": [component("PageOfComments", 2), {"type": "array", "items": COMMENT, "maxItems": 3}]}
        ),
    },
}


def issue_schema() -> dict[str, Any]:
    schema = component("IssueBean", 1)
    properties = dict(schema.get("properties", {}))
    for noisy in (
        "changelog",
        "editmeta",
        "names",
        "operations",
        "renderedFields",
        "schema",
        "versionedRepresentations",
    ):
        properties.pop(noisy, None)  # free-form maps the connector never reads; they only slow generation
    properties["fields"] = FIELDS
    properties["key"] = {"type": "string"}
    return {**schema, "properties": properties}


ISSUE = issue_schema()
FLAVOURS = st.sampled_from(["cloud", "datacenter"])


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def run(server: ScriptedServer, flavour: str, body: Any, call: Any, status: int = 200) -> Any:
    server.answer = Answer.json(body, status)
    ops = operations_for(context(server.url, deployment=flavour))
    try:
        return asyncio.run(call(ops))
    except ConnectorError as exc:  # the system's refusal, phrased for the model: allowed
        return exc


def text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


# --------------------------------------------------------------------------- issue and search


def assert_issue_read(result: dict[str, Any], raw: dict[str, Any]) -> None:
    fields = raw.get("fields") if isinstance(raw.get("fields"), dict) else {}
    if text(raw.get("key")):
        assert result["key"] == text(raw["key"])
    status = fields.get("status")
    if isinstance(status, dict) and text(status.get("name")):
        assert result["status"] == text(status["name"])
    assignee = fields.get("assignee")
    if isinstance(assignee, dict) and text(assignee.get("displayName")):
        assert result["assignee"] == text(assignee["displayName"])
    elif assignee is None:
        assert result["assignee"] == "Unassigned"
    if isinstance(fields.get("summary"), str):
        assert result["summary"] == (fields["summary"].strip() or "")


@SETTINGS
@given(body=from_schema(ISSUE), flavour=FLAVOURS)
def test_get_issue_reads_any_issue_the_schema_allows(server: ScriptedServer, body: Any, flavour: str) -> None:
    async def call(ops: JiraOperations) -> Any:
        return await ops.get_issue("ED-1")

    result = run(server, flavour, body, call)
    assert isinstance(result, dict)
    assert_issue_read(result, body)
    comment = body.get("fields", {}).get("comment")
    listed = comment if isinstance(comment, list) else (comment or {}).get("comments")
    if isinstance(listed, list):
        shown = [c for c in listed if isinstance(c, dict)][-5:]
        assert len(result["comments"]) == len(shown)
        for view, raw in zip(result["comments"], shown, strict=True):
            author = raw.get("author")
            if isinstance(author, dict) and text(author.get("displayName")):
                assert view["author"] == text(author["displayName"])


def search_schema(flavour: str) -> dict[str, Any]:
    page = component("SearchAndReconcileResults" if flavour == "cloud" else "SearchResults", 1)
    properties = {**page.get("properties", {}), "issues": {"type": "array", "items": ISSUE, "maxItems": 3}}
    for noisy in ("names", "schema"):
        properties.pop(noisy, None)
    return {**page, "properties": properties}


@SETTINGS
@given(data=st.data(), flavour=FLAVOURS)
def test_search_reads_any_page_the_schema_allows(server: ScriptedServer, data: st.DataObject, flavour: str) -> None:
    body = data.draw(from_schema(search_schema(flavour)))

    async def call(ops: JiraOperations) -> Any:
        return await ops.search_issues(text="anything")

    result = run(server, flavour, body, call)
    assert isinstance(result, dict)
    issues = [i for i in body.get("issues") or [] if isinstance(i, dict)]
    assert result["count"] == len(issues)
    for summary, raw in zip(result["issues"], issues, strict=True):
        assert_issue_read(summary.model_dump(), raw)
    if flavour == "cloud" and body.get("isLast") is True:
        assert result["next_page_token"] is None


# --------------------------------------------------------------------------- the other reads and writes


def _array(name: str, depth: int = 1) -> dict[str, Any]:
    return {"type": "array", "items": component(name, depth), "maxItems": 3}


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "transitions": (component("Transitions", 2), lambda ops: ops.list_transitions("ED-1")),
    "myself + serverInfo": (component("User", 1), lambda ops: ops.whoami()),
    "projects": (_array("Project"), lambda ops: ops.list_projects()),
    "users (assign)": (_array("User"), lambda ops: ops.assign_issue("ED-1", "someone")),
    "comment": (COMMENT, lambda ops: ops.add_comment("ED-1", "Deployed")),
    "create metadata (types)": (
        component("PageOfCreateMetaIssueTypes", 2),
        lambda ops: ops.create_issue(summary="x", project="EX"),
    ),
    "create metadata (fields)": (
        component("PageOfCreateMetaIssueTypeWithField", 2),
        lambda ops: ops.create_issue(summary="x", project="EX", priority="High"),
    ),
    "created issue": (component("CreatedIssue", 1), lambda ops: ops.create_issue(summary="x", project="EX")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_other_operations_survive_any_answer_the_schema_allows(server: ScriptedServer, case: str) -> None:
    schema, operation = CASES[case]

    @SETTINGS
    @given(body=from_schema(schema), flavour=FLAVOURS)
    def check(body: Any, flavour: str) -> None:
        result = run(server, flavour, body, operation)
        assert isinstance(result, dict | ConnectorError)
        if case == "transitions" and isinstance(result, dict):
            listed = [t for t in body.get("transitions") or [] if isinstance(t, dict)]
            assert [t["id"] for t in result["transitions"]] == [str(t.get("id")) for t in listed]

    check()


@SETTINGS
@given(body=from_schema(component("ErrorCollection", 1)), status=st.sampled_from([400, 403, 404, 409, 500]))
def test_error_collections_become_a_sentence(server: ScriptedServer, body: Any, status: int) -> None:
    async def call(ops: JiraOperations) -> Any:
        return await ops.get_issue("ED-1")

    result = run(server, "cloud", body, call, status=status)
    assert isinstance(result, ConnectorError) and result.upstream_status == status
    for message in body.get("errorMessages") or []:
        if isinstance(message, str) and message.strip() and len(message) < 50:
            assert message.strip() in result.message
