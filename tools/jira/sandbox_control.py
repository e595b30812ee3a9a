"""Test controls of the Jira sandbox (loopback only, no auth): faults, reset, the request log."""

from __future__ import annotations

from fastapi import APIRouter, Request

from tools.jira.sandbox_errors import read_json
from tools.jira.sandbox_state import Fault, JiraState


def control_router(state: JiraState) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

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
