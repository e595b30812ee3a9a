"""Every route of the app, for every kind of caller, over real HTTP and WebSockets.

The rows are checked against `app.routes`: a route added without a row here fails the suite, so
nobody ships an endpoint whose access was never decided. Cells: anonymous, another user, the owner,
an admin, an API key holding exactly the route's scope, and a key holding every other scope.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from fastapi.routing import APIWebSocketRoute
from starlette.routing import Mount, Route

from backend.platform.scopes import ALL_SCOPES
from tests.conftest import TestUser, UserFactory
from tests.security.conftest import closed_port, marker

HL7 = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|CTRL-SEC-1|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
CALLERS = ("anonymous", "other", "admin", "key_without", "key_with", "owner")
Fresh = Callable[["World"], Awaitable[dict[str, str]]]


@dataclass
class Row:
    """One route: what the owner gets, which scope opens it to keys (None: closed to keys)."""

    method: str
    path: str
    owner: int
    scope: str | None = None
    public: bool = False  # anyone gets `owner`'s status
    admin_only: bool = False  # other users get 403 forbidden, the admin gets `owner`'s status
    personal: bool = True  # the path names the owner's resource: others get 404
    admin: int | None = None  # the admin's status when it differs from the rule above
    body: dict[str, Any] | None = None
    fresh: Fresh | None = None  # a new resource for each cell that succeeds (deletes)
    args: dict[str, str] = field(default_factory=dict)  # path parameter -> which of the owner's ids


@dataclass
class World:
    http: httpx.AsyncClient
    owner: TestUser
    other: TestUser
    admin: TestUser
    ids: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # scope -> key holding only it; "all-but:<scope>"
    planted: list[str] = field(default_factory=list)  # the owner's ids and names


async def _post(world: World, path: str, body: dict[str, Any], user: TestUser | None = None) -> dict[str, Any]:
    response = await world.http.post(path, json=body, headers=(user or world.owner).headers)
    assert response.status_code in (200, 201, 202), (path, response.text)
    result: dict[str, Any] = response.json()
    return result


async def _integration(world: World, kind: str, config: dict[str, Any], credentials: dict[str, Any] | None) -> str:
    name = marker(f"{kind}-integration")
    body = {"name": name, "integration_type": kind, "config": config, "credentials": credentials}
    created = await _post(world, "/api/v1/integrations", body)
    world.planted += [created["id"], name]
    return str(created["id"])


async def _fresh_session(world: World) -> dict[str, str]:
    created = await _post(world, "/api/v1/chat/sessions", {"message": "hi"})
    return {"session_id": str(created["session_id"]), "message_id": str(created["message_id"])}


async def _fresh_integration(world: World) -> dict[str, str]:
    config = {"host": "127.0.0.1", "port": closed_port()}
    return {"integration_id": await _integration(world, "hl7", config, None)}


async def _fresh_key(world: World) -> dict[str, str]:
    return {"key_id": str((await _post(world, "/api/v1/api-keys", {"name": "doomed", "scopes": ["chat"]}))["id"])}


async def _fresh_group(world: World) -> dict[str, str]:
    return {"group_id": str((await _post(world, "/api/v1/admin/groups", {"name": marker("group")}, world.admin))["id"])}


async def _fresh_invite(world: World) -> dict[str, str]:
    return {"invite_id": str((await _post(world, "/api/v1/admin/invites", {}, world.admin))["id"])}


async def _fresh_webhook(world: World) -> dict[str, str]:
    body = {"name": "doomed", "url": f"http://127.0.0.1:{closed_port()}/hook", "events": ["*"]}
    return {"webhook_id": str((await _post(world, "/api/v1/webhooks", body))["id"])}


async def build_world(http: httpx.AsyncClient, make_user: UserFactory) -> World:
    admin = await make_user("admin")
    world = World(http, await make_user(marker("owner")), await make_user("other"), admin)
    ids = world.ids
    created = await _post(world, "/api/v1/chat/sessions", {"message": "owner's private question"})
    ids["session_id"], ids["message_id"] = str(created["session_id"]), str(created["message_id"])
    world.planted += [ids["session_id"], ids["message_id"], "owner's private question"]
    ids["integration_id"] = await _integration(
        world,
        "jira",
        {"base_url": f"http://127.0.0.1:{closed_port()}", "deployment": "cloud"},
        {"email": "owner@example.com", "api_token": marker("jira-token")},
    )
    ids["emr_id"] = await _integration(world, "emr", {"base_url": f"http://127.0.0.1:{closed_port()}/fhir"}, None)
    hl7_name = marker("hl7-destination")
    hl7 = await _post(
        world,
        "/api/v1/integrations",
        {"name": hl7_name, "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": closed_port()}},
    )
    world.planted += [hl7["id"], hl7_name]
    submitted = await _post(
        world, "/api/v1/messages", {"message": HL7, "metadata": {"source": "emr", "destination": [hl7_name]}}
    )
    ids["hl7_message_id"] = str(submitted["message_id"])
    key = await _post(world, "/api/v1/api-keys", {"name": marker("key"), "scopes": ["chat"]})
    ids["key_id"] = str(key["id"])
    world.planted += [ids["key_id"], key["name"]]
    hook_name = marker("webhook")
    hook = await _post(
        world,
        "/api/v1/webhooks",
        {"name": hook_name, "url": f"http://127.0.0.1:{closed_port()}/hook", "events": ["*"]},
    )
    ids["webhook_id"] = str(hook["id"])
    world.planted += [ids["webhook_id"], hook_name]
    ids["user_id"] = world.owner.id
    ids.update(await _fresh_group(world))
    ids.update(await _fresh_invite(world))
    ids["patient_id"] = "p1"
    ids["channel_id"] = str(uuid.uuid4())  # no such channel: the rows check who may ask
    ids["action"] = "pause"
    for scope in ALL_SCOPES:
        world.keys[scope] = (await _post(world, "/api/v1/api-keys", {"name": f"only {scope}", "scopes": [scope]}))[
            "key"
        ]
        others = [s for s in ALL_SCOPES if s != scope]
        world.keys[f"all-but:{scope}"] = (
            await _post(world, "/api/v1/api-keys", {"name": f"all but {scope}", "scopes": others})
        )["key"]
    world.keys["all"] = (await _post(world, "/api/v1/api-keys", {"name": "all", "scopes": list(ALL_SCOPES)}))["key"]
    return world


S, INT, M = "/api/v1/chat/sessions/{session_id}", "/api/v1/integrations/{integration_id}", "/api/v1/messages"
P = INT + "/patients/{patient_id}"
EMR, HL7_ID = {"integration_id": "emr_id"}, {"message_id": "hl7_message_id"}
IR, IW, CHAT, MSG = "integrations:read", "integrations:write", "chat", "messages:write"
PR, MR = "patients:read", "messages:read"
G, INV = "/api/v1/admin/groups", "/api/v1/admin/invites"
ROWS = [
    Row("GET", "/", 200, public=True, personal=False),
    Row("GET", "/health", 200, public=True, personal=False),
    Row("GET", "/metrics", 200, public=True, personal=False),
    Row("GET", "/openapi.json", 200, public=True, personal=False),
    Row("GET", "/docs", 200, public=True, personal=False),
    Row("GET", "/docs/oauth2-redirect", 200, public=True, personal=False),
    Row("GET", "/redoc", 200, public=True, personal=False),
    Row("GET", "/api/v1/auth/registration", 200, public=True, personal=False),
    Row("POST", "/api/v1/auth/register", 422, public=True, personal=False, body={}),
    Row("POST", "/api/v1/auth/login", 422, public=True, personal=False, body={}),
    Row("POST", "/api/v1/auth/refresh", 401, public=True, personal=False, body={"refresh_token": "rt_unknown"}),
    Row("POST", "/api/v1/auth/logout", 204, personal=False, body={}),
    Row("GET", "/api/v1/auth/me", 200, personal=False),
    Row("GET", "/api/v1/auth/setup", 200, public=True, personal=False),
    Row("POST", "/api/v1/auth/password-reset", 422, public=True, personal=False, body={}),
    Row("POST", "/api/v1/account/password", 422, personal=False, body={}),
    Row("GET", "/api/v1/integrations/types", 200, scope=IR, personal=False),
    Row("GET", "/api/v1/integrations", 200, scope=IR, personal=False),
    Row("POST", "/api/v1/integrations", 422, scope=IW, personal=False, body={"name": "x"}),
    Row("GET", INT, 200, scope=IR),
    Row("PUT", INT, 200, scope=IW, body={"name": "renamed", "config": {"base_url": "http://127.0.0.1:9"}}),
    Row("PATCH", INT, 200, scope=IW, body={"description": "patched"}),
    Row("DELETE", INT, 204, scope=IW, fresh=_fresh_integration),
    Row("POST", INT + "/test", 200, scope=IW),
    Row("GET", INT + "/tools", 200),
    Row("PUT", INT + "/policy", 200, admin_only=True, admin=404, body={"entries": []}),
    # The owner's integration is private: an admin manages grants of shared ones only (404 here).
    Row("GET", INT + "/access", 200, admin_only=True, admin=404),
    Row("PUT", INT + "/access", 200, admin_only=True, admin=404, body={"access": "all"}),
    Row("POST", INT + "/patients/search", 502, scope=PR, body={"criteria": {"name": "doe"}}, args=EMR),
    Row("GET", P, 502, scope=PR, args=EMR),
    Row("GET", P + "/observations", 502, scope=PR, args=EMR),
    Row("GET", P + "/medications", 502, scope=PR, args=EMR),
    Row("GET", P + "/allergies", 502, scope=PR, args=EMR),
    Row("GET", P + "/conditions", 502, scope=PR, args=EMR),
    Row("GET", P + "/encounters", 502, scope=PR, args=EMR),
    Row("POST", "/api/v1/patients/aggregate", 422, scope=PR, personal=False, body={}),
    Row("POST", "/api/v1/chat/sessions", 201, scope=CHAT, personal=False, body={"message": "hello"}),
    Row("GET", "/api/v1/chat/sessions", 200, scope=CHAT, personal=False),
    Row("GET", S, 200, scope=CHAT),
    Row("PATCH", S, 200, scope=CHAT, body={"title": "renamed"}),
    Row("DELETE", S, 204, scope=CHAT, fresh=_fresh_session),
    Row("GET", S + "/messages", 200, scope=CHAT),
    Row("POST", S + "/messages", 200, scope=CHAT, body={"message": "hello"}),
    Row("POST", S + "/messages/stream", 200, scope=CHAT, body={"message": "hello"}),
    Row("GET", S + "/stream", 200, scope=CHAT),
    Row("POST", S + "/regenerate", 200, scope=CHAT),
    Row("PUT", S + "/messages/{message_id}", 200, scope=CHAT, body={"message": "edited"}, fresh=_fresh_session),
    Row("GET", S + "/events", 200, scope=CHAT),
    Row("GET", S + "/export", 200, scope=CHAT),
    Row("POST", M, 422, scope=MSG, personal=False, body={}),
    Row("GET", M, 200, scope=MR, personal=False),
    # Admins see all HL7 traffic (docs/api.md); other users see only their own and inbound.
    Row("GET", M + "/{message_id}", 200, scope=MR, admin=200, args=HL7_ID),
    Row("POST", M + "/{message_id}/replay", 202, scope=MSG, admin=202, args=HL7_ID),
    Row("POST", "/api/v1/hl7/explain", 200, scope=MSG, personal=False, body={"message": HL7}),
    Row("POST", M + "/batch", 422, scope=MSG, personal=False, body={}),
    Row("POST", M + "/replay", 202, scope=MSG, personal=False, body={"control_id": "no-such-control-id"}),
    # The engine's channels, queues and traffic chart: admins only, closed to API keys.
    Row("GET", "/api/v1/hl7/channels", 200, admin_only=True, personal=False),
    Row("POST", "/api/v1/hl7/channels", 422, admin_only=True, personal=False, body={}),
    Row("GET", "/api/v1/hl7/channels/{channel_id}", 404, admin_only=True, personal=False),
    Row("PATCH", "/api/v1/hl7/channels/{channel_id}", 404, admin_only=True, personal=False, body={}),
    Row("DELETE", "/api/v1/hl7/channels/{channel_id}", 404, admin_only=True, personal=False),
    Row("GET", "/api/v1/hl7/queues", 200, admin_only=True, personal=False),
    # The owner's Jira integration has no FIFO queue: 404 for the admin, 403 for everyone else.
    Row("POST", "/api/v1/hl7/queues/{integration_id}/{action}", 404, admin_only=True, personal=False),
    Row("GET", "/api/v1/hl7/stats", 200, admin_only=True, personal=False),
    Row("GET", "/api/v1/admin/users", 200, admin_only=True, personal=False),
    Row("PATCH", "/api/v1/admin/users/{user_id}", 200, admin_only=True, personal=False, body={"is_active": True}),
    # The owner is approved already: approving again or rejecting is a conflict, for the admin only.
    Row("POST", "/api/v1/admin/users/{user_id}/approve", 409, admin_only=True, personal=False),
    Row("POST", "/api/v1/admin/users/{user_id}/reject", 409, admin_only=True, personal=False),
    Row("GET", G, 200, admin_only=True, personal=False),
    Row("POST", G, 422, admin_only=True, personal=False, body={}),
    Row("GET", G + "/{group_id}", 200, admin_only=True, personal=False),
    Row("PUT", G + "/{group_id}", 200, admin_only=True, personal=False, body={"name": "renamed group"}),
    Row("DELETE", G + "/{group_id}", 204, admin_only=True, personal=False, fresh=_fresh_group),
    Row("GET", INV, 200, admin_only=True, personal=False),
    Row("POST", INV, 201, admin_only=True, personal=False, body={}),
    Row("DELETE", INV + "/{invite_id}", 204, admin_only=True, personal=False, fresh=_fresh_invite),
    Row("GET", "/api/v1/admin/overview", 200, admin_only=True, personal=False),
    Row("GET", "/api/v1/admin/overview/activity", 200, admin_only=True, personal=False),
    Row("POST", "/api/v1/admin/users/{user_id}/password-reset", 200, admin_only=True, personal=False),
    Row("GET", "/api/v1/audit", 200, admin_only=True, personal=False),
    Row("POST", "/api/v1/api-keys", 422, personal=False, body={}),
    Row("GET", "/api/v1/api-keys", 200, personal=False),
    Row("GET", "/api/v1/api-keys/{key_id}", 200),
    Row("PATCH", "/api/v1/api-keys/{key_id}", 200, body={"name": "renamed"}),
    Row("DELETE", "/api/v1/api-keys/{key_id}", 204, fresh=_fresh_key),
    Row("POST", "/api/v1/webhooks", 422, personal=False, body={}),
    Row("GET", "/api/v1/webhooks", 200, personal=False),
    Row("GET", "/api/v1/webhooks/{webhook_id}", 200),
    Row("PATCH", "/api/v1/webhooks/{webhook_id}", 200, body={"name": "renamed"}),
    Row("DELETE", "/api/v1/webhooks/{webhook_id}", 204, fresh=_fresh_webhook),
    Row("POST", "/api/v1/webhooks/{webhook_id}/test", 200),
    Row("GET", "/api/v1/webhooks/{webhook_id}/deliveries", 200),
]
SOCKETS = {
    # caller -> close code (None: the socket stays open)
    "/api/v1/chat/ws/{session_id}": {
        "anonymous": 4401,
        "other": 4403,  # the shared protocol: 4403 for another user's session
        "admin": 4403,
        "key_without": 4403,  # like the events socket: a key without the `chat` scope
        "key_with": None,
        "owner": None,
    },
    "/api/v1/events/ws": {
        "anonymous": 4401,
        "other": None,
        "admin": None,
        "key_without": 4403,
        "key_with": None,
        "owner": None,
    },
}
SOCKET_SCOPES = {"/api/v1/chat/ws/{session_id}": CHAT, "/api/v1/events/ws": "events"}
# The SPA fallback and static assets exist only when the web app is built; they serve public files.
STATIC = {("GET", "/{path:path}"), ("MOUNT", "/assets")}


def app_routes(app: Any) -> tuple[set[tuple[str, str]], set[str]]:
    """(method, path) of every HTTP route and the path of every WebSocket route, from `app.routes`."""
    http: set[tuple[str, str]] = set()
    sockets: set[str] = set()
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            # FastAPI's included routers expose per-route contexts; a WebSocket one keeps its route aside.
            socket = getattr(context, "starlette_route", None)
            if isinstance(socket, APIWebSocketRoute) or isinstance(context, APIWebSocketRoute):
                sockets.add((socket or context).path)
            elif isinstance(context, Mount):
                http.add(("MOUNT", context.path))
            elif isinstance(context, Route) or getattr(context, "methods", None):
                http |= {(m, context.path) for m in context.methods if m != "HEAD"}
            else:
                raise AssertionError(f"an unclassified route: {context!r}")
    return http, sockets


def expected(row: Row, caller: str) -> tuple[int, str | None]:
    """The status and error code one caller must get."""
    if row.public:
        return row.owner, None
    if caller == "anonymous":
        return 401, "not_authenticated"
    if caller.startswith("key"):
        if row.scope is None or caller == "key_without":
            return 403, "insufficient_scope"
        return row.owner, None
    if row.admin_only and caller != "admin":
        return 403, "forbidden"
    if caller == "admin":
        if row.admin is not None:
            return row.admin, None
        return (404, "not_found") if row.personal and not row.admin_only else (row.owner, None)
    if caller == "other" and row.personal:
        return 404, "not_found"
    return row.owner, None


def headers_for(world: World, row_scope: str | None, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "key_with":
        return {"X-API-Key": world.keys[row_scope or "all"]}
    if caller == "key_without":
        return {"X-API-Key": world.keys[f"all-but:{row_scope}" if row_scope else "all"]}
    user = {"other": world.other, "admin": world.admin, "owner": world.owner}[caller]
    return user.headers


async def call(world: World, row: Row, caller: str) -> tuple[int, str]:
    ids = dict(world.ids)
    ids.update({param: world.ids[key] for param, key in row.args.items()})
    if row.fresh is not None and expected(row, caller)[0] < 400:
        ids.update(await row.fresh(world))
    path = row.path.format(**ids)
    headers = headers_for(world, row.scope, caller)
    body = row.body
    if row.path == "/api/v1/auth/logout" and caller != "anonymous":
        body = {"refresh_token": "rt_not-a-token"}
    async with world.http.stream(row.method, path, json=body, headers=headers) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            text = await _read_some(response)
        else:
            text = (await response.aread()).decode("utf-8", "replace")
    return response.status_code, text


async def _read_some(response: httpx.Response) -> str:
    """An event stream may stay open (a live observer): read what comes within a moment."""
    chunks: list[str] = []

    async def read() -> None:
        async for chunk in response.aiter_text():
            chunks.append(chunk)

    try:
        await asyncio.wait_for(read(), timeout=3)
    except TimeoutError:
        pass
    return "".join(chunks)


async def socket_close_code(base_url: str, path: str, headers: dict[str, str]) -> tuple[int | None, str]:
    """The close code (None: the socket stayed open) and every frame received before it."""
    url = base_url.replace("http://", "ws://") + path
    frames: list[str] = []
    async with websockets.connect(url, additional_headers=headers) as socket:
        if not headers:
            await socket.send(json.dumps({"type": "auth", "action": "auth"}))
        try:
            while True:
                frame = await asyncio.wait_for(socket.recv(), timeout=0.5)
                frames.append(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))
        except TimeoutError:
            return None, "".join(frames)
        except websockets.ConnectionClosed:
            return socket.close_code, "".join(frames)


async def test_every_route_has_a_row(app: Any) -> None:
    http, sockets = app_routes(app)
    declared = {(row.method, row.path) for row in ROWS}
    assert http - STATIC - declared == set(), "routes without an access-matrix row"
    assert declared - http == set(), "rows for routes that no longer exist"
    assert sockets == set(SOCKETS), "WebSocket routes without an access-matrix row"


async def test_access_matrix(app: Any, http: httpx.AsyncClient, base_url: str, make_user: UserFactory) -> None:
    world = await build_world(http, make_user)
    failures: list[str] = []
    leaks: list[str] = []
    for row in ROWS:
        for caller in CALLERS:
            status, text = await call(world, row, caller)
            want, code = expected(row, caller)
            label = f"{caller:11} {row.method} {row.path}"
            if status != want:
                failures.append(f"{label}: {status} (want {want}) {text[:160]}")
            elif code is not None and json.loads(text).get("code") != code:
                failures.append(f"{label}: code {json.loads(text).get('code')!r} (want {code!r})")
            # Admins see all HL7 traffic and, on admin routes, everyone: elsewhere they are another user.
            admin_sees = row.admin_only or row.path.startswith(M)
            if caller in ("anonymous", "other", "key_without") or (caller == "admin" and not admin_sees):
                leaks += [f"{label} shows {value}" for value in world.planted if value in text]
    for path, cells in SOCKETS.items():
        for caller, want_close in cells.items():
            headers = headers_for(world, SOCKET_SCOPES[path], caller)
            got, frames = await socket_close_code(base_url, path.format(**world.ids), headers)
            if got != want_close:
                failures.append(f"{caller:11} WS {path}: close {got} (want {want_close})")
            if caller in ("anonymous", "other", "admin"):
                leaks += [f"{caller} WS {path} shows {value}" for value in world.planted if value in frames]
    assert failures == [], "\n".join(failures)
    assert leaks == [], "\n".join(leaks)
