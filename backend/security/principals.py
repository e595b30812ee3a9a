"""Revocation that reaches open channels: a per-principal version, and a guard per long-lived channel.

A chat WebSocket, an SSE stream or an events socket authenticates once, then lives for hours. Each
keeps a `ChannelGuard`, which re-checks its principal on every frame it acts on: the token's (or the
key's) expiry is a clock comparison, and whether anything changed is one dict lookup — the version of
the user (and of the API key) in `PrincipalVersions`. Only when a version moved does the guard read
the user and the key again (one short transaction) and decide: still allowed, or closed with 4401
(disabled, deleted, rejected, key revoked or expired) / 4403 (demoted, the key lost the scope).

Whoever changes a principal (an admin disabling or demoting a user, an owner revoking a key) calls
`principal_changed` after the change is committed. It bumps the version here, wakes the guards
watching that principal (so an idle socket is closed at once, not at its next frame), stops the
user's running turns when access was lost, and, with `REDIS_URL`, tells every other replica the same
through the event bus.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.context import AppContext
from backend.models.api_key import ApiKey
from backend.models.user import User

log = logging.getLogger("switchboard.security.principals")

CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN = 4401, 4403
# The event-bus name replicas use to tell each other that a principal changed (never sent to clients).
CHANGED_EVENT = "internal.principal.changed"

Watcher = Callable[[], None]
LostAccess = Callable[[str], None]


class PrincipalVersions:
    """In-memory version per principal (user id or API key id); one per process."""

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._watchers: dict[str, set[Watcher]] = {}
        # Called with a user id whose access was lost (e.g. to cancel that user's running turns).
        self.on_lost_access: list[LostAccess] = []

    def version(self, subject: str) -> int:
        return self._versions.get(subject, 0)

    def bump(self, subject: str, *, lost_access: bool) -> None:
        """Mark `subject` changed here: its guards re-check, and its turns stop if access was lost."""
        self._versions[subject] = self._versions.get(subject, 0) + 1
        for watcher in list(self._watchers.get(subject, ())):
            watcher()
        if lost_access:
            for hook in self.on_lost_access:
                try:
                    hook(subject)
                except Exception:
                    log.exception("stopping the work of principal %s failed", subject)

    def watch(self, subject: str, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` whenever `subject` changes; returns the function that stops watching."""
        self._watchers.setdefault(subject, set()).add(watcher)

        def stop() -> None:
            watchers = self._watchers.get(subject)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[subject]

        return stop

    def on_remote_change(self, data: dict[str, Any]) -> None:
        """The event-bus handler: another replica changed a principal."""
        subject = data.get("subject")
        if isinstance(subject, str):
            self.bump(subject, lost_access=bool(data.get("lost_access")))


def versions_of(app: AppContext) -> PrincipalVersions:
    """The process's registry (created on first use, so every app context has one)."""
    registry = app.extras.get("principal_versions")
    if registry is None:
        registry = app.extras["principal_versions"] = PrincipalVersions()
    assert isinstance(registry, PrincipalVersions)
    return registry


async def principal_changed(app: AppContext, subject: uuid.UUID | str, *, lost_access: bool) -> None:
    """Announce a committed change to a user or an API key, here and on every replica."""
    text = str(subject)
    versions_of(app).bump(text, lost_access=lost_access)
    bus = app.extras.get("event_bus")
    if bus is not None:
        await bus.broadcast_internal(CHANGED_EVENT, {"subject": text, "lost_access": lost_access})


@dataclass(frozen=True)
class Refusal:
    code: int  # 4401 or 4403
    reason: str  # a machine code: account_disabled, account_pending, role_changed, token_expired...


@dataclass
class ChannelPrincipal:
    """Who a channel was opened by, as it knew them when it opened."""

    user: User
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] | None = None
    expires_at: datetime | None = None  # the access token's exp, or the API key's expiry
    channel_scope: str | None = None  # the scope a key needs for this channel (chat, events)
    was_admin: bool = field(init=False)

    def __post_init__(self) -> None:
        self.was_admin = self.user.is_admin


def channel_principal(principal: Any, channel_scope: str) -> ChannelPrincipal:
    """A REST request's principal (`backend.deps.Principal`) as a long-lived stream keeps it."""
    return ChannelPrincipal(
        principal.user,
        principal.api_key_id,
        principal.scopes,
        principal.expires_at,
        channel_scope=channel_scope if principal.api_key_id is not None else None,
    )


def refusal_for(user: User | None) -> Refusal | None:
    """Why this user may no longer use a channel (None: they still may)."""
    if user is None:
        return Refusal(CLOSE_UNAUTHENTICATED, "account_deleted")
    if not user.is_active:
        return Refusal(CLOSE_UNAUTHENTICATED, "account_disabled")
    if user.approval_status == "rejected":
        return Refusal(CLOSE_UNAUTHENTICATED, "account_rejected")
    if user.approval_status != "approved":
        return Refusal(CLOSE_FORBIDDEN, "account_pending")
    return None


class ChannelGuard:
    """Re-checks one channel's principal; `check()` is O(1) while nothing changed."""

    def __init__(
        self, app: AppContext, principal: ChannelPrincipal, on_refused: Callable[[Refusal], Awaitable[None]]
    ) -> None:
        self.app = app
        self.principal = principal
        self.on_refused = on_refused
        self.versions = versions_of(app)
        self.user_key = str(principal.user.id)
        self.api_key = str(principal.api_key_id) if principal.api_key_id else None
        self.seen = self._current()
        self._deadline_at = principal.expires_at.timestamp() if principal.expires_at else None
        self.refused: Refusal | None = None
        self._stops: list[Callable[[], None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def _current(self) -> tuple[int, int]:
        key_version = self.versions.version(self.api_key) if self.api_key else 0
        return self.versions.version(self.user_key), key_version

    @property
    def user(self) -> User:
        return self.principal.user

    def start(self) -> None:
        """Watch the principal: a change or the token's expiry re-checks at once, even while idle."""
        self._stops.append(self.versions.watch(self.user_key, self._wake))
        if self.api_key:
            self._stops.append(self.versions.watch(self.api_key, self._wake))
        expires = self.principal.expires_at
        if expires is not None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, (expires - datetime.now(UTC)).total_seconds())
            self._timer = loop.call_later(delay + 0.01, self._wake)

    def stop(self) -> None:
        for stop in self._stops:
            stop()
        self._stops.clear()
        if self._timer is not None:
            self._timer.cancel()

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._recheck_and_close())

    async def _recheck_and_close(self) -> None:
        await self.check()  # on a refusal, check() tells the channel

    async def check(self) -> bool:
        """True when the principal may still use the channel; otherwise the channel is told once."""
        deadline = self._deadline_at
        if (
            self.refused is None
            and (deadline is None or time.time() < deadline)
            and self.versions.version(self.user_key) == self.seen[0]
            and (self.api_key is None or self.versions.version(self.api_key) == self.seen[1])
        ):
            return True  # the hot path: a clock read and one or two dict lookups
        return await self._slow_check()

    async def _slow_check(self) -> bool:
        if self.refused is not None:
            return False
        refusal = self._expired()
        if refusal is None and self._current() != self.seen:
            refusal = await self._reload()
        if refusal is None:
            return True
        self.refused = refusal
        self.stop()
        try:
            await self.on_refused(refusal)
        except Exception:  # the channel is already gone
            log.debug("closing a revoked channel failed", exc_info=True)
        return False

    def _expired(self) -> Refusal | None:
        if self._deadline_at is not None and time.time() >= self._deadline_at:
            reason = "api_key_expired" if self.api_key else "token_expired"
            return Refusal(CLOSE_UNAUTHENTICATED, reason)
        return None

    async def _reload(self) -> Refusal | None:
        """Something changed: read the user (and key) again and decide."""
        seen = self._current()  # read first: a change during the reload triggers another check
        async with self.app.db.session() as session:
            user = await session.get(User, self.principal.user.id)
            key = await session.get(ApiKey, self.principal.api_key_id) if self.principal.api_key_id else None
        refusal = refusal_for(user)
        if refusal is not None:
            return refusal
        assert user is not None
        if self.principal.was_admin and not user.is_admin:
            return Refusal(CLOSE_FORBIDDEN, "role_changed")
        if self.principal.api_key_id is not None:
            from backend.platform.api_keys import key_state

            if key is None or key_state(key) != "active":
                return Refusal(CLOSE_UNAUTHENTICATED, "api_key_revoked")
            scopes = frozenset(str(s) for s in key.scopes)
            if self.principal.channel_scope and self.principal.channel_scope not in scopes:
                return Refusal(CLOSE_FORBIDDEN, "insufficient_scope")
            self.principal.scopes = scopes
            self.principal.expires_at = key.expires_at
            self._deadline_at = key.expires_at.timestamp() if key.expires_at else None
        self.principal.user = user
        self.principal.was_admin = user.is_admin
        self.seen = seen
        return None
