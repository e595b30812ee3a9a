"""Traffic over time for the admin chart: messages per minute and the ACK codes destinations answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models.hl7 import Hl7Delivery, Hl7Message


class MinuteStats(BaseModel):
    minute: datetime
    received: int  # messages accepted (API or MLLP) that minute
    acks: dict[str, int]  # destination outcomes recorded that minute by ACK code ("none": no ACK)


class TrafficStats(BaseModel):
    since: datetime
    minutes: list[MinuteStats]


def _bucket(session: AsyncSession, column: Any) -> Any:
    bind = session.bind
    assert bind is not None
    if bind.dialect.name == "sqlite":
        return func.strftime("%Y-%m-%dT%H:%M:00", column)
    return func.to_char(func.date_trunc("minute", column), 'YYYY-MM-DD"T"HH24:MI:00')


async def traffic(session: AsyncSession, minutes: int = 60) -> TrafficStats:
    """One entry per minute of the last `minutes` (empty minutes included, so a chart has no gaps)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    since = now - timedelta(minutes=minutes - 1)
    received_bucket = _bucket(session, Hl7Message.received_at)
    received: dict[str, int] = {
        str(bucket): int(count)
        for bucket, count in (
            await session.execute(
                select(received_bucket, func.count(Hl7Message.id))
                .where(Hl7Message.received_at >= since)
                .group_by(received_bucket)
            )
        ).tuples()
    }
    ack_bucket = _bucket(session, Hl7Delivery.updated_at)
    acks: dict[str, dict[str, int]] = {}
    for bucket, code, count in (
        await session.execute(
            select(ack_bucket, Hl7Delivery.ack_code, func.count(Hl7Delivery.id))
            .where(Hl7Delivery.updated_at >= since, Hl7Delivery.attempts > 0)
            .group_by(ack_bucket, Hl7Delivery.ack_code)
        )
    ).tuples():
        acks.setdefault(str(bucket), {})[code or "none"] = int(count)
    out = []
    for offset in range(minutes):
        minute = since + timedelta(minutes=offset)
        key = minute.strftime("%Y-%m-%dT%H:%M:00")
        out.append(MinuteStats(minute=minute, received=int(received.get(key, 0)), acks=acks.get(key, {})))
    return TrafficStats(since=since, minutes=out)
