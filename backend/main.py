"""The FastAPI application: `create_app()` wires routers, middleware and the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from backend import __version__
from backend.api import api_router
from backend.chat.engine import start_chat
from backend.chat.websocket import router as chat_socket_router
from backend.config import Settings, load_settings
from backend.context import AppContext
from backend.demo import start_demo
from backend.errors import install_error_handlers
from backend.frontend import mount_frontend
from backend.gc_tuning import tune_for_serving
from backend.health.router import router as health_router
from backend.hl7.engine import Hl7Engine
from backend.hl7.inbound import inbound_listener
from backend.hl7.outbox import DeliveryWorker
from backend.hl7.store import MessageStore
from backend.integrations.health import start_health
from backend.limits.body import BodyLimitMiddleware, RouteCap
from backend.limits.sockets import SocketCounts, SocketLimitMiddleware
from backend.logging import configure_logging
from backend.middleware import RequestContextMiddleware
from backend.observability.metrics import AppMetrics, MetricsMiddleware
from backend.observability.router import router as metrics_router
from backend.openapi import install_openapi
from backend.platform.events_ws import router as events_socket_router
from backend.platform.lifespan import start_platform
from backend.platform.rate_limit_deps import RateLimitHeadersMiddleware
from backend.platform.sources import hl7_outbox_listener
from tools.base import DemoIntegration

log = logging.getLogger("switchboard")

AUTH_BODY_MAX_BYTES = 16 * 1024  # credentials and a refresh token: nothing legitimate comes near it

TAGS = [
    {"name": "auth", "description": "Accounts and tokens: register, login, refresh with rotation, logout."},
    {"name": "integrations", "description": "Connections to Jira, EMRs (FHIR R4) and HL7 v2 systems."},
    {"name": "chat", "description": "Chat sessions, messages, streaming over SSE; WebSocket at /api/v1/chat/ws/{id}."},
    {"name": "hl7", "description": "HL7 v2 routing engine: submit, track, replay; explain a message."},
    {"name": "admin", "description": "User management and the operational overview (admins only)."},
    {"name": "audit", "description": "The audit trail (admins only)."},
    {"name": "platform", "description": "API keys and webhooks; live events over WebSocket at /api/v1/events/ws."},
    {"name": "health", "description": "Liveness and component health."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Resources are created in the lifespan, never at import time."""
    settings = settings or load_settings()
    configure_logging(level=settings.log_level, json_lines=settings.json_logs)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = AppContext.from_settings(settings)
        app.state.ctx = ctx
        ctx.extras["metrics"] = app.state.metrics
        async with AsyncExitStack() as stack:
            stack.push_async_callback(ctx.db.dispose)
            if settings.redis_url:
                from redis.asyncio import Redis

                redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
                ctx.extras["redis"] = redis
                stack.push_async_callback(redis.aclose)
            await start_platform(ctx, stack)  # before chat and HL7: their events go through it
            await start_chat(ctx, stack)
            await start_health(ctx, stack)
            outbox = DeliveryWorker(ctx)
            outbox.on_event = hl7_outbox_listener(ctx)
            ctx.extras["hl7_outbox"] = outbox
            ctx.extras["hl7_store"] = MessageStore(ctx, outbox)  # chat HL7 tools: recent messages, send
            outbox.start()
            stack.push_async_callback(outbox.stop)
            engine = Hl7Engine(ctx, outbox.wake)  # routing + group commit, in front of the outbox
            ctx.extras["hl7_engine"] = engine
            engine.start()
            stack.push_async_callback(engine.stop)
            extra_demo: list[DemoIntegration] = []
            if settings.hl7_listen_port is not None:
                listener = inbound_listener(ctx, settings.hl7_listen_host, settings.hl7_listen_port)
                port = await listener.start()
                ctx.extras["hl7_listener_port"] = port
                stack.push_async_callback(listener.stop)
                log.info("HL7 MLLP listener on %s:%d", settings.hl7_listen_host, port)
                extra_demo.append(
                    DemoIntegration(
                        name="Switchboard inbound listener",
                        integration_type="hl7",
                        config={"host": "127.0.0.1", "port": port, "receiving_application": "SWITCHBOARD"},
                        credentials=None,
                        description="This server's own MLLP listener: messages sent here are "
                        "stored as inbound traffic.",
                    )
                )
            if settings.demo_mode:
                demo = await start_demo(ctx, extra_demo)
                ctx.extras["demo"] = demo
                stack.push_async_callback(demo.stop)
            log.info("Switchboard %s ready (model: %s)", __version__, settings.effective_llm_model)
            stack.callback(tune_for_serving())  # last: the start-up heap is what it freezes
            yield

    app = FastAPI(
        title="Switchboard",
        version=__version__,
        description="Conversational integration assistant: chat with an agent that works through "
        "Jira, EMRs over FHIR R4 and HL7 v2 systems over MLLP. Text fields must not contain NUL (U+0000) "
        "characters: a request with one may be refused with 422 `invalid_value`.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.state.metrics = AppMetrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RateLimitHeadersMiddleware)
    # Outside everything that reads a body (routes, rate limiting): bodies are capped as they stream.
    app.add_middleware(
        BodyLimitMiddleware,
        default_max=settings.max_request_body_bytes,
        routes=[
            RouteCap("/api/v1/auth/", AUTH_BODY_MAX_BYTES),
            RouteCap("/api/v1/messages", settings.max_hl7_body_bytes),
            RouteCap("/api/v1/hl7/", settings.max_hl7_body_bytes),
        ],
        timeout_s=settings.request_body_timeout_s,
    )
    app.state.socket_counts = SocketCounts(per_ip=settings.ws_max_per_ip, per_user=settings.ws_max_per_user)
    app.add_middleware(SocketLimitMiddleware, counts=app.state.socket_counts)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(api_router)
    app.include_router(chat_socket_router, prefix="/api/v1")
    app.include_router(events_socket_router, prefix="/api/v1")
    mount_frontend(app)
    return app
