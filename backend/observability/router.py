"""`GET /metrics`: Prometheus exposition format, optionally behind a bearer token (`METRICS_TOKEN`)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from backend.deps import ContextDep
from backend.errors import Unauthorized

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request, ctx: ContextDep) -> Response:
    """Requests, latency histograms, sockets, runs, tokens, tool calls, outbox depths, webhook failures."""
    expected = ctx.settings.metrics_token
    if expected is not None:
        supplied = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), expected.get_secret_value().encode()):
            raise Unauthorized("This endpoint needs the metrics token: Authorization: Bearer <METRICS_TOKEN>.")
    body = await request.app.state.metrics.render(ctx)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
