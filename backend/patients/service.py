"""Patient reads for the REST API: which EMR integrations a user may read, audit rows, error mapping."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.errors import AppError, NotFound
from backend.integrations.access import visible_to
from backend.integrations.runtime import integration_context
from backend.integrations.service import get_visible
from backend.models.integration import Integration
from backend.models.user import User
from tools.base import AuditRecord, IntegrationContext
from tools.errors import ConnectorError
from tools.fhir.reader import EmrReader

T = TypeVar("T")


def connector_failure(exc: ConnectorError) -> AppError:
    """A connector error as the contract's `{detail, code}` with the connector's HTTP status."""
    detail = exc.message + (f" {exc.remediation}" if exc.remediation else "")
    return AppError(detail, code=exc.code, status_code=exc.http_status)


def _context(integration: Integration, app: AppContext) -> IntegrationContext:
    try:
        return integration_context(integration, app)
    except ConnectorError as exc:
        raise connector_failure(exc) from None


async def emr_context(
    session: AsyncSession, app: AppContext, user: User, integration_id: uuid.UUID
) -> IntegrationContext:
    """The user's (or a shared) active EMR integration; 404 for anything else."""
    integration = await get_visible(session, user, integration_id)
    if integration.integration_type != "emr" or not integration.is_active:
        raise NotFound("EMR integration not found")
    return _context(integration, app)


async def all_emr_contexts(session: AsyncSession, app: AppContext, user: User) -> list[IntegrationContext]:
    rows = await session.scalars(
        select(Integration)
        .where(visible_to(user), Integration.integration_type == "emr", Integration.is_active.is_(True))
        .order_by(Integration.name, Integration.id)
    )
    return [_context(integration, app) for integration in rows]


class AuditTrail:
    """Collects the audit records of one request and writes them in their own transaction, so a
    failed read (whose request rolls back) still leaves its row."""

    def __init__(self, app: AppContext, user: User) -> None:
        self.app = app
        self.user = user
        self.records: list[AuditRecord] = []

    async def __call__(self, record: AuditRecord) -> None:
        self.records.append(record)

    async def flush(self) -> None:
        if not self.records:
            return
        async with self.app.db.session() as session:
            for record in self.records:
                await record_audit(
                    session,
                    action=record.action,
                    actor=self.user,
                    outcome=record.outcome,
                    integration_id=record.integration_id,
                    patient_id=record.patient_id,
                    resource_types=record.resource_types,
                    details=record.details,
                )
        self.records.clear()


async def audited(trail: AuditTrail, call: Awaitable[T]) -> T:
    """Await an EMR read, write its audit rows, and map connector errors to API errors."""
    try:
        return await call
    except ConnectorError as exc:
        raise connector_failure(exc) from None
    finally:
        await trail.flush()


def reader_for(ctx: IntegrationContext, trail: AuditTrail) -> EmrReader:
    return EmrReader(ctx, trail)
