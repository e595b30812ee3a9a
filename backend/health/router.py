"""`GET /` and `GET /health` (real checks of the database and, when configured, Redis)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from backend import __version__
from backend.context import AppContext
from backend.deps import ContextDep

router = APIRouter(tags=["health"])


async def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=3)
        return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # any failure of a dependency is a health finding, not an error
        return {"status": "down", "error": type(exc).__name__}


async def component_health(ctx: AppContext) -> dict[str, dict[str, Any]]:
    components = {"database": await _timed(ctx.db.ping)}
    redis = ctx.extras.get("redis")
    if ctx.settings.redis_url and redis is not None:
        components["redis"] = await _timed(redis.ping)
    limiter = ctx.extras.get("rate_limiter")
    if limiter is not None:  # "degraded" while Redis is down and limits are counted per process
        await limiter.recheck()
        components["rate_limits"] = limiter.health()
    components["llm"] = {"status": "ok", "model": ctx.settings.effective_llm_model}
    return components


@router.get("/", summary="Service banner", response_model=None)
async def root(request: Request) -> dict[str, str] | FileResponse:
    """The banner as JSON; a browser (asking for HTML) gets the app when it is built."""
    index = getattr(request.app.state, "spa_index", None)
    if index is not None and "text/html" in request.headers.get("accept", ""):
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
    return {"message": "Switchboard API", "version": __version__, "status": "running"}


@router.get("/health", summary="Health of the service and its components")
async def health(ctx: ContextDep) -> JSONResponse:
    """`healthy` when everything answers; `degraded` when only optional parts (Redis) are down;
    503 `unhealthy` when the database is down."""
    components = await component_health(ctx)
    database_ok = components["database"]["status"] == "ok"
    degraded = any(c["status"] != "ok" for c in components.values())
    status = "unhealthy" if not database_ok else ("degraded" if degraded else "healthy")
    body = {
        "status": status,
        "version": __version__,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "components": components,
    }
    return JSONResponse(body, status_code=200 if database_ok else 503)
