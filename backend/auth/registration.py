"""The registration policy (`REGISTRATION`) and the one-time invites that open it.

open: anyone may register and use the service at once. approval: anyone may register; the account
is `pending` (it may sign in and see that it waits, nothing else) until an admin approves it.
invite: only with an admin's invite. closed: nobody. The first account on an empty database is always
created, approved, as the admin. A valid invite also skips the wait under `approval`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.config import Settings
from backend.errors import Forbidden, ValidationFailed
from backend.models.invite import RegistrationInvite
from backend.models.user import User
from backend.security.tokens import hash_token

INVITE_PREFIX = "inv_"


def new_invite_token() -> str:
    return INVITE_PREFIX + secrets.token_urlsafe(24)


async def is_first_account(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(User))


async def claim_invite(session: AsyncSession, token: str, email: str) -> RegistrationInvite:
    """Use up a valid invite (atomically: a token works once) or raise 422 `invalid_invite`."""
    now = datetime.now(UTC)
    invite = await session.scalar(select(RegistrationInvite).where(RegistrationInvite.token_hash == hash_token(token)))
    usable = invite is not None and invite.used_at is None and invite.revoked_at is None and invite.expires_at > now
    if not usable or (invite is not None and invite.email and invite.email.lower() != email.strip().lower()):
        raise ValidationFailed("The invite is not valid, was already used or has expired", code="invalid_invite")
    assert invite is not None
    claimed = await session.execute(
        update(RegistrationInvite)
        .where(RegistrationInvite.id == invite.id, RegistrationInvite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationFailed("The invite is not valid, was already used or has expired", code="invalid_invite")
    return invite


async def admission(
    session: AsyncSession, settings: Settings, *, email: str, invite_token: str | None
) -> tuple[str, RegistrationInvite | None]:
    """The new account's approval status under the policy, and the invite it used; or 403."""
    if await is_first_account(session):
        return "approved", None
    policy = settings.registration_policy
    if policy == "closed":
        raise Forbidden("Registration is closed on this server; ask an administrator", code="registration_closed")
    if invite_token is None:
        if policy == "invite":
            raise Forbidden("Registration needs an invite from an administrator", code="invite_required")
        return ("approved" if policy == "open" else "pending"), None
    return "approved", await claim_invite(session, invite_token, email)
