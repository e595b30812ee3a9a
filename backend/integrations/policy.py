"""`/api/v1/integrations/{id}/tools` and `/policy`: an integration's tools and the admin's approval
overrides for them (stored in `Integration.approval_overrides`, applied by the chat engine)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from agents.policy import ApprovalPolicy, PolicyDecision, PolicyOverride
from backend.audit.service import record_audit
from backend.context import AppContext
from backend.deps import AdminUser, ContextDep, CurrentUser, SessionDep
from backend.errors import ValidationFailed
from backend.models.integration import Integration
from tools.base import ToolAccess, ToolServices
from tools.errors import ConnectorError
from tools.tooling import tool_policy

from . import service
from .runtime import integration_context

router = APIRouter(prefix="/integrations", tags=["integrations"])


class IntegrationToolOut(BaseModel):
    name: str
    operation: str
    description: str
    access: ToolAccess
    phi: bool
    default_decision: PolicyDecision
    effective_decision: PolicyDecision


class PolicyEntry(BaseModel):
    tool: str = Field(min_length=1, max_length=100, description="tool name or operation id")
    decision: PolicyDecision


class PolicyIn(BaseModel):
    overrides: list[PolicyEntry] = Field(default_factory=list, max_length=200)


def _integration_tools(app: AppContext, integration: Integration) -> list[BaseTool]:
    """The tools this integration gives the agent (built, never called: no services are needed)."""
    connector = service.connector_for(integration.integration_type)
    try:
        ctx = integration_context(integration, app)
    except ConnectorError as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    return connector.build_tools(ctx, ToolServices())


def _policy(integration: Integration, entries: list[dict[str, object]]) -> ApprovalPolicy:
    overrides = [PolicyOverride.model_validate({**entry, "integration_id": str(integration.id)}) for entry in entries]
    return ApprovalPolicy(overrides=overrides)


def _describe(integration: Integration, tools: list[BaseTool]) -> list[IntegrationToolOut]:
    defaults = ApprovalPolicy()
    effective = _policy(integration, list(integration.approval_overrides or []))
    out = []
    for tool in tools:
        declared = tool_policy(tool)
        out.append(
            IntegrationToolOut(
                name=tool.name,
                operation=declared.operation,
                description=tool.description,
                access=declared.access,
                phi=declared.phi,
                default_decision=defaults.decide(tool),
                effective_decision=effective.decide(tool),
            )
        )
    return out


def _normalised(tools: list[BaseTool], body: PolicyIn) -> list[dict[str, object]]:
    """Entries keyed by operation id (tool names change when the integration is renamed)."""
    by_key: dict[str, BaseTool] = {}
    for tool in tools:
        by_key[tool.name] = tool
        by_key[tool_policy(tool).operation] = tool
    stored: list[dict[str, object]] = []
    seen: set[str] = set()
    for index, entry in enumerate(body.overrides):
        match = by_key.get(entry.tool)
        if match is None:
            raise ValidationFailed(
                f"overrides[{index}]: {entry.tool!r} is not a tool of this integration", code="unknown_tool"
            )
        declared = tool_policy(match)
        if declared.operation in seen:
            raise ValidationFailed(f"overrides[{index}]: {entry.tool!r} is listed twice", code="duplicate_tool")
        seen.add(declared.operation)
        if entry.decision == "allow" and (
            declared.access == "destructive" or (declared.access == "write" and declared.phi)
        ):
            # The agent would still ask (agents/policy.py); refusing says so instead of silently ignoring it.
            raise ValidationFailed(
                f"{match.name} is {'destructive' if declared.access == 'destructive' else 'a write to patient data'}"
                " and always asks a person; choose ask or deny",
                code="decision_not_allowed",
            )
        stored.append({"tool": declared.operation, "decision": entry.decision})
    return stored


@router.get("/{integration_id}/tools", response_model=list[IntegrationToolOut])
async def list_tools(
    integration_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> list[IntegrationToolOut]:
    """The integration's tools with what each declares and the approval decision that applies."""
    integration = await service.get_visible(session, user, integration_id)
    return _describe(integration, _integration_tools(ctx, integration))


@router.put("/{integration_id}/policy", response_model=list[IntegrationToolOut])
async def replace_policy(
    integration_id: uuid.UUID, body: PolicyIn, admin: AdminUser, session: SessionDep, ctx: ContextDep
) -> list[IntegrationToolOut]:
    """Replace the integration's approval overrides (admins only); answers the tools as they now stand."""
    integration = await service.get_visible(session, admin, integration_id)
    tools = _integration_tools(ctx, integration)
    previous = list(integration.approval_overrides or [])
    integration.approval_overrides = _normalised(tools, body)
    await session.flush()
    await record_audit(
        session,
        action="integration.policy_changed",
        actor=admin,
        integration_id=integration.id,
        details={"previous": previous, "overrides": integration.approval_overrides},
    )
    return _describe(integration, tools)
