"""The HL7 agent tools: explain, validate, build, recent messages (shared) and send (per integration)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.base import IntegrationContext, ToolServices
from tools.errors import ConnectorBadRequest, ConnectorConfigError, ConnectorNotFound
from tools.hl7.build import BuildError, build_message
from tools.hl7.build_models import BuildRequest, MessageHeader
from tools.hl7.config import Hl7Config, client_for
from tools.hl7.message import explain_async, inspect_async
from tools.tooling import make_tool

# explain / validate / build work only on the text the user gave (no system is reached): the chat
# scope is enough. Reading the message store needs messages:read, sending messages:write.
CHAT = "chat"


class MessageArgs(BaseModel):
    message: str = Field(min_length=8, max_length=200_000, description="The HL7 v2 message, segments on lines")


class BuildArgs(BuildRequest):
    destination: str | None = Field(
        default=None,
        max_length=100,
        description="Name of an HL7 integration: its sending/receiving application and facility and its "
        "version go into MSH (explicit header fields win)",
    )


MessageStatus = Literal[
    "accepted", "filtered", "retrying", "delivered", "partially_delivered", "failed", "skipped", "received", "rejected"
]


class RecentArgs(BaseModel):
    patient_id: str | None = Field(default=None, max_length=128, description="Patient identifier (PID-3), e.g. MRN")
    message_type: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{3}(\^[A-Za-z0-9]{2,3})?$", description="ADT, or with trigger: ADT^A01"
    )
    since_hours: float | None = Field(default=None, gt=0, le=24 * 366, description="Only the last N hours")
    direction: Literal["inbound", "outbound"] | None = None
    limit: int = Field(default=20, ge=1, le=50)
    status: (
        Literal[
            "accepted",
            "filtered",
            "retrying",
            "delivered",
            "partially_delivered",
            "failed",
            "skipped",
            "received",
            "rejected",
        ]
        | None
    ) = Field(default=None, description="Only messages in this state (e.g. failed, retrying, filtered)")
    control_id: str | None = Field(default=None, max_length=64, description="MSH-10 message control id")


class StatusArgs(BaseModel):
    message_id: str | None = Field(default=None, max_length=64, description="The message id the API returned")
    control_id: str | None = Field(default=None, max_length=64, description="Or its MSH-10 message control id")


class QueueArgs(BaseModel):
    destination: str | None = Field(
        default=None, max_length=100, description="HL7 destination (integration) name, e.g. 'Lab feed'; all if left out"
    )


def _send_summary(destination: str) -> Callable[[dict[str, Any]], str]:
    """`Send ADT^A01 for MRN 12345 to Demo HL7 receiver`, read from the message's MSH-9 and PID-3."""

    def summarize(args: dict[str, Any]) -> str:
        segments = [s for s in re.split(r"[\r\n]+", str(args["message"]).strip()) if len(s) >= 4]
        msh = next((s for s in segments if s.startswith("MSH")), "")
        separator = msh[3] if len(msh) > 3 else "|"
        fields = msh.split(separator)
        kind = "^".join(fields[8].split("^")[:2]) if len(fields) > 8 and fields[8] else "an HL7 message"
        pid = next((s.split(separator) for s in segments if s.startswith("PID")), [])
        patient = pid[3].split("~")[0].split("^")[0] if len(pid) > 3 else ""
        about = f" for MRN {patient}" if patient else ""
        return f"Send {kind}{about} to {destination}"

    return summarize


def _send_outcome(result: Any) -> tuple[bool, str | None] | None:
    """A message refused before sending says nothing about the receiver; a NAK still means it answered."""
    if not isinstance(result, dict) or not result.get("sent"):
        return None
    if result.get("code") or result.get("accepted"):
        return True, None
    return False, str(result.get("error") or result.get("status") or "not delivered")


def send_tool(ctx: IntegrationContext, services: ToolServices) -> BaseTool:
    """hl7.send for one integration: through the backend's message store (recorded, outbox) when present."""

    async def send(message: str) -> dict[str, Any]:
        if services.hl7_store is not None:
            return await services.hl7_store.send(ctx.id, message, user_id=services.user_id)
        # Without a backend (library use) the message goes straight out and is not recorded anywhere.
        config = ctx.config
        if not isinstance(config, Hl7Config):
            raise ConnectorConfigError("This integration is not an HL7 integration.")
        inspection = await inspect_async(message)
        if inspection.errors:
            return {"sent": False, "problems": inspection.errors}
        client = client_for(ctx)
        try:
            await ctx.outbound.check_host(config.host, config.port)
            result = await client.send(inspection.normalized)
        finally:
            await client.close()
        return {"sent": True, "destination": ctx.name, **result.model_dump(exclude={"raw"})}

    return make_tool(
        send,
        operation="hl7.send",
        args_schema=MessageArgs,
        access="write",
        scope="messages:write",
        phi=True,
        description="Send an HL7 v2 message over MLLP and report the ACK (recorded in the message store).",
        integration_id=ctx.id,
        integration_name=ctx.name,
        integration_type="hl7",
        summarize=_send_summary(ctx.name),
        judge=_send_outcome,
    )


def _header_for(contexts: Sequence[IntegrationContext], destination: str, header: MessageHeader) -> MessageHeader:
    match = next((c for c in contexts if c.name.lower() == destination.strip().lower()), None)
    if match is None or not isinstance(match.config, Hl7Config):
        names = ", ".join(c.name for c in contexts) or "none"
        raise ConnectorNotFound(f"No HL7 integration called {destination!r} (yours: {names}).")
    config = match.config
    from_destination = {
        "sending_application": config.sending_application or None,
        "sending_facility": config.sending_facility or None,
        "receiving_application": config.receiving_application or None,
        "receiving_facility": config.receiving_facility or None,
        "version": config.version,
    }
    explicit = header.model_dump(include=header.model_fields_set)
    merged = {k: v for k, v in from_destination.items() if v is not None} | explicit
    return MessageHeader.model_validate({**header.model_dump(), **merged})


def shared_tools(contexts: Sequence[IntegrationContext], services: ToolServices) -> list[BaseTool]:
    async def explain(message: str) -> dict[str, Any]:
        return await explain_async(message)

    async def validate(message: str) -> dict[str, Any]:
        inspection = await inspect_async(message)
        return {
            "valid": not inspection.errors,
            "summary": inspection.summary.model_dump(exclude_none=True),
            "problems": [p.model_dump() for p in inspection.problems],
        }

    async def build(**kwargs: Any) -> dict[str, Any]:
        destination = kwargs.pop("destination", None)
        request = BuildRequest.model_validate(kwargs)
        if destination:
            request = request.model_copy(update={"header": _header_for(contexts, destination, request.header)})
        try:
            built = build_message(request)
        except BuildError as exc:
            raise ConnectorBadRequest(f"The message could not be built: {exc}") from exc
        inspection = await inspect_async(built.message)
        return {
            **built.model_dump(exclude={"message"}),
            "message": built.message.replace("\r", "\n"),
            "destination": destination,
            "problems": [p.model_dump() for p in inspection.problems],
        }

    tools = [
        make_tool(
            explain,
            operation="hl7.explain",
            scope=CHAT,
            name="hl7_explain",
            args_schema=MessageArgs,
            access="read",
            phi=True,
            description="Explain an HL7 v2 message: every segment and field with its name.",
        ),
        make_tool(
            validate,
            operation="hl7.validate",
            scope=CHAT,
            name="hl7_validate",
            args_schema=MessageArgs,
            access="read",
            phi=True,
            description="Validate an HL7 v2 message and list problems with their locations.",
        ),
        make_tool(
            build,
            operation="hl7.build",
            scope=CHAT,
            name="hl7_build",
            args_schema=BuildArgs,
            access="read",
            phi=True,
            description="Build an HL7 v2 ADT^A01/A04/A08, ORU^R01 or ORM^O01 message from patient (or a FHIR "
            "patient summary), visit, order and observations. Builds only; sending is hl7 send.",
        ),
    ]
    if services.hl7_store is not None:
        store = services.hl7_store

        async def recent(**kwargs: Any) -> dict[str, Any]:
            found = await store.recent(user_id=services.user_id, **kwargs)
            return {"count": len(found), "messages": found, "filters": kwargs}

        async def message_status(**kwargs: Any) -> dict[str, Any]:
            if not kwargs.get("message_id") and not kwargs.get("control_id"):
                raise ConnectorBadRequest("Give the message id or its control id (MSH-10).")
            return await store.message_status(user_id=services.user_id, **kwargs)

        async def queue_status(destination: str | None = None) -> dict[str, Any]:
            queues = await store.queue_status(user_id=services.user_id, destination=destination)
            return {
                "count": len(queues),
                "queues": queues,
                "blocked": [q["destination"] for q in queues if q["blocked"]],
            }

        tools.append(
            make_tool(
                message_status,
                operation="hl7.message_status",
                scope="messages:read",
                name="hl7_message_status",
                args_schema=StatusArgs,
                access="read",
                phi=True,
                description="Did a message go through? Its status, the channels that took it and each "
                "destination's state, ACK code, attempts and last error — by message id or control id (MSH-10).",
            )
        )
        tools.append(
            make_tool(
                queue_status,
                operation="hl7.queue_status",
                scope="messages:read",
                name="hl7_queue_status",
                args_schema=QueueArgs,
                access="read",
                phi=False,
                description="Why is a feed stuck? Each HL7 destination's in-order queue: depth, oldest age, "
                "paused or blocked, why, and the message at its head with its last ACK and error.",
            )
        )
        tools.append(
            make_tool(
                recent,
                operation="hl7.recent_messages",
                scope="messages:read",
                name="hl7_recent_messages",
                args_schema=RecentArgs,
                access="read",
                phi=True,
                description="Recent HL7 messages from the message store (inbound and sent), newest first, "
                "filtered by patient id, message type (ADT or ADT^A01), direction, status, control id and age.",
            )
        )
    return tools
