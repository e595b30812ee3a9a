"""The message store as the HL7 agent tools see it (`tools.base.Hl7MessageStore`).

Chat sends take the same path as routed messages: stored, queued in the outbox, delivered by the
worker (pacing, ACK correlation, retries, events) — the tool just claims its own delivery at once so
the user sees the ACK in the answer. Queries are scoped to what the user may see, like the API.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.integrations.access import visible_to
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.integration import Integration
from backend.models.user import User
from tools.errors import ConnectorNotFound, ConnectorPermissionError
from tools.hl7.ack import MEANINGS

from . import service
from .outbox import DeliveryWorker
from .queues import queue_views
from .transport import inspect_message

RECENT_LIMIT = 50


class MessageStore:
    """Implements `Hl7MessageStore` over the database and this process's delivery worker."""

    def __init__(self, app: AppContext, worker: DeliveryWorker) -> None:
        self.app = app
        self.worker = worker

    async def _user(self, session: AsyncSession, user_id: str | None) -> User:
        key = _uuid(user_id)
        user = await session.get(User, key) if key else None
        if user is None or not user.is_active:
            raise ConnectorPermissionError("The HL7 message store needs a signed-in user.")
        return user

    async def recent(
        self,
        *,
        user_id: str | None,
        patient_id: str | None = None,
        message_type: str | None = None,
        since_hours: float | None = None,
        direction: str | None = None,
        limit: int = 20,
        status: str | None = None,
        control_id: str | None = None,
    ) -> list[dict[str, Any]]:
        async with self.app.db.session() as session:
            user = await self._user(session, user_id)
            query = service.filtered(
                user,
                patient_id=patient_id,
                message_type=message_type,
                direction=direction,
                since=service.since_hours(since_hours),
                status=status,
                control_id=control_id,
            ).limit(max(1, min(limit, RECENT_LIMIT)))
            messages = list(await session.scalars(query))
            deliveries = await _deliveries_by_message(session, [m.id for m in messages])
        return [_summary(m, deliveries.get(m.id, [])) for m in messages]

    async def message_status(
        self, *, user_id: str | None, message_id: str | None = None, control_id: str | None = None
    ) -> dict[str, Any]:
        async with self.app.db.session() as session:
            user = await self._user(session, user_id)
            query = service.filtered(user, control_id=control_id) if control_id else None
            key = _uuid(message_id) if message_id else None
            if key is not None:
                query = service.filtered(user).where(Hl7Message.id == key)
            found = await session.scalar(query.limit(1)) if query is not None else None
            if found is None:
                raise ConnectorNotFound("No message you can see has that id or control id.")
            rows = await service.deliveries(session, found.id)
            out = service.message_out(found, rows, await service.channel_names(session, rows))
        body = out.model_dump(mode="json", exclude={"raw", "ack", "problems"})
        body["went_through"] = out.status == "delivered"
        body["errors"] = [p for p in out.problems if p.get("severity") == "error"]
        body["meaning"] = {
            d.system: MEANINGS.get(d.ack_code or "", "no ACK yet" if d.status != "delivered" else None)
            for d in out.destinations
        }
        return body

    async def queue_status(self, *, user_id: str | None, destination: str | None = None) -> list[dict[str, Any]]:
        async with self.app.db.session() as session:
            user = await self._user(session, user_id)
            conditions = [visible_to(user), Integration.integration_type == "hl7"]
            if destination:
                conditions.append(func.lower(Integration.name) == destination.strip().lower())
            ids = list(await session.scalars(select(Integration.id).where(*conditions)))
            if destination and not ids:
                raise ConnectorNotFound(f"No HL7 destination called {destination!r} that you can see.")
            views = await queue_views(session, ids)
            own = set()
            heads = [v.head.message_id for v in views if v.head]
            if heads and not user.is_admin:
                own = set(
                    await session.scalars(
                        select(Hl7Message.id).where(Hl7Message.id.in_(heads), service.visible_messages(user))
                    )
                )
        found = []
        for view in views:
            body = view.model_dump(mode="json")
            if view.head and not user.is_admin and view.head.message_id not in own:
                # Someone else's message: its state explains the queue, its identity stays theirs.
                body["head"] = {
                    k: body["head"][k] for k in ("status", "attempts", "ack_code", "error", "next_attempt_at")
                }
                body["why"] = body["why"].replace(f"(control id {view.head.control_id}) ", "")
            if view.head and view.head.ack_code:
                body["head"]["meaning"] = MEANINGS.get(view.head.ack_code)
            found.append(body)
        return found

    async def send(self, integration_id: str, message: str, *, user_id: str | None) -> dict[str, Any]:
        inspection = await inspect_message(message)
        if inspection.errors:
            return {"sent": False, "problems": inspection.errors}
        async with self.app.db.session() as session:
            user = await self._user(session, user_id)
            integration = await session.scalar(
                select(Integration).where(
                    Integration.id == _uuid(integration_id),
                    visible_to(user),
                    Integration.integration_type == "hl7",
                    Integration.is_active.is_(True),
                )
            )
            if integration is None:
                raise ConnectorNotFound("That HL7 integration does not exist or is not available to you.")
            stored, rows = await service.enqueue(
                session, user, inspection, [integration], source="chat", lease=self.worker.lease()
            )
            message_id, delivery_id, destination = stored.id, rows[0].id, integration.name
        # Committed (and leased to our worker) before sending: if this process dies mid-send, the lease
        # runs out and any worker retries it; the user waits for this first attempt's ACK.
        await self.worker.deliver(delivery_id)
        async with self.app.db.session() as session:
            delivery = await session.get(Hl7Delivery, delivery_id)
            assert delivery is not None
            return {
                "sent": True,
                "message_id": str(message_id),
                "destination": destination,
                "status": delivery.status,
                "accepted": delivery.status == "delivered",
                "code": delivery.ack_code,
                "meaning": MEANINGS.get(delivery.ack_code or ""),
                "control_id": inspection.summary.control_id,
                "latency_ms": delivery.latency_ms,
                "attempts": delivery.attempts,
                "error": delivery.error,
                "will_retry": delivery.status in ("queued", "retrying", "sent"),
            }


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def _deliveries_by_message(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Hl7Delivery]]:
    found: dict[uuid.UUID, list[Hl7Delivery]] = {}
    if ids:
        for row in await session.scalars(select(Hl7Delivery).where(Hl7Delivery.message_id.in_(ids))):
            found.setdefault(row.message_id, []).append(row)
    return found


def _summary(message: Hl7Message, deliveries: list[Hl7Delivery]) -> dict[str, Any]:
    return {
        "message_id": str(message.id),
        "direction": message.direction,
        "type": "^".join(x for x in (message.message_type, message.trigger_event) if x),
        "control_id": message.control_id,
        "patient_id": message.patient_id,
        "status": message.status,
        "received_at": message.received_at.isoformat(),
        "source": message.source,
        "ack_code": message.ack_code,
        "destinations": [
            {"system": d.system, "status": d.status, "ack_code": d.ack_code} for d in sorted(deliveries, key=_system)
        ],
    }


def _system(delivery: Hl7Delivery) -> str:
    return delivery.system
