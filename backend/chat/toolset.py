"""A user's tools for one turn: built from the integrations they may use, via the connectors."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool
from sqlalchemy import select

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.integrations.access import visible_to
from backend.integrations.runtime import integration_context
from backend.models.integration import Integration
from backend.models.user import User
from backend.platform.scopes import allows_tool
from tools.base import AuditRecord, Hl7MessageStore, IntegrationContext, ToolServices
from tools.errors import ConnectorError
from tools.registry import connectors
from tools.tooling import tool_policy

log = logging.getLogger("switchboard.chat.tools")


@dataclass(frozen=True)
class Toolset:
    tools: list[BaseTool]
    integrations: list[Integration]
    # Admin overrides per integration id: [{"tool": ..., "decision": ...}]
    overrides: dict[str, list[dict[str, Any]]]


async def user_integrations(app: AppContext, user: User) -> list[Integration]:
    async with app.db.session() as session:
        rows = await session.scalars(
            select(Integration)
            .where(visible_to(user), Integration.is_active.is_(True))
            .order_by(Integration.integration_type, Integration.name, Integration.id)
        )
        return list(rows)


def audit_sink(app: AppContext, user: User, session_id: uuid.UUID | None) -> Any:
    """Tools report EMR reads and similar through this; each record is its own short transaction."""

    async def write(record: AuditRecord) -> None:
        async with app.db.session() as session:
            await record_audit(
                session,
                action=record.action,
                actor=user,
                outcome=record.outcome,
                integration_id=record.integration_id,
                patient_id=record.patient_id,
                session_id=session_id,
                resource_types=record.resource_types,
                details=record.details,
            )

    return write


async def build_toolset(
    app: AppContext,
    user: User,
    *,
    session_id: uuid.UUID | None = None,
    hl7_store: Hl7MessageStore | None = None,
    scopes: frozenset[str] | None = None,
) -> Toolset:
    """The tools of the integrations `user` may use; with an API key's `scopes`, only those they allow."""
    integrations = await user_integrations(app, user)
    services = ToolServices(user_id=str(user.id), audit=audit_sink(app, user, session_id), hl7_store=hl7_store)
    contexts_by_type: dict[str, list[IntegrationContext]] = defaultdict(list)
    tools: list[BaseTool] = []
    usable: list[Integration] = []
    registry = connectors()
    for integration in integrations:
        connector = registry.get(integration.integration_type)
        if connector is None:
            continue
        try:
            ctx = integration_context(integration, app)
        except ConnectorError as exc:
            log.warning("integration %s skipped: %s", integration.id, exc.message)
            continue
        contexts_by_type[integration.integration_type].append(ctx)
        tools.extend(connector.build_tools(ctx, services))
        usable.append(integration)
    for type_name, connector in registry.items():
        tools.extend(connector.build_shared_tools(contexts_by_type.get(type_name, []), services))
    overrides = {str(i.id): list(i.approval_overrides or []) for i in usable}
    allowed = [tool for tool in tools if allows_tool(scopes, tool_policy(tool).scope)]
    return Toolset(tools=_unique(allowed), integrations=usable, overrides=overrides)


def _unique(tools: Sequence[BaseTool]) -> list[BaseTool]:
    """Two integrations whose names slug alike would clash; keep the first and say so in the log."""
    seen: set[str] = set()
    unique = []
    for tool in tools:
        if tool.name in seen:
            log.warning("duplicate tool name %s skipped", tool.name)
            continue
        seen.add(tool.name)
        unique.append(tool)
    return unique
