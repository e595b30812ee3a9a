"""`/api/v1/webhooks`: CRUD, a signed test send, and the delivery log (a person's own webhooks only)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, status
from sqlalchemy import func, select

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.deps import ContextDep, CurrentUser, SessionDep
from backend.errors import AppError, Conflict, Forbidden, NotFound
from backend.models.webhook import Webhook, WebhookDelivery
from backend.pagination import Page, PageDep, paginate
from backend.security.crypto import CredentialsUnreadable
from tools.errors import ConnectorError, ConnectorUnreachable

from .catalog import TEST_EVENT
from .events import now_iso
from .schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut, WebhookUpdate
from .signing import new_secret
from .webhook_sender import check_webhook_target, send_webhook
from .webhook_worker import WebhookWorker, webhook_secret

router = APIRouter(prefix="/webhooks", tags=["platform"])

MAX_WEBHOOKS_PER_USER = 50


def default_name(name: str | None, url: str) -> str:
    """The given name, else the receiver's host (seed 003's `{url, events}` clients send none)."""
    if name and name.strip():
        return name.strip()
    return (urlsplit(url).hostname or "webhook")[:100]


def to_out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        name=webhook.name,
        url=webhook.url,
        events=list(webhook.events),
        is_active=webhook.is_active,
        allow_phi=webhook.allow_phi,
        consecutive_failures=webhook.consecutive_failures,
        disabled_reason=webhook.disabled_reason,
        last_delivery_at=webhook.last_delivery_at,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
    )


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event=delivery.event,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        response_code=delivery.response_code,
        duration_ms=delivery.duration_ms,
        error=delivery.error,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        next_attempt_at=delivery.next_attempt_at if delivery.status in ("pending", "retrying") else None,
        delivered_at=delivery.delivered_at,
    )


async def _check_target(ctx: AppContext, url: str) -> None:
    """SSRF guard and the TLS rule at save time (and again at every send)."""
    try:
        await check_webhook_target(ctx.outbound, url)
    except ConnectorUnreachable:
        pass  # unresolvable today may resolve later; each send checks again
    except ConnectorError as exc:
        raise AppError(exc.message, code=exc.code, status_code=422) from None


async def _set_allow_phi(session: SessionDep, user: CurrentUser, webhook: Webhook, allow: bool) -> None:
    """Patient data leaves Switchboard only for a receiver an admin vouched for (audited both ways)."""
    if allow and not user.is_admin:
        raise Forbidden("Only an admin can allow a webhook to receive patient data.", code="phi_requires_admin")
    if allow != webhook.allow_phi:
        webhook.allow_phi = allow
        await session.flush()
        await record_audit(
            session,
            action="webhook.phi_allowed" if allow else "webhook.phi_revoked",
            actor=user,
            details={"webhook_id": str(webhook.id), "url": webhook.url},
        )


async def _owned(session: SessionDep, user: CurrentUser, webhook_id: uuid.UUID) -> Webhook:
    webhook = await session.scalar(select(Webhook).where(Webhook.id == webhook_id, Webhook.owner_id == user.id))
    if webhook is None:
        raise NotFound("Webhook not found")
    return webhook


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(
    body: WebhookCreate, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> WebhookCreated:
    """Subscribe a URL to events. The signing `secret` is in this response only."""
    count = await session.scalar(select(func.count()).select_from(Webhook).where(Webhook.owner_id == user.id))
    if (count or 0) >= MAX_WEBHOOKS_PER_USER:
        raise Conflict(f"At most {MAX_WEBHOOKS_PER_USER} webhooks per user.", code="limit_reached")
    await _check_target(ctx, body.url)
    secret = new_secret()
    webhook = Webhook(
        owner_id=user.id,
        name=default_name(body.name, body.url),
        url=body.url,
        events=list(body.events),
        secret_encrypted=ctx.cipher.encrypt({"secret": secret}),
        is_active=body.is_active,
        allow_phi=False,
        consecutive_failures=0,
    )
    session.add(webhook)
    await session.flush()
    await record_audit(
        session, action="webhook.created", actor=user, details={"webhook_id": str(webhook.id), "url": webhook.url}
    )
    if body.allow_phi:
        await _set_allow_phi(session, user, webhook, True)
    return WebhookCreated(**to_out(webhook).model_dump(), secret=secret)


@router.get("", response_model=Page[WebhookOut])
async def list_webhooks(user: CurrentUser, session: SessionDep, params: PageDep) -> Any:
    query = select(Webhook).where(Webhook.owner_id == user.id).order_by(Webhook.created_at.desc(), Webhook.id)
    items, total = await paginate(session, query, params)
    return Page[WebhookOut].build([to_out(w) for w in items], total, params)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> WebhookOut:
    return to_out(await _owned(session, user, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    webhook_id: uuid.UUID, body: WebhookUpdate, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> WebhookOut:
    """Change name, URL, events; `is_active: true` re-enables it and resets the failure count."""
    webhook = await _owned(session, user, webhook_id)
    fields = body.model_fields_set
    if "allow_phi" in fields and body.allow_phi and not user.is_admin:
        raise Forbidden("Only an admin can allow a webhook to receive patient data.", code="phi_requires_admin")
    if "url" in fields and body.url is not None:
        await _check_target(ctx, body.url)
        if body.url != webhook.url:
            # The admin vouched for a receiver, not for whatever URL the webhook points at next.
            await _set_allow_phi(session, user, webhook, False)
        webhook.url = body.url
    if "name" in fields and body.name is not None:
        webhook.name = body.name.strip()
    if "events" in fields and body.events is not None:
        webhook.events = list(body.events)
    if "is_active" in fields and body.is_active is not None:
        if body.is_active and not webhook.is_active:
            webhook.consecutive_failures = 0
            webhook.disabled_reason = None
        webhook.is_active = body.is_active
    if "allow_phi" in fields and body.allow_phi is not None:
        await _set_allow_phi(session, user, webhook, body.allow_phi)
    webhook.updated_at = datetime.now(UTC)
    await session.flush()
    await record_audit(
        session,
        action="webhook.updated",
        actor=user,
        details={"webhook_id": str(webhook.id), "fields": sorted(fields)},
    )
    return to_out(webhook)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> None:
    """Delete the webhook and its delivery log; queued deliveries are dropped."""
    webhook = await _owned(session, user, webhook_id)
    await record_audit(
        session, action="webhook.deleted", actor=user, details={"webhook_id": str(webhook.id), "url": webhook.url}
    )
    await session.delete(webhook)
    await session.flush()


@router.post("/{webhook_id}/test", response_model=DeliveryOut)
async def test_webhook(webhook_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> DeliveryOut:
    """Send a signed `webhook.test` event now and return the logged attempt (not retried, and it does
    not count toward auto-disable). Works on a disabled webhook, to check a receiver before re-enabling."""
    webhook = await _owned(session, user, webhook_id)
    worker: WebhookWorker = ctx.extras["webhook_worker"]
    payload = {
        "id": uuid.uuid4().hex,
        "event": TEST_EVENT,
        "timestamp": now_iso(),
        "data": {"webhook_id": str(webhook.id), "message": "This is a test delivery from Switchboard."},
    }
    try:
        secret = webhook_secret(ctx, webhook)
    except CredentialsUnreadable:
        raise AppError(
            "The signing secret cannot be decrypted with the configured keys; create a new webhook.",
            code="secret_unreadable",
            status_code=409,
        ) from None
    delivery_id = uuid.uuid4()
    # Sent before anything is written: no write lock is held while waiting for the receiver.
    outcome = await send_webhook(
        worker.client,
        ctx.outbound,
        url=webhook.url,
        secret=secret,
        delivery_id=delivery_id,
        event=TEST_EVENT,
        payload=payload,
    )
    delivery = WebhookDelivery(id=delivery_id, webhook_id=webhook.id, event=TEST_EVENT, payload=payload, attempts=0)
    session.add(delivery)
    await worker.record(session, webhook, delivery, outcome, retry=False)
    await session.flush()
    return delivery_out(delivery)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    webhook_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    params: PageDep,
    status_filter: Annotated[
        Literal["pending", "retrying", "delivered", "failed"] | None, Query(alias="status")
    ] = None,
    event: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """The delivery log, newest first: status, attempts, response code, duration, last error."""
    webhook = await _owned(session, user, webhook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    )
    if status_filter:
        query = query.where(WebhookDelivery.status == status_filter)
    if event:
        query = query.where(WebhookDelivery.event == event)
    items, total = await paginate(session, query, params)
    return Page[DeliveryOut].build([delivery_out(d) for d in items], total, params)
