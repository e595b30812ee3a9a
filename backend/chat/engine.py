"""Wires the chat machinery into the app's lifespan: checkpointer, model, agent runner, hub, turns."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

from agents.checkpoint import open_checkpointer
from agents.policy import ApprovalPolicy, PolicyOverride
from agents.prompts import system_prompt
from agents.providers import load_chat_model
from agents.runtime import AgentRunner
from backend.context import AppContext
from backend.models.user import User
from backend.security.principals import versions_of

from .agent_port import TurnInputs
from .hub import StreamHub
from .toolset import build_toolset
from .turns import TurnManager


def policy_from(overrides: dict[str, list[dict[str, object]]]) -> ApprovalPolicy:
    """Admin overrides stored per integration → one policy for the user's turn."""
    items = []
    for integration_id, entries in overrides.items():
        for entry in entries:
            items.append(PolicyOverride.model_validate({**entry, "integration_id": integration_id}))
    return ApprovalPolicy(overrides=items)


async def start_chat(app: AppContext, stack: AsyncExitStack) -> TurnManager:
    settings = app.settings
    checkpointer = await stack.enter_async_context(open_checkpointer(settings.resolved_database_url))
    model = load_chat_model(
        settings.effective_llm_model,
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=settings.openai_base_url,
        offline_token_delay_s=settings.offline_token_delay_ms / 1000,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )
    runner = AgentRunner(model, checkpointer)
    hub = StreamHub()

    async def inputs(user: User, session_id: uuid.UUID, scopes: frozenset[str] | None) -> TurnInputs:
        toolset = await build_toolset(
            app, user, session_id=session_id, hl7_store=app.extras.get("hl7_store"), scopes=scopes
        )
        connected = [(i.name, i.integration_type) for i in toolset.integrations]
        return TurnInputs(
            tools=toolset.tools, policy=policy_from(toolset.overrides), system_prompt=system_prompt(connected)
        )

    turns = TurnManager(app, hub, runner, inputs)
    redis = app.extras.get("redis")
    if settings.redis_url and redis is not None:  # replicas: relay frames, cancel and run markers
        from .relay import open_relay

        turns.relay = await open_relay(settings.redis_url, redis, hub, settings.redis_prefix)
        stack.push_async_callback(turns.relay.stop)  # after the drain below (LIFO): last frames go out
    versions_of(app).on_lost_access.append(turns.stop_user)  # a disabled user's turns stop at once
    app.extras.update(hub=hub, turns=turns, agent_runner=runner)
    stack.push_async_callback(turns.shutdown)
    return turns
