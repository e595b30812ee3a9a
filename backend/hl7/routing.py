"""Which channels take a message: compiled channel snapshots, the filter match, a fresh-enough cache.

Routing runs on every accepted message, so it reads channels from memory: the cache reloads when
this process changed a channel (`invalidate`) and otherwise at most every `ttl_s`, after a cheap
"did anything change?" query — a channel edited on another replica applies within that time.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from sqlalchemy import func, select

from backend.db.session import Database
from backend.models.hl7_channel import Hl7Channel
from backend.models.integration import Integration
from tools.hl7.message import Hl7Summary
from tools.hl7.paths import Operation, apply_all


@dataclass(frozen=True)
class Destination:
    integration_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ChannelRoute:
    """A channel as routing needs it (patterns upper-cased, transform compiled)."""

    id: uuid.UUID
    name: str
    sources: frozenset[str]
    message_types: tuple[str, ...]
    sending_applications: tuple[str, ...]
    sending_facilities: tuple[str, ...]
    versions: tuple[str, ...]
    operations: tuple[Operation, ...]
    destinations: tuple[Destination, ...]
    ordering: str
    validation: str
    on_negative_ack: str

    @classmethod
    def of(cls, channel: Hl7Channel, names: dict[uuid.UUID, str]) -> ChannelRoute:
        spec = channel.filter or {}
        ids = [uuid.UUID(i) for i in channel.destination_ids]
        return cls(
            id=channel.id,
            name=channel.name,
            sources=frozenset(channel.sources),
            message_types=tuple(p.upper() for p in spec.get("message_types") or ()),
            sending_applications=tuple(p.upper() for p in spec.get("sending_applications") or ()),
            sending_facilities=tuple(p.upper() for p in spec.get("sending_facilities") or ()),
            versions=tuple(spec.get("versions") or ()),
            operations=tuple(Operation.parse(step) for step in channel.transform),
            destinations=tuple(Destination(i, names[i]) for i in ids if i in names),
            ordering=channel.ordering,
            validation=channel.validation,
            on_negative_ack=channel.on_negative_ack,
        )

    def matches(self, summary: Hl7Summary, source: str) -> bool:
        if source not in self.sources:
            return False
        kind = (summary.message_type or "").upper()
        full = f"{kind}^{(summary.trigger_event or '').upper()}"
        if self.message_types and not any(
            fnmatchcase(full if "^" in p else kind, p) or p == "*" for p in self.message_types
        ):
            return False
        if not _any(self.sending_applications, _namespace(summary.sending_application)):
            return False
        if not _any(self.sending_facilities, _namespace(summary.sending_facility)):
            return False
        return not self.versions or any(fnmatchcase(summary.version or "", p) for p in self.versions)

    def transform(self, message: str) -> str | None:
        """The payload this channel sends (None: the message unchanged)."""
        return apply_all(message, list(self.operations)) if self.operations else None


def _namespace(value: str | None) -> str:
    """HD's namespace id (first component), upper-cased: `LAB^1.2.3^ISO` matches `LAB`."""
    return (value or "").split("^")[0].upper()


def _any(patterns: tuple[str, ...], value: str) -> bool:
    return not patterns or any(fnmatchcase(value, p) for p in patterns)


class ChannelCache:
    """Enabled channels, compiled, refreshed when they change (here at once, elsewhere within `ttl_s`)."""

    def __init__(self, db: Database, ttl_s: float = 1.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._routes: list[ChannelRoute] = []
        self._stamp: tuple[int, int, datetime | None] | None = None
        self._checked = -float("inf")
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._stamp = None
        self._checked = -float("inf")

    async def routes(self) -> list[ChannelRoute]:
        if time.monotonic() - self._checked < self.ttl_s and self._stamp is not None:
            return self._routes
        async with self._lock:
            if time.monotonic() - self._checked < self.ttl_s and self._stamp is not None:
                return self._routes
            async with self.db.session() as session:
                # Integration renames change destination names, so they count as a change too.
                channels_stamp = (
                    await session.execute(select(func.count(Hl7Channel.id), func.max(Hl7Channel.updated_at)))
                ).one()
                hl7 = Integration.integration_type == "hl7"
                integrations_stamp = (
                    await session.execute(
                        select(func.count(Integration.id), func.max(Integration.updated_at)).where(hl7)
                    )
                ).one()
                latest = max(filter(None, (channels_stamp[1], integrations_stamp[1])), default=None)
                stamp = (int(channels_stamp[0]), int(integrations_stamp[0]), latest)
                if stamp != self._stamp:
                    channels = list(
                        await session.scalars(select(Hl7Channel).where(Hl7Channel.enabled).order_by(Hl7Channel.name))
                    )
                    ids = {uuid.UUID(i) for c in channels for i in c.destination_ids}
                    names = dict(
                        (
                            await session.execute(
                                select(Integration.id, Integration.name).where(Integration.id.in_(ids))
                            )
                        ).all()
                    )
                    self._routes = [ChannelRoute.of(c, names) for c in channels]
                    self._stamp = stamp
            self._checked = time.monotonic()
            return self._routes

    async def matching(self, summary: Hl7Summary, source: str) -> list[ChannelRoute]:
        return [route for route in await self.routes() if route.matches(summary, source)]
