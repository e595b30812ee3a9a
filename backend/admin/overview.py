"""`GET /api/v1/admin/overview`: integration health, HL7 delivery states, tool calls, approvals, live load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from backend.deps import AdminUser, ContextDep, SessionDep
from backend.integrations.health import tracker_of
from backend.integrations.schemas import IntegrationHealthOut
from backend.models.audit import AuditEvent
from backend.models.chat import ChatEvent
from backend.models.hl7 import Hl7Delivery
from backend.models.integration import Integration
from backend.observability.activity import Window, activity_of

router = APIRouter(prefix="/admin", tags=["admin"])

WINDOW = timedelta(days=7)


async def _counts(session: SessionDep, column: Any, *where: Any) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).where(*where).group_by(column))
    return {str(key): int(count) for key, count in rows.all() if key is not None}


@router.get("/overview/activity")
async def activity(_: AdminUser, ctx: ContextDep, window: Annotated[Window, Query()] = "1h") -> dict[str, Any]:
    """The admin charts: turns and errors, tool calls by outcome and p95 first-token time over time,
    approvals by decision (this process; `window` is `1h` in minutes or `24h` in 15-minute steps)."""
    return activity_of(ctx).series(window)


@router.get("/overview")
async def overview(_: AdminUser, session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Operational overview for admins (last 7 days where a window applies)."""
    since = datetime.now(UTC) - WINDOW
    tests = await session.execute(
        select(AuditEvent.integration_id, AuditEvent.outcome, func.count())
        .where(AuditEvent.action == "integration.tested", AuditEvent.created_at >= since)
        .group_by(AuditEvent.integration_id, AuditEvent.outcome)
    )
    per_integration: dict[str, dict[str, int]] = {}
    for integration_id, outcome, count in tests.all():
        per_integration.setdefault(str(integration_id), {})[outcome] = int(count)
    integrations = []
    tracker = tracker_of(ctx)
    for integration in await session.scalars(select(Integration).order_by(Integration.name)):
        outcomes = per_integration.get(str(integration.id), {})
        total = sum(outcomes.values())
        health = IntegrationHealthOut.model_validate(tracker.merged(integration)).model_dump(mode="json")
        integrations.append(
            {
                "id": str(integration.id),
                "name": integration.name,
                "integration_type": integration.integration_type,
                "visibility": integration.visibility,
                "status": tracker.status_of(integration),
                "health": health,
                "last_test": integration.last_test_at.isoformat().replace("+00:00", "Z")
                if integration.last_test_at
                else None,
                "tests": total,
                "error_rate": round(outcomes.get("failure", 0) / total, 3) if total else None,
            }
        )
    tool_results = await session.execute(
        select(ChatEvent.frame).where(ChatEvent.type == "tool_result", ChatEvent.id > 0).limit(50_000)
    )
    tool_outcomes: dict[str, int] = {}
    for (frame,) in tool_results.all():
        status = str((frame.get("metadata") or {}).get("status", "unknown"))
        tool_outcomes[status] = tool_outcomes.get(status, 0) + 1
    hub = ctx.extras.get("hub")
    sockets, runs = hub.active_counts() if hub is not None else (0, 0)
    return {
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "integrations": integrations,
        "hl7": {
            "by_status": await _counts(session, Hl7Delivery.status),
            "ack_codes": await _counts(session, Hl7Delivery.ack_code),
        },
        "tool_calls": {"by_outcome": tool_outcomes},
        "approvals": {
            "by_decision": await _counts(
                session, AuditEvent.details["decision"].as_string(), AuditEvent.action == "approval.decision"
            )
        },
        "active_sockets": sockets,
        "active_runs": runs,
    }
