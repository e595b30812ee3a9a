"""Random bytes into the app's own inbound MLLP listener (the one that stores what arrives).

tests/tools/hl7/test_hl7_mllp.py fuzzes the bare listener; here the bytes also reach the handler
that parses and stores messages in the database (SQLite or PostgreSQL), including framed payloads
that start like HL7 and then turn to noise (NUL bytes, control characters, invalid UTF-8). After each
one a valid message must still get its AA and be stored."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.config import Settings
from backend.models.hl7 import Hl7Message
from tests.conftest import running_app
from tests.security.conftest import closed_port
from tools.hl7.mllp import CR, END, START, MllpClient

VALID = "MSH|^~\\&|EMR|HOSP|SB|SB|20250101120000||ADT^A01|{control}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"

CONTROL_IDS = itertools.count(1)
noise = st.one_of(
    st.binary(max_size=300),  # unframed garbage
    st.binary(max_size=300).map(lambda b: START + b + END + CR),  # framed garbage
    st.binary(max_size=300).map(lambda b: START + b"MSH|^~\\&|" + b + END + CR),  # HL7-looking, then noise
    st.text(max_size=200).map(lambda t: START + b"MSH|^~\\&|A|B|C|D|2025||ADT^A01|X|P|2.5\r" + t.encode() + END + CR),
)


@pytest.fixture
async def listening(settings: Settings) -> AsyncIterator[tuple[Any, int]]:
    port = closed_port()
    async with running_app(settings.model_copy(update={"hl7_listen_port": port})) as app:
        yield app, port


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=noise)
@example(payload=START + b"MSH|^~\\&|A|B|C|D|2025||ADT^A01|NUL1|P|2.5\rPID|1||12\x0034||DOE" + END + CR)
async def test_the_inbound_listener_survives_random_bytes(listening: tuple[Any, int], payload: bytes) -> None:
    app, port = listening
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    if payload.startswith(START) and payload.endswith(END + CR) and END not in payload[:-2]:
        # One whole frame: it gets an ACK, and never "the receiver failed" (a crash in the handler,
        # e.g. a NUL byte PostgreSQL cannot store), because every frame that arrives is stored.
        reply = await asyncio.wait_for(reader.readuntil(END + CR), 5)
        assert b"MSA|" in reply and b"failed to process" not in reply, reply
    writer.close()
    control = f"FUZZ{next(CONTROL_IDS)}"  # unique per example: its own row proves it was stored
    client = MllpClient("127.0.0.1", port, timeout_s=5)
    try:
        ack = await client.send(VALID.format(control=control))
    finally:
        await client.close()
    assert ack.code == "AA", ack
    async with app.state.ctx.db.session() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Hl7Message).where(Hl7Message.control_id == control)
        )
    assert stored == 1
