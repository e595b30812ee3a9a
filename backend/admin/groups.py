"""`/api/v1/admin/groups`: named sets of users that integrations can be granted to (admins, audited)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from backend.audit.service import record_audit
from backend.deps import AdminUser, SessionDep
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.models.access import UserGroup, UserGroupMember
from backend.models.user import User
from backend.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/admin/groups", tags=["admin"])


class GroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class GroupOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    user_ids: list[uuid.UUID]
    created_at: datetime


async def _out(session: SessionDep, group: UserGroup) -> GroupOut:
    members = await session.scalars(select(UserGroupMember.user_id).where(UserGroupMember.group_id == group.id))
    return GroupOut(
        id=group.id,
        name=group.name,
        description=group.description,
        user_ids=sorted(members),
        created_at=group.created_at,
    )


async def _get(session: SessionDep, group_id: uuid.UUID) -> UserGroup:
    group = await session.get(UserGroup, group_id)
    if group is None:
        raise NotFound("Group not found")
    return group


async def _set_members(session: SessionDep, group: UserGroup, user_ids: list[uuid.UUID]) -> None:
    wanted = set(user_ids)
    if wanted:
        found = await session.scalar(select(func.count()).select_from(User).where(User.id.in_(wanted)))
        if int(found or 0) != len(wanted):
            raise ValidationFailed("Some user_ids do not exist", code="unknown_user")
    await session.execute(delete(UserGroupMember).where(UserGroupMember.group_id == group.id))
    session.add_all([UserGroupMember(group_id=group.id, user_id=u) for u in wanted])


async def _flush_named(session: SessionDep) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("A group with this name already exists", code="group_exists") from None


async def _name_taken(session: SessionDep, name: str, group_id: uuid.UUID | None = None) -> None:
    query = select(UserGroup.id).where(func.lower(UserGroup.name) == name.lower())
    if group_id is not None:
        query = query.where(UserGroup.id != group_id)
    if await session.scalar(query) is not None:
        raise Conflict("A group with this name already exists", code="group_exists")


@router.get("", response_model=Page[GroupOut])
async def list_groups(_: AdminUser, session: SessionDep, params: PageDep) -> Any:
    """Every group with its members, by name."""
    items, total = await paginate(session, select(UserGroup).order_by(UserGroup.name, UserGroup.id), params)
    return Page[GroupOut].build([await _out(session, g) for g in items], total, params)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=GroupOut)
async def create_group(body: GroupIn, admin: AdminUser, session: SessionDep) -> GroupOut:
    name = body.name.strip()
    await _name_taken(session, name)
    group = UserGroup(name=name, description=body.description)
    session.add(group)
    await _flush_named(session)
    await _set_members(session, group, body.user_ids)
    await session.flush()
    out = await _out(session, group)
    await record_audit(
        session,
        action="group.created",
        actor=admin,
        details={"group_id": str(group.id), "name": name, "user_ids": [str(u) for u in out.user_ids]},
    )
    return out


@router.get("/{group_id}", response_model=GroupOut)
async def get_group(group_id: uuid.UUID, _: AdminUser, session: SessionDep) -> GroupOut:
    return await _out(session, await _get(session, group_id))


@router.put("/{group_id}", response_model=GroupOut)
async def replace_group(group_id: uuid.UUID, body: GroupIn, admin: AdminUser, session: SessionDep) -> GroupOut:
    """Rename the group and replace its members (grants to the group follow its members)."""
    group = await _get(session, group_id)
    before = await _out(session, group)
    name = body.name.strip()
    await _name_taken(session, name, group.id)
    group.name, group.description = name, body.description
    await _set_members(session, group, body.user_ids)
    await _flush_named(session)
    out = await _out(session, group)
    await record_audit(
        session,
        action="group.updated",
        actor=admin,
        details={
            "group_id": str(group.id),
            "name": name,
            "added": sorted(str(u) for u in set(out.user_ids) - set(before.user_ids)),
            "removed": sorted(str(u) for u in set(before.user_ids) - set(out.user_ids)),
        },
    )
    return out


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(group_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> None:
    """Delete the group; its grants go with it."""
    group = await _get(session, group_id)
    await record_audit(
        session, action="group.deleted", actor=admin, details={"group_id": str(group.id), "name": group.name}
    )
    await session.delete(group)
    await session.flush()
