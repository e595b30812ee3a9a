"""`/api/v1/integrations`: types, CRUD and connection tests."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from backend.deps import ContextDep, CurrentUser, SessionDep
from backend.models.integration import Integration
from backend.pagination import Page, PageDep, paginate
from backend.platform.sources import integration_changed
from tools.registry import connectors

from . import service
from .access import visible_to
from .health import tracker_of
from .schemas import (
    IntegrationCreate,
    IntegrationOut,
    IntegrationReplace,
    IntegrationType,
    IntegrationUpdate,
    TestResultOut,
)

router = APIRouter(prefix="/integrations", tags=["integrations"])


@router.get("/types", response_model=list[IntegrationType])
async def list_types(_: CurrentUser) -> list[IntegrationType]:
    """Every integration type with the JSON schemas of its config and credentials (for forms)."""
    return [
        IntegrationType(
            name=c.type_name,
            description=c.description,
            config_schema=c.config_model.model_json_schema(),
            credentials_schema=c.credentials_model.model_json_schema(),
        )
        for c in connectors().values()
    ]


@router.get("", response_model=Page[IntegrationOut])
async def list_integrations(
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    params: PageDep,
    integration_type: Annotated[str | None, Query(max_length=32)] = None,
) -> Any:
    """The caller's integrations and the shared ones."""
    query = select(Integration).where(visible_to(user)).order_by(Integration.name, Integration.id)
    if integration_type:
        query = query.where(Integration.integration_type == integration_type)
    items, total = await paginate(session, query, params)
    return Page[IntegrationOut].build([service.to_out(i, tracker_of(ctx)) for i in items], total, params)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IntegrationOut)
async def create_integration(
    body: IntegrationCreate, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> IntegrationOut:
    """Create an integration; credentials are encrypted and never returned."""
    integration = await service.create(session, ctx, user, body)
    await integration_changed(ctx, session, "created", integration)
    return service.to_out(integration, tracker_of(ctx))


@router.get("/{integration_id}", response_model=IntegrationOut)
async def get_integration(
    integration_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> IntegrationOut:
    return service.to_out(await service.get_visible(session, user, integration_id), tracker_of(ctx))


@router.put("/{integration_id}", response_model=IntegrationOut)
async def replace_integration(
    integration_id: uuid.UUID,
    body: IntegrationReplace,
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
) -> IntegrationOut:
    """Replace name and config (credentials omitted = keep the stored ones)."""
    integration = await service.get_visible(session, user, integration_id)
    previous_status = integration.status
    await service.update(session, ctx, user, integration, body)
    await integration_changed(ctx, session, "updated", integration, previous_status=previous_status)
    return service.to_out(integration, tracker_of(ctx))


@router.patch("/{integration_id}", response_model=IntegrationOut)
async def patch_integration(
    integration_id: uuid.UUID,
    body: IntegrationUpdate,
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
) -> IntegrationOut:
    """Change some fields."""
    integration = await service.get_visible(session, user, integration_id)
    previous_status = integration.status
    await service.update(session, ctx, user, integration, body)
    await integration_changed(ctx, session, "updated", integration, previous_status=previous_status)
    return service.to_out(integration, tracker_of(ctx))


@router.delete("/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_integration(
    integration_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep
) -> None:
    integration = await service.get_visible(session, user, integration_id)
    await service.delete(session, user, integration)
    await integration_changed(ctx, session, "deleted", integration)


@router.post("/{integration_id}/test", response_model=TestResultOut)
async def test_integration(integration_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Any:
    """Check the connection step by step. An unreachable system is `ok: false`, never an error status."""
    integration = await service.get_visible(session, user, integration_id)
    previous_status = integration.status
    result = await service.test_connection(session, ctx, user, integration)
    summary = {"ok": result.ok, "latency_ms": result.latency_ms, "error": result.error}
    await integration_changed(ctx, session, "tested", integration, previous_status=previous_status, result=summary)
    return result
