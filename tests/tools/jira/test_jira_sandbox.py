"""The Jira sandbox as any Jira client sees it: real REST shapes, auth, errors, and the JQL subset."""

from __future__ import annotations

import httpx
import pytest

from tests.tools.jira.jira_helpers import sandbox_state
from tools.jira.sandbox import JiraSandbox
from tools.jira.sandbox_seed import ISSUES

DANA = ("dana@example.com", "demo-jira-token")


def client(server: JiraSandbox, auth: tuple[str, str] | None = DANA, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, auth=auth, headers=headers)


async def keys(server: JiraSandbox, jql: str) -> list[str]:
    async with client(server) as http:
        response = await http.get("/rest/api/3/search/jql", params={"jql": jql, "maxResults": 100, "fields": "summary"})
    assert response.status_code == 200, response.text
    return [issue["key"] for issue in response.json()["issues"]]


async def test_seed_is_documented_and_complete(sandbox: JiraSandbox) -> None:
    state = sandbox_state(sandbox)
    assert len(state.issues) == len(ISSUES) == 40
    assert {i.project for i in state.issues.values()} == {"SB", "OPS", "MKT"}
    assert await keys(sandbox, "project = SB ORDER BY key ASC") == [f"SB-{n}" for n in range(1, 19)]


async def test_auth_basic_bearer_and_errors(sandbox: JiraSandbox) -> None:
    async with client(sandbox) as http:
        me = (await http.get("/rest/api/3/myself")).json()
    assert me["accountId"] == "acct-dana" and me["displayName"] == "Dana Demo" and "name" not in me
    async with client(sandbox, auth=None, Authorization="Bearer demo-jira-pat") as http:
        assert (await http.get("/rest/api/2/myself")).json()["emailAddress"] == "dana@example.com"
    async with client(sandbox, auth=("dana@example.com", "nope")) as http:
        denied = await http.get("/rest/api/3/myself")
        assert denied.status_code == 401 and denied.headers["www-authenticate"].startswith("Basic")
        assert denied.json() == {
            "errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
            "errors": {},
        }
        assert (await http.get("/rest/api/3/serverInfo")).json()["deploymentType"] == "Cloud"  # anonymous is fine
    async with client(sandbox, auth=("guest@example.com", "guest-jira-token")) as http:
        assert (await http.get("/rest/api/3/myself")).status_code == 403


async def test_cloud_serves_v3_adf_and_v2_text_and_retired_search(sandbox: JiraSandbox) -> None:
    async with client(sandbox) as http:
        v3 = (await http.get("/rest/api/3/issue/SB-4", params={"fields": "description,summary"})).json()
        v2 = (await http.get("/rest/api/2/issue/sb-4")).json()
        gone = await http.get("/rest/api/3/search", params={"jql": "project = SB"})
        missing = await http.get("/rest/api/3/issue/SB-404")
        bad_token = await http.get("/rest/api/3/search/jql", params={"jql": "", "nextPageToken": "garbage"})
    assert set(v3["fields"]) == {"description", "summary"} and v3["fields"]["description"]["type"] == "doc"
    assert v2["fields"]["description"].startswith("Retry 5xx and timeouts")
    assert v2["fields"]["status"]["statusCategory"]["key"] == "new"
    assert gone.status_code == 410 and "/rest/api/3/search/jql" in gone.json()["errorMessages"][0]
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]
    assert bad_token.status_code == 400


async def test_data_center_has_search_but_not_search_jql(dc_sandbox: JiraSandbox) -> None:
    async with client(dc_sandbox, auth=None, Authorization="Bearer demo-jira-pat") as http:
        page = (
            await http.get("/rest/api/2/search", params={"jql": "assignee = currentUser()", "maxResults": 2})
        ).json()
        assert (await http.get("/rest/api/2/search/jql")).status_code == 404
        me = (await http.get("/rest/api/2/myself")).json()
    assert page["total"] == 8 and page["startAt"] == 0 and len(page["issues"]) == 2
    assert me["name"] == "dana" and "accountId" not in me


async def test_create_validates_like_jira(sandbox: JiraSandbox) -> None:
    async with client(sandbox) as http:
        invalid = await http.post(
            "/rest/api/3/issue",
            json={"fields": {"project": {"key": "OPS"}, "issuetype": {"id": "10004"}, "description": "plain"}},
        )
        broken = await http.post(
            "/rest/api/3/issue", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert invalid.status_code == 400
    assert invalid.json()["errors"] == {
        "summary": "You must specify a summary of the issue.",
        "priority": "Priority is required.",
        "components": "Component/s is required.",
        "description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
    }
    assert broken.status_code == 400 and broken.json()["errorMessages"]


async def test_faults_control(sandbox: JiraSandbox) -> None:
    async with client(sandbox, **sandbox.control_headers) as http:
        await http.post("/_sandbox/faults", json={"count": 1, "status": 429, "retry_after": "7"})
        limited = await http.get("/rest/api/3/myself")
        fine = await http.get("/rest/api/3/myself")
        sandbox_state(sandbox).issues["SB-1"].summary = "changed"
        await http.post("/_sandbox/reset")
        seen = (await http.get("/_sandbox/requests")).json()
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7" and fine.status_code == 200
    assert sandbox_state(sandbox).issues["SB-1"].summary.startswith("Login fails") and seen == [
        "GET /_sandbox/requests"
    ]


async def test_controls_refuse_callers_without_the_secret(sandbox: JiraSandbox) -> None:
    """Anything on loopback can reach the sandbox (a user's webhook, say): without the secret it
    cannot wipe the demo data, plant faults or read the request log."""
    sandbox_state(sandbox).issues["SB-1"].summary = "kept"
    async with (
        client(sandbox, auth=None, **{"X-Sandbox-Secret": "guessed"}) as wrong,
        client(sandbox, auth=None) as none,
    ):
        for http in (wrong, none):
            for method, path in [
                ("POST", "/_sandbox/reset"),
                ("POST", "/_sandbox/faults"),
                ("DELETE", "/_sandbox/faults"),
                ("GET", "/_sandbox/requests"),
            ]:
                response = await http.request(method, path, json={"count": 5, "status": 503})
                assert response.status_code == 403 and response.json()["errorMessages"], (method, path)
    assert sandbox_state(sandbox).issues["SB-1"].summary == "kept" and not sandbox_state(sandbox).faults


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("assignee = currentUser() AND resolution = Unresolved ORDER BY key ASC",
         ["SB-1", "SB-4", "SB-7", "OPS-2", "OPS-5", "MKT-3"]),
        ('project = OPS AND statusCategory = "In Progress" ORDER BY key', ["OPS-2", "OPS-6", "OPS-8"]),
        ("status in ('In Review') ORDER BY key", ["SB-6", "SB-7", "OPS-8", "MKT-4"]),
        ('text ~ "certificate" ORDER BY key', ["OPS-3", "OPS-5"]),
        ('summary ~ backup OR comment ~ "postmortem" ORDER BY key', ["OPS-1", "OPS-2"]),
        ("labels = release ORDER BY key DESC", ["MKT-6", "MKT-3"]),
        ("labels in (tls, dns) AND labels not in (hl7) ORDER BY key", ["OPS-3"]),
        ("project = MKT AND assignee is EMPTY", ["MKT-5"]),
        ("project = SB AND assignee IS NOT EMPTY AND priority = Highest", []),
        ("created >= -2d ORDER BY created DESC", ["OPS-12", "OPS-11"]),
        ("project = OPS AND updated < -30d", []),
        ("(project = SB OR project = MKT) AND priority > Medium AND statusCategory != Done ORDER BY key",
         ["SB-1", "SB-3", "SB-9", "SB-12", "MKT-8"]),
        ("issuetype = Incident AND component = Database ORDER BY key", ["OPS-2", "OPS-9"]),
        ("assignee = 'Priya Patel' AND NOT status = Done ORDER BY key", ["SB-12", "OPS-6", "OPS-8"]),
        ("reporter = alex@example.com AND project = OPS", ["OPS-12"]),
        ("key = sb-3", ["SB-3"]),
        ("project = SB AND updated >= startOfDay(-1d) AND assignee = jordan", []),
    ],
)  # fmt: skip
async def test_jql_subset(sandbox: JiraSandbox, jql: str, expected: list[str]) -> None:
    assert await keys(sandbox, jql) == expected


async def test_order_by_priority_then_updated(sandbox: JiraSandbox) -> None:
    found = await keys(
        sandbox, "assignee = currentUser() AND statusCategory != Done ORDER BY priority DESC, updated DESC"
    )
    assert found == ["OPS-2", "SB-1", "OPS-5", "SB-7", "SB-4", "MKT-3"]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("colour = red", "Field 'colour' does not exist or you do not have permission to view it."),
        ("project = SB AND", "Error in the JQL Query: Expecting a field name but got the end of the query."),
        ("project SB", "Error in the JQL Query: Expecting operator but got 'SB'. (line 1, character 9)"),
        ("summary = login", "The operator '=' is not supported by the 'summary' field."),
        ("created > yesterday", "Date value 'yesterday' for field 'created' is invalid."),
        ("project = SB ORDER BY colour", "Field 'colour' does not exist"),
        ("status = Done)", "Expecting either 'OR' or 'AND' but got ')'"),
        ("labels = x & y", "reserved JQL character"),
        ("assignee = nobodyFunc()", "Unable to find JQL function 'nobodyFunc()'."),
    ],
)
async def test_invalid_jql_is_a_400_with_jira_wording(sandbox: JiraSandbox, jql: str, message: str) -> None:
    async with client(sandbox) as http:
        response = await http.get("/rest/api/3/search/jql", params={"jql": jql})
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]
