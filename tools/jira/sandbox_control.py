"""Test controls of the Jira sandbox: faults, reset, the request log.

They change what every user of the sandbox sees, and anything on loopback can reach them (a user's
webhook, an integration URL), so each call must carry the secret the sandbox generated at start
(`X-Sandbox-Secret: <JiraState.control_secret>`); only the process that started it knows it.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from tools.jira.sandbox_errors import JiraFailure, read_json
from tools.jira.sandbox_state import Fault, JiraState


def control_router(state: JiraState) -> APIRouter:
    def require_secret(secret: Annotated[str, Header(alias="X-Sandbox-Secret")] = "") -> None:
        if not hmac.compare_digest(secret.encode(), state.control_secret.encode()):
            raise JiraFailure(403, ["The sandbox controls need the X-Sandbox-Secret this sandbox started with."])

    router = APIRouter(prefix="/_sandbox", dependencies=[Depends(require_secret)])

    @router.post("/faults", status_code=204)
    async def add_fault(request: Request) -> None:
        body = await read_json(request)
        state.faults.append(
            Fault(
                count=int(body.get("count", 1)),
                status=int(body["status"]) if body.get("status") else None,
                retry_after=str(body["retry_after"]) if body.get("retry_after") is not None else None,
                delay_s=float(body.get("delay_s", 0)),
                path=str(body.get("path", "/rest/")),
            )
        )

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> None:
        state.faults.clear()

    @router.post("/reset", status_code=204)
    async def reset() -> None:
        state.faults.clear()
        state.requests.clear()
        state.seed()

    @router.get("/requests")
    async def seen() -> list[str]:
        return list(state.requests)

    return router
