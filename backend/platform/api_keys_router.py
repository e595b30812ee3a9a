"""`/api/v1/api-keys`: a person manages their own keys (API keys themselves cannot: no scope allows it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import func, select

from backend.audit.service import record_audit
from backend.deps import ContextDep, CurrentUser, SessionDep
from backend.errors import Conflict, NotFound
from backend.models.api_key import ApiKey
from backend.pagination import Page, PageDep, paginate
from backend.security.principals import principal_changed

from .api_keys import key_state, mint_key
from .schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeyUpdate

router = APIRouter(prefix="/api-keys", tags=["platform"])

MAX_KEYS_PER_USER = 100


def to_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes),
        status=key_state(key),  # type: ignore[arg-type]
        is_active=key.is_active,
        expires_at=key.expires_at,
        rate_limit_per_minute=key.rate_limit_per_minute,
        usage_count=key.usage_count,
        last_used_at=key.last_used_at,
        created_at=key.created_at,
        updated_at=key.updated_at,
    )


async def _owned(session: SessionDep, user: CurrentUser, key_id: uuid.UUID) -> ApiKey:
    key = await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.owner_id == user.id))
    if key is None:
        raise NotFound("API key not found")
    return key


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(body: ApiKeyCreate, user: CurrentUser, session: SessionDep) -> ApiKeyCreated:
    """Create a key for the caller. The `key` is in this response only; only its hash is stored."""
    count = await session.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.owner_id == user.id))
    if (count or 0) >= MAX_KEYS_PER_USER:
        raise Conflict(f"At most {MAX_KEYS_PER_USER} API keys per user; delete unused ones.", code="limit_reached")
    minted = mint_key()
    key = ApiKey(
        owner_id=user.id,
        name=body.name.strip(),
        key_hash=minted.key_hash,
        prefix=minted.prefix,
        scopes=list(body.scopes),
        expires_at=body.expires_at,
        rate_limit_per_minute=body.rate_limit_per_minute,
        usage_count=0,
    )
    session.add(key)
    await session.flush()
    await record_audit(
        session,
        action="api_key.created",
        actor=user,
        details={"api_key_id": str(key.id), "prefix": key.prefix, "scopes": key.scopes},
    )
    return ApiKeyCreated(**to_out(key).model_dump(), key=minted.key)


@router.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(user: CurrentUser, session: SessionDep, params: PageDep) -> Any:
    """The caller's keys, newest first (prefix only; the key itself is never shown again)."""
    query = select(ApiKey).where(ApiKey.owner_id == user.id).order_by(ApiKey.created_at.desc(), ApiKey.id)
    items, total = await paginate(session, query, params)
    return Page[ApiKeyOut].build([to_out(k) for k in items], total, params)


@router.get("/{key_id}", response_model=ApiKeyOut)
async def get_api_key(key_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> ApiKeyOut:
    return to_out(await _owned(session, user, key_id))


@router.patch("/{key_id}", response_model=ApiKeyOut)
async def update_api_key(
    key_id: uuid.UUID, body: ApiKeyUpdate, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> ApiKeyOut:
    """Rename, change scopes, expiry or limit; `is_active: false` suspends the key."""
    key = await _owned(session, user, key_id)
    fields = body.model_fields_set
    if "name" in fields and body.name is not None:
        key.name = body.name.strip()
    if "scopes" in fields and body.scopes is not None:
        key.scopes = list(body.scopes)
    if "expires_at" in fields:
        key.expires_at = body.expires_at
    if "rate_limit_per_minute" in fields:
        key.rate_limit_per_minute = body.rate_limit_per_minute
    if "is_active" in fields and body.is_active is not None and body.is_active != key.is_active:
        key.is_active = body.is_active
        key.revoked_at = None if body.is_active else datetime.now(UTC)
        await record_audit(
            session,
            action="api_key.reactivated" if body.is_active else "api_key.revoked",
            actor=user,
            details={"api_key_id": str(key.id), "prefix": key.prefix},
        )
    key.updated_at = datetime.now(UTC)
    await session.commit()  # open channels of the key re-read it: the change must be visible first
    await principal_changed(ctx, key.id, lost_access=key_state(key) != "active")
    return to_out(key)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_api_key(key_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> None:
    """Revoke and delete the key; it stops working at once."""
    key = await _owned(session, user, key_id)
    await record_audit(
        session,
        action="api_key.revoked",
        actor=user,
        details={"api_key_id": str(key.id), "prefix": key.prefix, "deleted": True},
    )
    await session.delete(key)
    await session.commit()
    await principal_changed(ctx, key_id, lost_access=True)
