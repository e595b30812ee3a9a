"""Who may use an integration: its owner; a shared one, every user or only its grants (users, groups).

Admins always may use and see shared integrations (they manage them). A user without a grant does
not see a restricted shared integration anywhere: not in REST (404, as if it did not exist), not in
the agent's toolset, not as an HL7 destination.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models.access import IntegrationGrant, UserGroupMember
from backend.models.integration import Integration
from backend.models.user import User


def granted_to(user: User) -> Any:
    """SQL condition: a grant of the integration names the user or a group the user belongs to."""
    in_group = select(UserGroupMember.group_id).where(UserGroupMember.user_id == user.id)
    return exists().where(
        IntegrationGrant.integration_id == Integration.id,
        or_(IntegrationGrant.user_id == user.id, IntegrationGrant.group_id.in_(in_group)),
    )


def visible_to(user: User) -> Any:
    """SQL condition: the user's own integrations and the shared ones they may use."""
    shared = Integration.visibility == "shared"
    if user.is_admin:
        return or_(Integration.owner_id == user.id, shared)
    return or_(
        Integration.owner_id == user.id,
        and_(shared, or_(Integration.access == "all", granted_to(user))),
    )


async def grantee_ids(session: AsyncSession, integration_id: uuid.UUID) -> set[uuid.UUID]:
    """Every user a restricted integration is granted to, directly or through a group."""
    direct = await session.scalars(
        select(IntegrationGrant.user_id).where(
            IntegrationGrant.integration_id == integration_id, IntegrationGrant.user_id.is_not(None)
        )
    )
    via_groups = await session.scalars(
        select(UserGroupMember.user_id)
        .join(IntegrationGrant, IntegrationGrant.group_id == UserGroupMember.group_id)
        .where(IntegrationGrant.integration_id == integration_id)
    )
    return {u for u in direct if u is not None} | set(via_groups)
