"""The event bus: `publish(app, event, data, audience)` reaches live subscribers on every replica and
enqueues matching webhook deliveries.

Without `REDIS_URL` fan-out is in-process. With it, every publish goes through one Redis pub/sub
channel that each process listens on, so an event raised on one replica reaches the sockets of all of
them (and exactly once: a process does not also deliver its own events locally). Webhook deliveries are
rows in the outbox, written in the caller's transaction when it passes one, so an event is sent by
webhook if and only if its source change was committed; live frames go out after that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend.models.user import User
from backend.models.webhook import Webhook, WebhookDelivery

from .catalog import matches

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from backend.context import AppContext

log = logging.getLogger("switchboard.platform.events")

QUEUE_SIZE = 1000
REDIS_RETRY_S = 5.0
PUBLISH_TIMEOUT_S = 1.0
_PENDING_KEY = "platform_pending_events"
_HOOKED_KEY = "platform_commit_hooked"


@dataclass(frozen=True)
class Audience:
    """Who may see an event: listed users, every user (shared resources), and/or admins."""

    user_ids: frozenset[str] = frozenset()
    everyone: bool = False
    admins: bool = False

    @classmethod
    def owner(cls, user_id: uuid.UUID | str | None, *, admins: bool = False) -> Audience:
        return cls(frozenset({str(user_id)}) if user_id else frozenset(), admins=admins)

    def allows(self, user_id: str, is_admin: bool) -> bool:
        return self.everyone or user_id in self.user_ids or (self.admins and is_admin)

    def to_json(self) -> dict[str, Any]:
        return {"user_ids": sorted(self.user_ids), "everyone": self.everyone, "admins": self.admins}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Audience:
        return cls(
            frozenset(str(u) for u in raw.get("user_ids", [])), bool(raw.get("everyone")), bool(raw.get("admins"))
        )


@dataclass(frozen=True)
class Envelope:
    id: str
    event: str
    timestamp: str
    data: dict[str, Any]  # ids and summaries: what everyone in the audience may receive anywhere
    audience: Audience
    # Patient data (a message's text, a tool's arguments): only for webhooks an admin marked `allow_phi`.
    # Never on the live channel, never through Redis.
    phi: dict[str, Any] = field(default_factory=dict)

    def frame(self, *, include_phi: bool = False) -> dict[str, Any]:
        """What a subscriber and a webhook receive: `{event, timestamp, data}` (+ the event id)."""
        data = {**self.data, **self.phi} if include_phi and self.phi else self.data
        return {"id": self.id, "event": self.event, "timestamp": self.timestamp, "data": data}

    def to_wire(self) -> str:
        return json.dumps({**self.frame(), "audience": self.audience.to_json()}, separators=(",", ":"), default=str)

    @classmethod
    def from_wire(cls, raw: str | bytes) -> Envelope:
        body = json.loads(raw)
        return cls(body["id"], body["event"], body["timestamp"], body["data"], Audience.from_json(body["audience"]))


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass(eq=False)
class EventSubscription:
    """One live listener (a socket): its identity, its patterns and a bounded queue."""

    user_id: str
    is_admin: bool
    patterns: set[str] = field(default_factory=set)
    queue: asyncio.Queue[Envelope | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, envelope: Envelope) -> None:
        if self.overflowed or not self.patterns or not matches(envelope.event, self.patterns):
            return
        if not envelope.audience.allows(self.user_id, self.is_admin):
            return
        try:
            self.queue.put_nowait(envelope)
        except asyncio.QueueFull:
            # A consumer this far behind is closed rather than allowed to grow memory without bound.
            self.overflowed = True
            self.queue._queue.clear()  # type: ignore[attr-defined]
            self.queue.put_nowait(None)


class EventBus:
    """Local subscribers plus, with Redis, the shared channel every replica listens on."""

    def __init__(self, redis: Redis | None = None, channel: str = "switchboard:events") -> None:
        self.redis = redis
        self.channel = channel
        self._subscribers: set[EventSubscription] = set()
        self._listener: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._subscribed = False
        self._redis_down_until = 0.0
        # Replica-to-replica notices (e.g. a user was disabled): handled here, never sent to clients.
        self.internal_handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.origin = uuid.uuid4().hex

    async def start(self) -> None:
        if self.redis is None:
            return
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await self._pubsub.subscribe(self.channel)  # subscribed before the app serves anything
            self._subscribed = True
        except Exception:
            # Redis down at start-up: serve anyway (local delivery); the listener keeps trying.
            log.warning("cannot subscribe to the Redis event channel; retrying in the background", exc_info=True)
        self._listener = asyncio.create_task(self._listen(), name="event-bus-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                if not self._subscribed:
                    await self._pubsub.subscribe(self.channel)
                    self._subscribed = True
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    self.deliver_local(Envelope.from_wire(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("event channel read failed; reconnecting", exc_info=True)
                self._subscribed = False
                await asyncio.sleep(1)

    def subscribe(self, user_id: str, is_admin: bool) -> EventSubscription:
        subscription = EventSubscription(user_id=user_id, is_admin=is_admin)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: EventSubscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def deliver_local(self, envelope: Envelope) -> None:
        handler = self.internal_handlers.get(envelope.event)
        if handler is not None:
            if envelope.data.get("origin") != self.origin:  # the sender already handled its own
                handler(envelope.data)
            return
        for subscription in list(self._subscribers):
            subscription.offer(envelope)

    async def broadcast_internal(self, event: str, data: dict[str, Any]) -> None:
        """Tell the other replicas (no client, no webhook ever sees it); a no-op without Redis."""
        if self.redis is None:
            return
        await self.broadcast(Envelope(uuid.uuid4().hex, event, now_iso(), {**data, "origin": self.origin}, Audience()))

    async def broadcast(self, envelope: Envelope) -> None:
        if self.redis is None or time.monotonic() < self._redis_down_until:
            self.deliver_local(envelope)
            return
        try:
            # Bounded: a Redis that accepts connections but never answers must not hold live events
            # back (the shared client has no read timeout, for the listener's sake).
            await asyncio.wait_for(self.redis.publish(self.channel, envelope.to_wire()), PUBLISH_TIMEOUT_S)
        except Exception:
            # Redis is down: this replica's subscribers still hear it; other replicas miss it. Skip Redis
            # for a while so every publish does not wait for a connect timeout.
            log.warning("publishing %s to Redis failed; delivering locally", envelope.event, exc_info=True)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_S
            self.deliver_local(envelope)


_SUBSCRIPTIONS_KEY = "platform_webhook_subscriptions"


Subscription = tuple[uuid.UUID, list[str], str, bool, bool]


async def _subscriptions(session: AsyncSession) -> list[Subscription]:
    """Every active webhook (id, patterns, owner id, owner is admin, may receive PHI), read once per
    transaction: the HL7 engine publishes hundreds of events in one group commit, and a query per event
    was most of its cost. Only owners who may still sign in: a disabled or unapproved owner's webhooks
    (an admin's included) get nothing."""
    cached: list[Subscription] | None = session.info.get(_SUBSCRIPTIONS_KEY)
    if cached is None:
        rows = await session.execute(
            select(Webhook.id, Webhook.events, Webhook.owner_id, User.role, Webhook.allow_phi)
            .join(User, User.id == Webhook.owner_id)
            .where(Webhook.is_active, User.is_active.is_(True), User.approval_status == "approved")
        )
        cached = [
            (wid, list(patterns or []), str(owner), role == "admin", bool(allow_phi))
            for wid, patterns, owner, role, allow_phi in rows.all()
        ]
        session.info[_SUBSCRIPTIONS_KEY] = cached
    return cached


def _forget_subscriptions(sync_session: Session, *_: Any) -> None:
    sync_session.info.pop(_SUBSCRIPTIONS_KEY, None)


async def enqueue_deliveries(session: AsyncSession, envelope: Envelope) -> int:
    """Add one outbox row per active webhook that subscribes to the event and whose owner may see it."""
    audience = envelope.audience
    if _SUBSCRIPTIONS_KEY not in session.info:
        # The snapshot lives for one transaction: the next one sees webhooks created meanwhile.
        orm_event.listen(session.sync_session, "after_commit", _forget_subscriptions, once=True)
        orm_event.listen(session.sync_session, "after_rollback", _forget_subscriptions, once=True)
    queued = 0
    for webhook_id, patterns, owner_id, owner_is_admin, allow_phi in await _subscriptions(session):
        if not audience.allows(owner_id, owner_is_admin):
            continue
        if matches(envelope.event, patterns):
            payload = envelope.frame(include_phi=allow_phi)
            session.add(WebhookDelivery(webhook_id=webhook_id, event=envelope.event, payload=payload))
            queued += 1
    if queued:
        await session.flush()
    return queued


class Publisher:
    """Turns `publish` calls into outbox rows and live frames (after the source's commit)."""

    def __init__(self, app: AppContext, bus: EventBus, wake_worker: Any) -> None:
        self.app = app
        self.bus = bus
        self.wake_worker = wake_worker
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(self, envelope: Envelope, session: AsyncSession | None) -> None:
        if session is None:
            async with self.app.db.session() as own:
                queued = await enqueue_deliveries(own, envelope)
            await self._after_commit([envelope], queued)
            return
        queued = await enqueue_deliveries(session, envelope)
        pending: list[tuple[Envelope, int]] | None = session.info.get(_PENDING_KEY)
        if pending is None:
            pending = session.info[_PENDING_KEY] = []
            if not session.info.get(_HOOKED_KEY):
                # Sessions are short-lived units of work, so the listeners simply live as long as it.
                session.info[_HOOKED_KEY] = True
                orm_event.listen(session.sync_session, "after_commit", self._on_commit)
                orm_event.listen(session.sync_session, "after_rollback", self._on_rollback)
        pending.append((envelope, queued))

    def _on_commit(self, sync_session: Session) -> None:
        pending: list[tuple[Envelope, int]] = sync_session.info.pop(_PENDING_KEY, None) or []
        if pending:
            task = asyncio.get_running_loop().create_task(
                self._after_commit([e for e, _ in pending], sum(q for _, q in pending))
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _on_rollback(self, sync_session: Session) -> None:
        sync_session.info.pop(_PENDING_KEY, None)  # the source change did not happen: no event

    async def _after_commit(self, envelopes: list[Envelope], queued: int) -> None:
        if queued:
            self.wake_worker()
        for envelope in envelopes:
            await self.bus.broadcast(envelope)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)


async def publish(
    app: AppContext,
    event: str,
    data: dict[str, Any],
    audience: Audience,
    session: AsyncSession | None = None,
    *,
    phi: dict[str, Any] | None = None,
) -> None:
    """Announce `event` to live subscribers and webhooks whose owners are in `audience`.

    `data` must hold no patient data; put that in `phi`, which only `allow_phi` webhooks receive.
    Pass the source's `session` to tie the webhook rows to its transaction. Never raises: a failure
    to announce must not undo the change it announces.
    """
    publisher: Publisher | None = app.extras.get("event_publisher")
    if publisher is None:
        return
    envelope = Envelope(uuid.uuid4().hex, event, now_iso(), data, audience, phi or {})
    try:
        await publisher.publish(envelope, session)
    except Exception:
        log.exception("publishing %s failed", event)
