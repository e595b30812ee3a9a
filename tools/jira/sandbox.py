"""A Jira-compatible REST server for the demo and the tests (seed data: `sandbox_seed`).

Serves REST v2 and v3 (`/rest/api/{2,3,latest}/...`) as the connector uses them — serverInfo, myself,
project, field, search (`/search/jql` with nextPageToken on Cloud, `/search` with startAt on Data
Center; the other one answers 410 / 404 as the real ones do), issue get/create, createmeta,
comments, transitions, assignee, user search — with basic (email or username + API token) and bearer
(personal access token) auth, and errors as `{"errorMessages": [...], "errors": {...}}`.

Test controls, each call with `X-Sandbox-Secret: <state.control_secret>` (see `sandbox_control`):
`POST /_sandbox/faults` `{"count", "status"?, "retry_after"?, "delay_s"?, "path"?}` makes the next
matching requests fail or stall; `DELETE /_sandbox/faults`; `POST /_sandbox/reset` re-seeds;
`GET /_sandbox/requests` lists the requests seen.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tools.base import DemoIntegration
from tools.jira.sandbox_control import control_router
from tools.jira.sandbox_create import document, new_issue
from tools.jira.sandbox_errors import JiraFailure, error_body, read_json
from tools.jira.sandbox_jql import JqlError, parse
from tools.jira.sandbox_seed import DEMO_API_TOKEN, DEMO_EMAIL, DEMO_PAT, ISSUE_TYPES, TRANSITIONS, SeedUser
from tools.jira.sandbox_state import Flavour, JiraState, StoredComment, StoredIssue
from tools.sandbox_server import LoopbackServer, free_port

_VERSIONS = {"2", "3", "latest"}


def create_app(state: JiraState) -> FastAPI:
    app = FastAPI(title="Jira sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.jira = state

    @app.exception_handler(JiraFailure)
    async def failed(request: Request, exc: JiraFailure) -> JSONResponse:
        return JSONResponse(error_body(exc.messages, exc.errors), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(error_body([message]), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(["The request is not valid."]), status_code=400)

    @app.middleware("http")
    async def faults_and_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        state.requests.append(f"{request.method} {request.url.path}")
        fault = next((f for f in state.faults if request.url.path.startswith(f.path) and f.count > 0), None)
        if fault is not None:
            fault.count -= 1
            state.faults = [f for f in state.faults if f.count > 0]
            if fault.delay_s:
                await asyncio.sleep(fault.delay_s)
            if fault.status:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                body = error_body(["Rate limit exceeded." if fault.status == 429 else "Service unavailable."])
                return JSONResponse(body, status_code=fault.status, headers=headers)
        return await call_next(request)

    app.include_router(control_router(state))
    app.include_router(_api_router(state), prefix="/rest/api/{version}")
    return app


def _api_router(state: JiraState) -> APIRouter:
    router = APIRouter()

    def version_of(version: str) -> str:
        if version not in _VERSIONS:
            raise JiraFailure(404, ["Not Found"])
        return "3" if version == "latest" and state.flavour == "cloud" else ("2" if version == "latest" else version)

    def viewer(request: Request) -> SeedUser:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        user = None
        if scheme.lower() == "basic":
            try:
                login, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                login, secret = "", ""
            user = state.authenticate_basic(login, secret)
        elif scheme.lower() == "bearer":
            user = state.authenticate_bearer(value.strip())
        if user is None:
            failure = JiraFailure(
                401, ["You are not authenticated. Authentication required to perform this operation."]
            )
            failure.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            raise failure
        if not user.product_access:
            raise JiraFailure(403, [f"{user.display_name} does not have access to Jira on this site."])
        return user

    def issue_for(key: str, user: SeedUser) -> StoredIssue:
        found = state.issues.get(key.upper()) or next((i for i in state.issues.values() if i.id == key), None)
        if found is None or not user.browse:
            raise JiraFailure(404, ["Issue does not exist or you do not have permission to see it."])
        return found

    def project_for(key: str, user: SeedUser) -> Any:
        project = state.projects.get(key.upper()) or next((p for p in state.projects.values() if p.id == key), None)
        if project is None or not user.browse:
            raise JiraFailure(404, [f"No project could be found with key '{key}'."])
        return project

    def wanted_fields(request: Request, default: set[str] | None) -> set[str] | None:
        values = [part.strip() for raw in request.query_params.getlist("fields") for part in raw.split(",")]
        values = [v for v in values if v]
        if not values:
            return default
        if "*all" in values or "*navigable" in values:
            return None
        return {v for v in values if not v.startswith("-")}

    signed_in = Depends(viewer)

    @router.get("/serverInfo")
    async def server_info(version: str) -> dict[str, Any]:
        version_of(version)
        return state.server_info()

    @router.get("/myself")
    async def myself(version: str, user: SeedUser = signed_in) -> Any:
        return state.user_json(user, version_of(version))

    @router.get("/field")
    async def fields(version: str, user: SeedUser = signed_in) -> list[dict[str, Any]]:
        version_of(version)
        names = ["summary", "status", "priority", "assignee", "reporter", "issuetype", "project", "labels"]
        names += ["components", "created", "updated", "resolution", "resolutiondate", "description", "comment"]
        return [
            {"id": n, "key": n, "name": n[0].upper() + n[1:], "custom": False, "orderable": True, "navigable": True,
             "searchable": True, "clauseNames": [n], "schema": {"type": "string", "system": n}}
            for n in names
        ]  # fmt: skip

    @router.get("/project")
    async def projects(version: str, user: SeedUser = signed_in) -> list[dict[str, Any]]:
        v = version_of(version)
        visible = state.projects.values() if user.browse else []
        return [state.project_json(p, v, full=True) for p in visible]

    @router.get("/project/{key}")
    async def project(version: str, key: str, user: SeedUser = signed_in) -> dict[str, Any]:
        return state.project_json(project_for(key, user), version_of(version), full=True)

    def run_jql(jql: str, user: SeedUser) -> list[StoredIssue]:
        try:
            query = parse(jql or "", state.jql_context(user))
        except JqlError as exc:
            raise JiraFailure(400, [str(exc)]) from None
        found = query.run(state.visible(user), state.jql_context(user))
        return [i for i in found if isinstance(i, StoredIssue)]

    def page_size(raw: Any) -> int:
        try:
            return max(0, min(int(raw if raw is not None else 50), 100))
        except (TypeError, ValueError):
            raise JiraFailure(400, ["maxResults must be a number."]) from None

    async def enhanced_search(version: str, request: Request, user: SeedUser, body: dict[str, Any]) -> dict[str, Any]:
        v = version_of(version)
        if state.flavour != "cloud":
            raise JiraFailure(404, ["Not Found"])
        params = request.query_params
        jql = str(body.get("jql", params.get("jql", "")))
        token = body.get("nextPageToken", params.get("nextPageToken"))
        size = page_size(body.get("maxResults", params.get("maxResults")))
        start = _decode_token(token) if token else 0
        found = run_jql(jql, user)
        chosen = wanted_fields(request, {"id"}) if not body.get("fields") else set(body["fields"]) - {"*all"} or None
        page = found[start : start + size]
        result: dict[str, Any] = {"issues": [state.issue_json(i, v, chosen) for i in page]}
        following = start + len(page)
        result["isLast"] = following >= len(found)
        if not result["isLast"]:
            result["nextPageToken"] = _encode_token(following)
        return result

    @router.get("/search/jql")
    async def search_jql(version: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        return await enhanced_search(version, request, user, {})

    @router.post("/search/jql")
    async def search_jql_post(version: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        return await enhanced_search(version, request, user, await read_json(request))

    async def classic_search(version: str, request: Request, user: SeedUser, body: dict[str, Any]) -> dict[str, Any]:
        v = version_of(version)
        if state.flavour == "cloud":
            raise JiraFailure(
                410,
                ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                 "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"],
            )  # fmt: skip
        params = request.query_params
        try:
            start = max(0, int(body.get("startAt", params.get("startAt", 0))))
        except (TypeError, ValueError):
            raise JiraFailure(400, ["startAt must be a number."]) from None
        size = page_size(body.get("maxResults", params.get("maxResults")))
        found = run_jql(str(body.get("jql", params.get("jql", ""))), user)
        chosen = set(body["fields"]) - {"*all"} or None if body.get("fields") else wanted_fields(request, None)
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": [state.issue_json(i, v, chosen) for i in found[start : start + size]],
        }

    @router.get("/search")
    async def search(version: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        return await classic_search(version, request, user, {})

    @router.post("/search")
    async def search_post(version: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        return await classic_search(version, request, user, await read_json(request))

    @router.get("/issue/createmeta/{key}/issuetypes")
    async def create_meta_types(version: str, key: str, user: SeedUser = signed_in) -> dict[str, Any]:
        v = version_of(version)
        project = project_for(key, user)
        types = [{**state.issue_type_json(t, v), "expand": "fields"} for t in project.issue_types]
        return _meta_page("issueTypes" if state.flavour == "cloud" else "values", types)

    @router.get("/issue/createmeta/{key}/issuetypes/{type_id}")
    async def create_meta_fields(version: str, key: str, type_id: str, user: SeedUser = signed_in) -> dict[str, Any]:
        v = version_of(version)
        project = project_for(key, user)
        name = next((n for n in project.issue_types if ISSUE_TYPES[n][0] == type_id), None)
        if name is None:
            raise JiraFailure(404, [f"Issue type {type_id} is not available in project {project.key}."])
        return _meta_page("fields" if state.flavour == "cloud" else "values", state.create_fields(project, name, v))

    @router.post("/issue", status_code=201)
    async def create_issue(version: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        v = version_of(version)
        issue = new_issue(state, user, v, (await read_json(request)).get("fields"))
        state.issues[issue.key] = issue
        return {"id": issue.id, "key": issue.key, "self": f"{state.api(v)}/issue/{issue.id}"}

    @router.get("/issue/{key}")
    async def get_issue(version: str, key: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        return state.issue_json(issue_for(key, user), version_of(version), wanted_fields(request, None))

    @router.post("/issue/{key}/comment", status_code=201)
    async def add_comment(version: str, key: str, request: Request, user: SeedUser = signed_in) -> dict[str, Any]:
        v = version_of(version)
        issue = issue_for(key, user)
        body = document((await read_json(request)).get("body"), v, "comment")
        if body is None:
            raise JiraFailure(400, [], {"comment": "Comment body can not be empty!"})
        comment = StoredComment(state.comment_id(), user.username, body, datetime.now(UTC))
        issue.comments.append(comment)
        issue.updated = comment.created
        return state.comment_json(issue, comment, v)

    @router.get("/issue/{key}/transitions")
    async def transitions(version: str, key: str, user: SeedUser = signed_in) -> dict[str, Any]:
        v = version_of(version)
        issue = issue_for(key, user)
        return {"expand": "transitions", "transitions": [_transition_json(state, t, v) for t in _moves(issue)]}

    @router.post("/issue/{key}/transitions", status_code=204)
    async def transition(version: str, key: str, request: Request, user: SeedUser = signed_in) -> None:
        version_of(version)
        issue = issue_for(key, user)
        wanted = str(((await read_json(request)).get("transition") or {}).get("id", ""))
        move = next((t for t in _moves(issue) if t[0] == wanted), None)
        if move is None:
            raise JiraFailure(400, [f"Transition id '{wanted}' is not valid for this issue."])
        issue.status = move[1]
        issue.updated = datetime.now(UTC)
        issue.resolved = issue.updated if issue.status == "Done" else None

    @router.put("/issue/{key}/assignee", status_code=204)
    async def assign(version: str, key: str, request: Request, user: SeedUser = signed_in) -> None:
        version_of(version)
        issue = issue_for(key, user)
        body = await read_json(request)
        spelling = body.get("accountId") if state.flavour == "cloud" else body.get("name", body.get("accountId"))
        if spelling is None:
            issue.assignee = None
        else:
            assignee = state.find_user(str(spelling))
            if assignee is None or not assignee.product_access:
                raise JiraFailure(400, [], {"assignee": f"User '{spelling}' cannot be assigned issues."})
            issue.assignee = assignee.username
        issue.updated = datetime.now(UTC)

    @router.get("/user/search")
    async def user_search(version: str, request: Request, user: SeedUser = signed_in) -> list[dict[str, Any]]:
        v = version_of(version)
        params = request.query_params
        wanted = (params.get("query") or params.get("username") or params.get("accountId") or "").strip().lower()
        if not wanted:
            raise JiraFailure(400, ["The query parameter 'query' is required."])
        found = [
            u
            for u in state.users.values()
            if u.product_access
            and (
                wanted in (u.account_id, u.username)
                or any(part.startswith(wanted) for part in (*u.display_name.lower().split(), u.email, u.username))
                or wanted == u.display_name.lower()
            )
        ]
        return [shaped for u in found if (shaped := state.user_json(u, v)) is not None]

    return router


def _meta_page(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"maxResults": 50, "startAt": 0, "total": len(items), "isLast": True, key: items}


def _moves(issue: StoredIssue) -> list[tuple[str, str]]:
    return [t for t in TRANSITIONS if t[1] != issue.status]


def _transition_json(state: JiraState, move: tuple[str, str], version: str) -> dict[str, Any]:
    return {
        "id": move[0],
        "name": move[1],
        "to": state.status_json(move[1], version),
        "hasScreen": False,
        "isGlobal": True,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: Any) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(str(token).encode()).decode().partition(":")
        if kind == "offset":
            return max(0, int(number))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise JiraFailure(400, ["The provided next page token is invalid or expired."])


class JiraSandbox:
    """The sandbox on a loopback port, with the demo integration pointing at it as Dana Demo."""

    def __init__(self, flavour: Flavour = "cloud", port: int | None = None) -> None:
        self.flavour: Flavour = flavour
        self._port = port
        self.server: LoopbackServer | None = None
        self.state: JiraState | None = None

    async def start(self) -> list[DemoIntegration]:
        port = self._port or free_port()
        self.state = JiraState(f"http://127.0.0.1:{port}", self.flavour)
        self.server = LoopbackServer(create_app(self.state), port=port)
        await self.server.start()
        credentials: dict[str, Any] = (
            {"email": DEMO_EMAIL, "api_token": DEMO_API_TOKEN}
            if self.flavour == "cloud"
            else {"personal_access_token": DEMO_PAT}
        )
        return [
            DemoIntegration(
                name="Demo Jira",
                integration_type="jira",
                config={"base_url": self.server.url, "deployment": self.flavour, "default_project": "SB"},
                credentials=credentials,
                description="A Jira-compatible sandbox on loopback, signed in as Dana Demo "
                "(projects SB, OPS, MKT; 40 issues).",
            )
        ]

    @property
    def url(self) -> str:
        assert self.server is not None, "start() the sandbox first"
        return self.server.url

    @property
    def control_headers(self) -> dict[str, str]:
        """The header the `/_sandbox` controls require (tests and the demo's operator hold it)."""
        assert self.state is not None, "start() the sandbox first"
        return {"X-Sandbox-Secret": self.state.control_secret}

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
