"""Prometheus metrics, one registry per app (so tests and replicas never share counters).

Counters are incremented where things happen (requests in `MetricsMiddleware`, turns through
`AppMetrics.record_turn`); gauges that describe state — open sockets, running turns, queue depths —
are read when Prometheus scrapes, so they can never drift from the truth.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.context import AppContext
from backend.models.hl7 import Hl7Delivery
from backend.models.webhook import WebhookDelivery

# Latency buckets for an API whose ordinary answers take milliseconds and whose slow ones
# (connection tests, blocking chat) take seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_PENDING_DELIVERY_STATES = ("queued", "sent", "retrying")


class AppMetrics:
    """Every metric Switchboard exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "switchboard_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "switchboard_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.websockets = Gauge(
            "switchboard_websocket_connections", "Open chat WebSocket connections", registry=registry
        )
        self.runs = Gauge("switchboard_chat_runs_active", "Chat turns running now", registry=registry)
        self.turns = Counter("switchboard_chat_turns", "Chat turns finished", ["finish_reason"], registry=registry)
        self.tokens = Counter("switchboard_chat_tokens", "Tokens streamed to clients", registry=registry)
        self.tool_calls = Counter("switchboard_tool_calls", "Tool calls by outcome", ["outcome"], registry=registry)
        self.hl7_outbox = Gauge(
            "switchboard_hl7_outbox_depth", "HL7 deliveries not finished yet", ["status"], registry=registry
        )
        self.webhook_outbox = Gauge(
            "switchboard_webhook_outbox_depth", "Webhook deliveries waiting to be sent", registry=registry
        )
        self.webhook_failures = Counter(
            "switchboard_webhook_delivery_failures", "Webhook delivery attempts that failed", registry=registry
        )

    def record_turn(self, finish_reason: str | None, tokens: int, tool_outcomes: Iterable[str]) -> None:
        """Count one finished chat turn (`finish_reason` None: paused for approval, not finished yet)."""
        if finish_reason is not None:
            self.turns.labels(finish_reason).inc()
        if tokens:
            self.tokens.inc(tokens)
        for outcome in tool_outcomes:
            self.tool_calls.labels(outcome).inc()

    async def render(self, ctx: AppContext) -> bytes:
        """Refresh the state gauges and return the exposition text."""
        hub = ctx.extras.get("hub")
        sockets, runs = hub.active_counts() if hub is not None else (0, 0)
        self.websockets.set(sockets)
        self.runs.set(runs)
        async with ctx.db.session() as session:
            rows = await session.execute(
                select(Hl7Delivery.status, func.count())
                .where(Hl7Delivery.status.in_(_PENDING_DELIVERY_STATES))
                .group_by(Hl7Delivery.status)
            )
            depth = {str(status): int(count) for status, count in rows.all()}
            webhook_depth = await _webhook_outbox_depth(session)
        for state in _PENDING_DELIVERY_STATES:
            self.hl7_outbox.labels(state).set(depth.get(state, 0))
        self.webhook_outbox.set(webhook_depth)
        return generate_latest(self.registry)


async def _webhook_outbox_depth(session: AsyncSession) -> int:
    """Webhook deliveries waiting for their first or next attempt."""
    pending = await session.scalar(
        select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status.in_(("pending", "retrying")))
    )
    return int(pending or 0)


def route_template(scope: Scope) -> str:
    """`/api/v1/integrations/{integration_id}` for a matched route; `unmatched` for anything else.

    Built from the request path with each path parameter put back as `{name}`, because the route
    object in the scope belongs to the router it was declared on and lacks the mount prefixes.
    """
    if scope.get("route") is None:
        return "unmatched"
    template = str(scope.get("path", ""))
    for name, value in (scope.get("path_params") or {}).items():
        template = template.replace(f"/{value}", f"/{{{name}}}", 1)
    return template


class MetricsMiddleware:
    """Counts and times HTTP requests by route template (never by raw path: ids would explode it)."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            template = route_template(scope)
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, template, str(status["code"])).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
