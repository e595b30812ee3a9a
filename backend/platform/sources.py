"""What each source announces: event names, payload shapes and audiences (one helper per source).

Payloads carry identifiers, status and summaries, never credentials, HL7 message bodies, patient ids or
other patient data — except the clinical events (`patient.*`, `encounter.*`, `lab.result.ready`), which
carry the patient's MRN and nothing else about them. What could carry patient data (an answer's text, a
tool call's arguments) goes in `phi=`, which only webhooks an admin marked `allow_phi` receive
(docs/security.md).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_object_session

from backend.integrations.access import grantee_ids

from .events import Audience, publish

if TYPE_CHECKING:
    from backend.context import AppContext
    from backend.models.hl7 import Hl7Delivery, Hl7Message
    from backend.models.integration import Integration
    from backend.models.user import User


# ---------------------------------------------------------------- integrations


async def integration_audience(session: AsyncSession, integration: Integration) -> Audience:
    """Shared integrations are seen by every user (restricted ones: their grantees and the admins);
    private ones by their owner only."""
    if integration.visibility != "shared":
        return Audience.owner(integration.owner_id)
    if integration.access == "all":
        return Audience(everyone=True)
    return Audience(frozenset(str(u) for u in await grantee_ids(session, integration.id)), admins=True)


def integration_data(integration: Integration) -> dict[str, Any]:
    return {
        "id": str(integration.id),
        "name": integration.name,
        "integration_type": integration.integration_type,
        "visibility": integration.visibility,
        "owner_id": str(integration.owner_id) if integration.owner_id else None,
        "status": integration.status,
        "is_active": integration.is_active,
    }


async def integration_changed(
    app: AppContext,
    session: AsyncSession,
    action: str,
    integration: Integration,
    *,
    previous_status: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """`integration.<action>` (created|updated|deleted|tested), plus `integration.status_changed`
    when `previous_status` differs from the current status."""
    audience = await integration_audience(session, integration)
    data = integration_data(integration)
    if result is not None:
        data["result"] = result
    await publish(app, f"integration.{action}", data, audience, session)
    if previous_status is not None and previous_status != integration.status:
        await publish(
            app,
            "integration.status_changed",
            {**integration_data(integration), "previous_status": previous_status},
            audience,
            session,
        )


# ---------------------------------------------------------------- chat


async def chat_turn_finished(
    app: AppContext,
    session: AsyncSession,
    user: User,
    session_id: str,
    final: dict[str, Any] | None,
    approvals: list[dict[str, Any]],
) -> None:
    """`chat.message.completed` for a stored answer, `approval.required` for each pending approval."""
    audience = Audience.owner(user.id)
    if final is not None:
        meta = final.get("metadata") or {}
        await publish(
            app,
            "chat.message.completed",
            {
                "session_id": session_id,
                "message_id": meta.get("message_id"),
                "run_id": final.get("run_id"),
                "content_length": len(final.get("content") or ""),
                "finish_reason": meta.get("finish_reason"),
                "tokens_used": meta.get("tokens_used"),
            },
            audience,
            session,
            phi={"content": final.get("content", "")},
        )
    for frame in approvals:
        meta = frame.get("metadata") or {}
        await publish(
            app,
            "approval.required",
            {
                "session_id": session_id,
                "run_id": frame.get("run_id"),
                "tool_call_id": meta.get("tool_call_id"),
                "tool_name": meta.get("tool_name"),
                "allowed_decisions": meta.get("allowed_decisions"),
            },
            audience,
            session,
            # The arguments of an HL7 send are the whole message (names, MRN, birth date).
            phi={"args": meta.get("args", {}), "description": meta.get("description") or frame.get("content")},
        )


# ---------------------------------------------------------------- HL7


def hl7_message_data(message: Hl7Message) -> dict[str, Any]:
    return {
        "message_id": str(message.id),
        "direction": message.direction,
        "message_type": message.message_type,
        "trigger_event": message.trigger_event,
        "control_id": message.control_id,
        "status": message.status,
        "source": message.source,
    }


def hl7_message_data_from(row: dict[str, Any]) -> dict[str, Any]:
    """`hl7_message_data` of a message that is still a row to insert (the group-commit path)."""
    return {
        "message_id": str(row["id"]),
        "direction": row["direction"],
        "message_type": row["message_type"],
        "trigger_event": row["trigger_event"],
        "control_id": row["control_id"],
        "status": row["status"],
        "source": row["source"],
    }


async def hl7_received(app: AppContext, session: AsyncSession, message: Hl7Message) -> None:
    """`hl7.message.received`: inbound traffic is visible to every user (as in `GET /messages`)."""
    await publish(
        app,
        "hl7.message.received",
        {**hl7_message_data(message), "ack_code": message.ack_code},
        Audience(everyone=True),
        session,
    )


def hl7_outbox_listener(app: AppContext) -> Any:
    """The HL7 outbox's `on_event` callback: `hl7.message.delivered|failed` per destination,
    in the outbox's own transaction (the ORM objects' session, or `session` for plain rows); seen by the
    submitter and admins."""

    async def on_event(
        event: str, message: Hl7Message | Any, delivery: Hl7Delivery | Any, session: AsyncSession | None = None
    ) -> None:
        data = {
            **hl7_message_data(message),
            "destination": {
                "system": delivery.system,
                "integration_id": str(delivery.integration_id) if delivery.integration_id else None,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "ack_code": delivery.ack_code,
                "error": delivery.error,
            },
        }
        audience = Audience.owner(message.owner_id, admins=True)
        await publish(app, event, data, audience, session or async_object_session(message))

    return on_event


# ---------------------------------------------------------------- clinical events from HL7 traffic

# Trigger events that tell the rest of a hospital something happened to a patient. Payloads carry the
# MRN, the message's ids and its type: enough to fetch the rest with the caller's own rights.
CLINICAL_EVENTS: dict[str, str] = {
    "ADT^A04": "patient.created",
    "ADT^A28": "patient.created",
    "ADT^A08": "patient.updated",
    "ADT^A31": "patient.updated",
    "ADT^A01": "encounter.admitted",
    "ADT^A03": "encounter.discharged",
    "ORU^R01": "lab.result.ready",
}


def clinical_event(message: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The clinical event an accepted message announces (from its stored columns), if any."""
    kind = f"{message.get('message_type') or ''}^{message.get('trigger_event') or ''}".upper()
    event = CLINICAL_EVENTS.get(kind)
    if event is None:
        return None
    return event, {
        "message_id": str(message["id"]),
        "message_type": kind,
        "control_id": message.get("control_id"),
        "mrn": message.get("patient_id"),
        "direction": message.get("direction"),
        "source": message.get("source"),
    }


def hl7_message_audience(direction: str, owner_id: uuid.UUID | None) -> Audience:
    """As `GET /messages` shows them: inbound traffic to every user, submitted traffic to its owner and admins."""
    return Audience(everyone=True) if direction == "inbound" else Audience.owner(owner_id, admins=True)
