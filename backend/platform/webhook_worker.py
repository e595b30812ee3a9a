"""The webhook outbox worker: send each claimed delivery signed, log the outcome, retry with back-off.

Claiming, leases, waking and the poll loop are the shared outbox loop's (`platform/outbox.py`, the
same one the HL7 deliveries run on); this module decides what a delivery does. A webhook that fails
`DISABLE_AFTER_FAILURES` attempts in a row is switched off (its owner re-enables it with PATCH).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.models.user import User
from backend.models.webhook import Webhook, WebhookDelivery
from backend.security.crypto import CredentialsUnreadable

from .outbox import OutboxLoop, OutboxTable
from .outbox import backoff as outbox_backoff
from .webhook_sender import SendOutcome, send_webhook, webhook_http_client

log = logging.getLogger("switchboard.platform.webhooks")

DISABLE_AFTER_FAILURES = 10
DUE_STATUSES = ("pending", "retrying")
LOG_RETENTION = timedelta(days=30)  # finished deliveries older than this are pruned
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class WorkerSettings:
    poll_interval_s: float = 1.0
    batch_size: int = 20
    lease_s: float = 60.0
    max_attempts: int = 8
    backoff_base_s: float = 10.0
    backoff_max_s: float = 3600.0
    timeout_s: float = 10.0


def backoff(attempt: int, settings: WorkerSettings) -> float:
    """Exponential back-off: base · 2^(attempt-1), capped."""
    return outbox_backoff(attempt, settings.backoff_base_s, settings.backoff_max_s)


def _due(now: datetime) -> ColumnElement[bool]:
    return WebhookDelivery.status.in_(DUE_STATUSES)


def webhook_secret(app: AppContext, webhook: Webhook) -> str:
    return str(app.cipher.decrypt(webhook.secret_encrypted)["secret"])


class WebhookWorker:
    """One per process. `wake()` after enqueueing so delivery does not wait for the next poll."""

    def __init__(self, app: AppContext, settings: WorkerSettings) -> None:
        self.app = app
        self.settings = settings
        self.client = webhook_http_client(app, settings.timeout_s)  # pinned to the checked address
        self.loop = OutboxLoop(
            app,
            OutboxTable(WebhookDelivery, _due),
            self.deliver,
            name="webhook-outbox",
            settings=lambda: self.settings,
            periodic=(PRUNE_EVERY_S, self.prune),
        )
        self.worker_id = self.loop.worker_id

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        await self.client.aclose()

    def wake(self) -> None:
        self.loop.wake()

    async def claim(self) -> list[uuid.UUID]:
        """Lease due deliveries to this worker and return their ids."""
        return await self.loop.claim()

    async def prune(self) -> int:
        """Delete finished deliveries past the retention period (the log would otherwise grow forever)."""
        async with self.app.db.session() as session:
            result = await session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status.in_(("delivered", "failed")),
                    WebhookDelivery.created_at < datetime.now(UTC) - LOG_RETENTION,
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def deliver(self, delivery_id: uuid.UUID) -> None:
        async with self.app.db.session() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.locked_by != self.worker_id or delivery.status not in DUE_STATUSES:
                return
            webhook = await session.get(Webhook, delivery.webhook_id)
            if webhook is None:
                return
            if not webhook.is_active:
                self._close(delivery, "failed", "The webhook is disabled.")
                return
            owner = await session.get(User, webhook.owner_id)
            if owner is None or not owner.is_active or owner.approval_status != "approved":
                # Queued before its owner was disabled: the event must not leave now.
                self._close(delivery, "failed", "The webhook's owner is disabled.")
                return
            try:
                secret = webhook_secret(self.app, webhook)
            except CredentialsUnreadable:
                self._close(delivery, "failed", "The signing secret cannot be decrypted with the configured keys.")
                return
            url, event, payload = webhook.url, delivery.event, delivery.payload
        outcome = await send_webhook(
            self.client,
            self.app.outbound,
            url=url,
            secret=secret,
            delivery_id=delivery_id,
            event=event,
            payload=payload,
        )
        async with self.app.db.session() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            webhook = await session.get(Webhook, delivery.webhook_id) if delivery else None
            if delivery is None or webhook is None:
                return
            await self.record(session, webhook, delivery, outcome, retry=True)

    def _close(self, delivery: WebhookDelivery, status: str, error: str | None) -> None:
        now = datetime.now(UTC)
        delivery.status = status
        delivery.error = error
        delivery.locked_by = None
        delivery.locked_until = None
        delivery.updated_at = now
        if status == "delivered":
            delivery.delivered_at = now

    async def record(
        self,
        session: AsyncSession,
        webhook: Webhook,
        delivery: WebhookDelivery,
        outcome: SendOutcome,
        *,
        retry: bool,
    ) -> None:
        """Log the attempt on the delivery; count consecutive failures on the webhook (atomically)."""
        now = datetime.now(UTC)
        delivery.attempts += 1
        delivery.response_code = outcome.response_code
        delivery.duration_ms = outcome.duration_ms
        webhook.last_delivery_at = now
        if outcome.ok:
            self._close(delivery, "delivered", None)
            if retry:
                webhook.consecutive_failures = 0
            return
        if not retry:  # a test send is logged but does not count against the webhook
            self._close(delivery, "failed", outcome.error)
            return
        metrics = self.app.extras.get("metrics")
        if metrics is not None:
            metrics.webhook_failures.inc()
        # An SQL increment, not read-modify-write: several processes may fail the same webhook at once.
        failures = await session.scalar(
            update(Webhook)
            .where(Webhook.id == webhook.id)
            .values(consecutive_failures=Webhook.consecutive_failures + 1)
            .returning(Webhook.consecutive_failures)
        )
        await session.refresh(webhook)
        if failures is not None and failures >= DISABLE_AFTER_FAILURES and webhook.is_active:
            webhook.is_active = False
            webhook.disabled_reason = (
                f"Disabled after {failures} consecutive failed deliveries; last error: "
                + (outcome.error or "unknown")[:300]
            )
            log.warning("webhook %s disabled after %d consecutive failures", webhook.id, failures)
        if delivery.attempts >= self.settings.max_attempts or not webhook.is_active:
            self._close(delivery, "failed", outcome.error)
            return
        delivery.status = "retrying"
        delivery.error = outcome.error
        delivery.next_attempt_at = now + timedelta(seconds=backoff(delivery.attempts, self.settings))
        delivery.locked_by = None
        delivery.locked_until = None
        delivery.updated_at = now
