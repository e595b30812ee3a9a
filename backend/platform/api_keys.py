"""API key rules: minting (`sb_` + random, shown once), hashing, and authenticating a presented key."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import Unauthorized
from backend.models.api_key import ApiKey
from backend.models.user import User

KEY_PREFIX = "sb_"
_DISPLAY_CHARS = 8  # "sb_" + 8 characters identify a key in lists without revealing it
_MAX_PRESENTED_LENGTH = 200


@dataclass(frozen=True)
class MintedKey:
    key: str
    key_hash: str
    prefix: str


@dataclass(frozen=True)
class KeyIdentity:
    """What a valid `X-API-Key` grants: the owner, exactly these scopes, and the key's own limit."""

    key_id: uuid.UUID
    owner: User
    scopes: frozenset[str]
    rate_limit_per_minute: int | None
    expires_at: datetime | None = None


def hash_key(key: str) -> str:
    # A plain SHA-256 is right here: the key has ~256 bits of entropy, so no salt or slow hash is needed,
    # and lookups stay one indexed equality.
    return hashlib.sha256(key.encode()).hexdigest()


def mint_key() -> MintedKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return MintedKey(key=key, key_hash=hash_key(key), prefix=key[: len(KEY_PREFIX) + _DISPLAY_CHARS])


def key_state(key: ApiKey, now: datetime | None = None) -> str:
    """`active`, `expired` or `revoked` (inactive)."""
    now = now or datetime.now(UTC)
    if not key.is_active or key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


async def authenticate_key(session: AsyncSession, presented: str) -> KeyIdentity:
    """Resolve a presented key or raise 401 `invalid_api_key` / `api_key_expired`."""
    if not presented.startswith(KEY_PREFIX) or len(presented) > _MAX_PRESENTED_LENGTH:
        raise Unauthorized("The API key is not valid", code="invalid_api_key")
    row = await session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.owner_id).where(ApiKey.key_hash == hash_key(presented))
    )
    found = row.first()
    if found is None:
        raise Unauthorized("The API key is not valid", code="invalid_api_key")
    key, owner = found[0], found[1]
    state = key_state(key)
    if state == "revoked" or not owner.is_active or not owner.is_approved:
        raise Unauthorized("The API key has been revoked", code="invalid_api_key")
    if state == "expired":
        raise Unauthorized("The API key has expired", code="api_key_expired")
    return KeyIdentity(
        key_id=key.id,
        owner=owner,
        scopes=frozenset(str(s) for s in key.scopes),
        rate_limit_per_minute=key.rate_limit_per_minute,
        expires_at=key.expires_at,
    )
