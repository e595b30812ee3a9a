"""The inbound MLLP listener started by `switchboard serve` when `HL7_LISTEN_PORT` is set.

Every message that arrives is stored (direction `inbound`) with the ACK we answered: AA for a valid
message, AE with the located problems otherwise. Garbage, partial and oversize frames are handled by
the listener itself and never reach the store.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from backend.context import AppContext
from backend.models.hl7 import Hl7Message
from backend.platform.sources import hl7_received
from tools.hl7.ack import build_ack
from tools.hl7.message import inspect_async
from tools.hl7.mllp import MllpListener

log = logging.getLogger("switchboard.hl7.inbound")


def inbound_listener(app: AppContext, host: str, port: int) -> MllpListener:
    async def receive(raw: str, peer: str) -> str:
        started = datetime.now(UTC)
        # HL7 never carries NUL, and PostgreSQL text cannot store it: keep the message (visibly
        # replaced) and reject it, instead of failing to store it at all.
        has_nul = "\x00" in raw
        raw = raw.replace("\x00", "\ufffd")
        inspection = await inspect_async(raw)
        summary = inspection.summary
        if has_nul:
            ack, code, status = build_ack(raw, "AE", "The message contains NUL (0x00) bytes"), "AE", "rejected"
        elif inspection.errors:
            text = "; ".join(f"{e['location']}: {e['message']}" for e in inspection.errors)
            ack, code, status = build_ack(raw, "AE", text), "AE", "rejected"
        else:
            ack, code, status = build_ack(raw, "AA", "Message accepted"), "AA", "received"
        async with app.db.session() as session:
            session.add(
                stored := Hl7Message(
                    direction="inbound",
                    source=peer,
                    peer=peer,
                    message_type=summary.message_type,
                    trigger_event=summary.trigger_event,
                    version=summary.version,
                    control_id=summary.control_id,
                    patient_id=summary.patient_id,
                    status=status,
                    raw=inspection.normalized or raw[:100_000],
                    ack=ack,
                    ack_code=code,
                    problems=[p.model_dump() for p in inspection.problems],
                    received_at=started,
                    completed_at=datetime.now(UTC),
                    processing_time_ms=round((datetime.now(UTC) - started).total_seconds() * 1000, 2),
                )
            )
            await session.flush()  # assigns the id the event carries
            await hl7_received(app, session, stored)
        log.info("inbound HL7 %s %s from %s: %s", summary.message_type, summary.control_id, peer, code)
        return ack

    return MllpListener(receive, host=host, port=port)
