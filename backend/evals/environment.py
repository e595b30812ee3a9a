"""A fresh demo environment for an evaluation run, and the driver that plays turns through it.

The app is built by `create_app` and run through its own lifespan with `DEMO_MODE` on, so the agent,
the model (`LLM_MODEL` or `--model`), the connectors' demo sandboxes on loopback and the shared demo
integrations are exactly what `make run` gives a user. Turns go through the backend's `TurnManager`
and `StreamHub` — the machinery the WebSocket, SSE and REST chat endpoints share — so each case
exercises the product path: the user's toolset, approval policy, system prompt, persistence.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool

from backend.auth.service import create_user
from backend.chat import service as chat_service
from backend.chat.agent_port import Decision
from backend.chat.hub import StreamHub
from backend.chat.turns import TurnManager, TurnRequest
from backend.config import Settings
from backend.context import AppContext
from backend.db.migrate import upgrade
from backend.main import create_app
from backend.models.user import User
from tools.tooling import tool_policy

from .matching import ActualCall

MAX_APPROVAL_ROUNDS = 5


@dataclass
class TurnTrace:
    """What one user turn produced, across its approval pauses."""

    answer: str = ""
    calls: list[ActualCall] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)  # approval_required metadata
    errors: list[str] = field(default_factory=list)  # error frames and non-"stop" finishes
    latency_s: float = 0.0
    tokens: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0, "total": 0})
    finish_reason: str | None = None
    # tool_call frames by id: an approved call's result arrives in the stream after the pause
    started: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolIdentity:
    operation: str
    integration: str | None


class EvalEnvironment:
    """The running app, its turn machinery and the evaluation's user."""

    def __init__(self, ctx: AppContext, user: User, tools: dict[str, ToolIdentity], turn_timeout_s: float) -> None:
        self.ctx = ctx
        self.user = user
        self.tools = tools
        self.turn_timeout_s = turn_timeout_s
        self.turns: TurnManager = ctx.extras["turns"]
        self.hub: StreamHub = ctx.extras["hub"]

    @property
    def model(self) -> str:
        return self.ctx.settings.effective_llm_model

    @property
    def integrations(self) -> list[str]:
        return sorted({t.integration for t in self.tools.values() if t.integration})

    async def new_session(self, first_message: str) -> uuid.UUID:
        """A fresh chat session holding its first message, as `POST /chat/sessions` creates it."""
        async with self.ctx.db.session() as session:
            chat, _ = await chat_service.create_session(session, self.user, first_message, {})
        # The tools this session's turns get (the engine's own factory): names → operation, integration.
        inputs = await self.turns.inputs(self.user, chat.id, None)
        self.tools.update(identities(inputs.tools))
        return chat.id

    async def user_turn(self, session_id: uuid.UUID, text: str, *, first: bool, approval: str | None) -> TurnTrace:
        """Send one user message and answer every approval request it raises with `approval`."""
        trace = TurnTrace()
        request = TurnRequest(kind="first") if first else TurnRequest(kind="message", message=text)
        for _ in range(MAX_APPROVAL_ROUNDS):
            frames = await self._play(session_id, request, trace)
            pending = [f for f in frames if f["type"] == "approval_required"]
            if not pending:
                break
            waiting = pending[-1]["metadata"]
            decision = approval or "reject"
            reason = None if decision == "approve" else "The evaluation case does not approve this action."
            request = TurnRequest(
                kind="approval",
                decision=Decision(tool_call_id=str(waiting["tool_call_id"]), decision=decision, reason=reason),
            )
        else:
            trace.errors.append(f"still waiting for approval after {MAX_APPROVAL_ROUNDS} answers")
        return trace

    async def _play(self, session_id: uuid.UUID, request: TurnRequest, trace: TurnTrace) -> list[dict[str, Any]]:
        """Run one stream of a turn and fold its frames into `trace`."""
        key = str(session_id)
        subscription, _ = self.hub.subscribe(key, next_seq=1)
        started = time.perf_counter()
        try:
            run = await self.turns.start(self.user, session_id, request)
            try:
                await asyncio.wait_for(run.done.wait(), self.turn_timeout_s)
            except TimeoutError:
                await self.turns.cancel(self.user, session_id)
                await run.done.wait()
                trace.errors.append(f"timed out after {self.turn_timeout_s:.0f} s")
            frames: list[dict[str, Any]] = []
            while not subscription.queue.empty():
                frame = subscription.queue.get_nowait()
                if frame is not None and frame.data["run_id"] == run.run_id and frame.type != "token":
                    frames.append(frame.data)
        finally:
            self.hub.unsubscribe(key, subscription)
        trace.latency_s += time.perf_counter() - started
        self._fold(frames, trace)
        return frames

    def _fold(self, frames: list[dict[str, Any]], trace: TurnTrace) -> None:
        started = trace.started
        for frame in frames:
            kind, meta = frame["type"], frame.get("metadata") or {}
            if kind == "tool_call":
                started[str(meta.get("tool_call_id"))] = meta
            elif kind == "tool_result":
                call = started.get(str(meta.get("tool_call_id")), {})
                name = str(meta.get("tool_name") or call.get("tool_name") or "")
                identity = self.tools.get(name, ToolIdentity(f"unknown:{name}", None))
                trace.calls.append(
                    ActualCall(
                        name=name,
                        operation=identity.operation,
                        integration=identity.integration,
                        args=dict(call.get("args") or {}),
                        ok=meta.get("status") != "failed",
                        result=frame.get("content", ""),
                    )
                )
            elif kind == "approval_required":
                trace.approvals.append(meta)
            elif kind == "error":
                trace.errors.append(f"{meta.get('code', 'error')}: {frame.get('content', '')}")
            elif kind == "final":
                trace.answer = str(frame.get("content", ""))
                trace.finish_reason = meta.get("finish_reason")
                if trace.finish_reason not in (None, "stop"):
                    trace.errors.append(f"finished with {trace.finish_reason}")
                for part, value in (meta.get("usage") or {}).items():
                    if part in trace.tokens and isinstance(value, int):
                        trace.tokens[part] += value


def identities(tools: Sequence[BaseTool]) -> dict[str, ToolIdentity]:
    found = {}
    for tool in tools:
        policy = tool_policy(tool)
        found[tool.name] = ToolIdentity(policy.operation, policy.integration_name)
    return found


def eval_settings(data_dir: Path, *, model: str | None, database_url: str | None) -> Settings:
    """Settings for a throwaway demo environment; the model comes from `--model` or the environment."""
    overrides: dict[str, Any] = {
        "environment": "development",
        "data_dir": data_dir,
        "database_url": database_url or f"sqlite+aiosqlite:///{data_dir / 'eval.db'}",
        "secret_key": secrets.token_urlsafe(48),
        "demo_mode": True,
        "redis_url": None,  # nothing shared with a running deployment
        "hl7_listen_port": None,
        "offline_token_delay_ms": 0,
        "log_level": "WARNING",
    }
    if model:
        overrides["llm_model"] = model
    return Settings(**overrides)


@asynccontextmanager
async def demo_environment(
    *, model: str | None = None, database_url: str | None = None, turn_timeout_s: float = 120.0
) -> AsyncIterator[EvalEnvironment]:
    """Start the app in demo mode on a new database (temporary SQLite unless `database_url`)."""
    with tempfile.TemporaryDirectory(prefix="switchboard-eval-") as tmp:
        settings = eval_settings(Path(tmp), model=model, database_url=database_url)
        await asyncio.to_thread(upgrade, settings.resolved_database_url)
        app = create_app(settings)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            ctx: AppContext = app.state.ctx
            async with ctx.db.session() as session:
                user = await create_user(
                    session,
                    email=f"evaluator-{uuid.uuid4().hex[:8]}@example.com",
                    username=f"evaluator_{uuid.uuid4().hex[:6]}",
                    password=secrets.token_urlsafe(16),
                    full_name="Eval User",
                    role="user",
                )
            yield EvalEnvironment(ctx, user, {}, turn_timeout_s)
