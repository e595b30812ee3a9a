"""The integration engine's front door: a message in (API or MLLP) → checked → routed → stored durably.

Routing needs only MSH and PID, so a message is read with the cheap structural check
(`inspect(deep=False)`); hl7apy's full validation runs only when a matching channel asks for it
(`validation: warn | reject`). The rows are written by the group-commit `IngestWriter`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.context import AppContext
from backend.errors import AppError
from backend.logging import request_id_var
from backend.models.integration import Integration
from backend.models.user import User
from backend.platform.events import Audience
from backend.platform.sources import clinical_event, hl7_message_audience, hl7_message_data_from
from tools.hl7.ack import build_ack
from tools.hl7.message import Inspection, inspect, inspect_async

from .ingest import IngestWriter, PendingMessage
from .routing import ChannelCache, ChannelRoute, Destination


class InvalidHl7(AppError):
    status_code = 400
    code = "invalid_hl7"


@dataclass
class Routed:
    """What happened to one message: its id, status and where it goes."""

    message_id: uuid.UUID
    status: str  # accepted | filtered | received | rejected
    timestamp: datetime
    channels: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verdict:
    """The result of channel validation: problems to keep, and whether a channel refuses the message."""

    problems: list[dict[str, Any]]
    rejected: bool


async def validate_for(routes: list[ChannelRoute], inspection: Inspection) -> Verdict:
    """Full (hl7apy) validation, only when a matching channel wants it."""
    wanted = {r.validation for r in routes} - {"off"}
    if not wanted:
        return Verdict([], False)
    full = await inspect_async(inspection.normalized)
    problems = [p.model_dump() for p in full.problems]
    return Verdict(problems, bool(full.errors) and "reject" in wanted)


def delivery_row(
    message_id: uuid.UUID, destination: Destination, route: ChannelRoute | None, raw: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "message_id": message_id,
        "integration_id": destination.integration_id,
        "system": destination.name,
        "channel_id": route.id if route else None,
        "ordering": route.ordering if route else "fifo",
        "on_negative_ack": route.on_negative_ack if route else "retry",
        "payload": route.transform(raw) if route else None,
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "updated_at": now,
    }


class Hl7Engine:
    """One per process (lifespan): channel cache + group-commit writer; `wake` is the outbox worker's."""

    def __init__(self, app: AppContext, wake: Any) -> None:
        self.app = app
        self.channels = ChannelCache(app.db)
        self.writer = IngestWriter(app, wake)

    def start(self) -> None:
        self.writer.start()

    async def stop(self) -> None:
        await self.writer.stop()

    # ------------------------------------------------------------ the API

    def check(self, raw: str) -> Inspection:
        """The structural check; raises 400 `invalid_hl7` with located problems."""
        inspection = inspect(raw, deep=False)
        if inspection.errors:
            raise InvalidHl7(inspection.errors)
        return inspection

    async def plan_api(
        self, inspection: Inspection, explicit: list[Integration] | None
    ) -> tuple[list[ChannelRoute], Verdict]:
        routes = [] if explicit else await self.channels.matching(inspection.summary, "api")
        return routes, await validate_for(routes, inspection)

    def pending_api(
        self,
        user: User,
        inspection: Inspection,
        *,
        source: str | None,
        routes: list[ChannelRoute],
        explicit: list[Integration] | None,
        verdict: Verdict,
    ) -> tuple[PendingMessage, Routed]:
        """The rows of one message submitted over the API (explicit destinations win over channels)."""
        message_id = uuid.uuid4()
        raw = inspection.normalized
        deliveries: list[dict[str, Any]] = []
        if explicit:
            deliveries = [delivery_row(message_id, Destination(i.id, i.name), None, raw) for i in explicit]
        else:
            deliveries = route_rows(message_id, routes, raw)
        status = "accepted" if deliveries else "filtered"
        message = _message_row(message_id, inspection, "outbound", status, source=source, owner_id=user.id)
        message["problems"] = verdict.problems or inspection.warnings
        pending = PendingMessage(message, deliveries)
        pending.audit = _audit_row(user, message, deliveries)
        # Inbound and routed traffic announces clinical events; a message no channel took does not.
        pending.events = _events(message) if deliveries else []
        routed = Routed(
            message_id,
            status,
            message["received_at"],
            channels=[r.name for r in routes],
            destinations=[d["system"] for d in deliveries],
        )
        return pending, routed

    async def submit(self, user: User, raw: str, *, source: str | None, explicit: list[Integration] | None) -> Routed:
        inspection = self.check(raw)
        routes, verdict = await self.plan_api(inspection, explicit)
        if verdict.rejected:
            raise InvalidHl7([p for p in verdict.problems if p["severity"] == "error"])
        pending, routed = self.pending_api(
            user, inspection, source=source, routes=routes, explicit=explicit, verdict=verdict
        )
        await self.writer.write(pending)
        return routed

    # ------------------------------------------------------------ the MLLP listener

    async def receive(self, raw: str, peer: str) -> str:
        """Store (and route) one inbound message; the ACK it returns is sent only after the commit."""
        started = datetime.now(UTC)
        # HL7 never carries NUL, and PostgreSQL text cannot store it: keep the message (visibly
        # replaced) and reject it, instead of failing to store it at all.
        has_nul = "\x00" in raw
        raw = raw.replace("\x00", "\ufffd")
        inspection = inspect(raw, deep=False)
        message_id = uuid.uuid4()
        routes: list[ChannelRoute] = []
        problems = [p.model_dump() for p in inspection.problems]
        deliveries: list[dict[str, Any]] = []
        if has_nul:
            code, text = "AE", "The message contains NUL (0x00) bytes"
        elif inspection.errors:
            code, text = "AE", "; ".join(f"{e['location']}: {e['message']}" for e in inspection.errors)
        else:
            routes = await self.channels.matching(inspection.summary, "mllp")
            verdict = await validate_for(routes, inspection)
            problems = verdict.problems or problems
            if verdict.rejected:
                errors = [p for p in verdict.problems if p["severity"] == "error"]
                code, text = "AE", "; ".join(f"{e['location']}: {e['message']}" for e in errors)
            else:
                code, text = "AA", "Message accepted"
                deliveries = route_rows(message_id, routes, inspection.normalized)
        status = "rejected" if code != "AA" else "accepted" if deliveries else "received"
        ack = build_ack(raw, code, text)  # type: ignore[arg-type]
        message = _message_row(message_id, inspection, "inbound", status, source=peer, owner_id=None)
        message.update(
            raw=inspection.normalized or raw[:100_000],
            peer=peer,
            ack=ack,
            ack_code=code,
            problems=problems,
            received_at=started,
        )
        if not deliveries:
            message["completed_at"] = datetime.now(UTC)
            message["processing_time_ms"] = round((datetime.now(UTC) - started).total_seconds() * 1000, 2)
        pending = PendingMessage(message, deliveries)
        everyone = Audience(everyone=True)
        pending.events = [("hl7.message.received", {**hl7_message_data_from(message), "ack_code": code}, everyone)]
        if code == "AA":
            pending.events += _events(message)
        await self.writer.write(pending)
        return ack


def route_rows(message_id: uuid.UUID, routes: list[ChannelRoute], raw: str) -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = []
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for route in routes:
        for destination in route.destinations:
            if (route.id, destination.integration_id) not in seen:
                seen.add((route.id, destination.integration_id))
                deliveries.append(delivery_row(message_id, destination, route, raw))
    return deliveries


def _message_row(
    message_id: uuid.UUID,
    inspection: Inspection,
    direction: str,
    status: str,
    *,
    source: str | None,
    owner_id: uuid.UUID | None,
) -> dict[str, Any]:
    summary = inspection.summary
    now = datetime.now(UTC)
    return {
        "id": message_id,
        "direction": direction,
        "owner_id": owner_id,
        "source": source,
        "message_type": summary.message_type,
        "trigger_event": summary.trigger_event,
        "version": summary.version,
        "control_id": (summary.control_id or "")[:64] or None,
        "patient_id": (summary.patient_id or "")[:128] or None,
        "sending_application": (summary.sending_application or "")[:200] or None,
        "sending_facility": (summary.sending_facility or "")[:200] or None,
        "status": status,
        "raw": inspection.normalized,
        "problems": [],
        "received_at": now,
        "completed_at": now if status == "filtered" else None,
        "processing_time_ms": None,
    }


def _audit_row(user: User, message: dict[str, Any], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "created_at": message["received_at"],
        "actor_id": user.id,
        "actor": user.username,
        "action": "hl7.message.submitted",
        "outcome": "success",
        "patient_id": message["patient_id"],
        "resource_types": [],
        "details": {
            "message_id": str(message["id"]),
            "type": message["message_type"],
            "source": message["source"],
            "status": message["status"],
            "destinations": [d["system"] for d in deliveries],
        },
        "request_id": request_id_var.get(),
    }


def _events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any], Audience]]:
    found = clinical_event(message)
    if found is None:
        return []
    event, data = found
    return [(event, data, hl7_message_audience(message["direction"], message["owner_id"]))]
