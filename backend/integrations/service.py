"""Integration rules: who sees and changes what, validation, encryption, connection tests."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.errors import AppError, Forbidden, NotFound, ValidationFailed
from backend.models.integration import Integration
from backend.models.user import User
from tools.base import ConnectionTestResult, Connector, TestStep
from tools.errors import ConnectorError, ConnectorUnreachable
from tools.registry import UnknownIntegrationType, get_connector

from .access import visible_to
from .health import HealthTracker, tracker_of
from .runtime import check_outbound_targets, decrypt_credentials, integration_context
from .schemas import IntegrationCreate, IntegrationHealthOut, IntegrationOut, IntegrationUpdate

log = logging.getLogger("switchboard.integrations")


def to_out(integration: Integration, tracker: HealthTracker | None = None) -> IntegrationOut:
    """The API shape; with the app's tracker, `status` and `health` are live (this process's calls too)."""
    tracker = tracker or HealthTracker()
    return IntegrationOut(
        id=integration.id,
        name=integration.name,
        integration_type=integration.integration_type,
        visibility=integration.visibility,  # type: ignore[arg-type]
        owner_id=integration.owner_id,
        status=tracker.status_of(integration),
        health=IntegrationHealthOut.model_validate(tracker.merged(integration)),
        is_active=integration.is_active,
        description=integration.description,
        config=integration.config,
        has_credentials=bool(integration.credentials_encrypted),
        created_at=integration.created_at,
        updated_at=integration.updated_at,
        last_sync=integration.last_sync,
        last_test=integration.last_test,
    )


def connector_for(type_name: str) -> Connector:
    try:
        return get_connector(type_name)
    except UnknownIntegrationType:
        raise ValidationFailed(f"Unknown integration type {type_name!r}", code="unknown_integration_type") from None


async def get_visible(session: AsyncSession, user: User, integration_id: uuid.UUID) -> Integration:
    integration = await session.scalar(select(Integration).where(Integration.id == integration_id, visible_to(user)))
    if integration is None:
        raise NotFound("Integration not found")
    return integration


def ensure_can_modify(user: User, integration: Integration) -> None:
    if integration.visibility == "shared":
        if not user.is_admin:
            raise Forbidden("Only admins can change shared integrations")
    elif integration.owner_id != user.id:
        raise NotFound("Integration not found")


async def _validated(
    app: AppContext, connector: Connector, config: dict[str, Any], credentials: dict[str, Any] | None
) -> tuple[BaseModel, BaseModel | None]:
    try:
        parsed_config, parsed_credentials = connector.validate(config, credentials)
    except ValidationError as exc:
        errors = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        raise ValidationFailed(errors) from None
    except ConnectorError as exc:
        raise ValidationFailed(exc.message, code=exc.code) from None
    try:
        await check_outbound_targets(connector, parsed_config, app.outbound)
    except ConnectorUnreachable:
        pass  # an unresolvable host may be fine later (VPN, DNS); the connection test will say
    except ConnectorError as exc:
        raise AppError(exc.message, code=exc.code, status_code=422) from None
    return parsed_config, parsed_credentials


async def create(session: AsyncSession, app: AppContext, user: User, body: IntegrationCreate) -> Integration:
    if body.visibility == "shared" and not user.is_admin:
        raise Forbidden("Only admins can create shared integrations")
    connector = connector_for(body.integration_type)
    config, credentials = await _validated(app, connector, body.config, body.credentials)
    integration = Integration(
        owner_id=user.id,
        name=body.name.strip(),
        integration_type=connector.type_name,
        visibility=body.visibility,
        description=body.description,
        config=config.model_dump(mode="json"),
        credentials_encrypted=(
            app.cipher.encrypt(credentials.model_dump(mode="json")) if credentials is not None else None
        ),
    )
    session.add(integration)
    await session.flush()
    await record_audit(
        session,
        action="integration.created",
        actor=user,
        integration_id=integration.id,
        details={"type": integration.integration_type, "visibility": integration.visibility},
    )
    return integration


async def update(
    session: AsyncSession, app: AppContext, user: User, integration: Integration, body: IntegrationUpdate
) -> Integration:
    ensure_can_modify(user, integration)
    if body.visibility == "shared" and not user.is_admin:
        raise Forbidden("Only admins can share integrations")
    connector = connector_for(integration.integration_type)
    fields = body.model_fields_set
    if "config" in fields or "credentials" in fields:
        config_in = body.config if body.config is not None else integration.config
        credentials_in = body.credentials if body.credentials is not None else decrypt_credentials(integration, app)
        config, credentials = await _validated(app, connector, config_in, credentials_in)
        integration.config = config.model_dump(mode="json")
        if body.credentials is not None and credentials is not None:
            integration.credentials_encrypted = app.cipher.encrypt(credentials.model_dump(mode="json"))
        integration.status = "untested"
        # What earlier calls taught us was about the old settings.
        integration.health = None
        tracker_of(app).forget(str(integration.id))
    for name in ("name", "visibility", "description", "is_active"):
        value = getattr(body, name)
        if name in fields and value is not None:
            setattr(integration, name, value.strip() if isinstance(value, str) and name == "name" else value)
    integration.updated_at = datetime.now(UTC)
    await session.flush()
    await record_audit(
        session,
        action="integration.updated",
        actor=user,
        integration_id=integration.id,
        details={
            "fields": sorted(f for f in fields if f != "credentials")
            + (["credentials"] if "credentials" in fields else [])
        },
    )
    return integration


async def delete(session: AsyncSession, user: User, integration: Integration) -> None:
    ensure_can_modify(user, integration)
    await record_audit(
        session,
        action="integration.deleted",
        actor=user,
        integration_id=integration.id,
        details={"name": integration.name, "type": integration.integration_type},
    )
    await session.delete(integration)
    await session.flush()


async def run_connection_test(app: AppContext, integration: Integration) -> ConnectionTestResult:
    """The connector's step-by-step test; any failure becomes `ok: false`, never an exception."""
    try:
        return await get_connector(integration.integration_type).test_connection(integration_context(integration, app))
    except ConnectorError as exc:
        step = TestStep(name="configuration", ok=False, detail=exc.message, remediation=exc.remediation)
        return ConnectionTestResult(ok=False, latency_ms=0, steps=[step], error=exc.message, error_code=exc.code)
    except Exception:
        log.exception("connection test crashed for integration %s", integration.id)
        message = "The connection test failed unexpectedly; see the server log for details."
        return ConnectionTestResult(ok=False, latency_ms=0, error=message, error_code="internal_error")


async def test_connection(
    session: AsyncSession, app: AppContext, user: User, integration: Integration
) -> ConnectionTestResult:
    result = await run_connection_test(app, integration)
    now = datetime.now(UTC)
    integration.last_test = {**result.model_dump(mode="json"), "tested_at": now.isoformat()}
    integration.last_test_at = now
    # A test is one more call: it updates the live health, and the status derived from it.
    tracker = tracker_of(app)
    tracker.record(str(integration.id), result.ok, None if result.ok else f"{result.error_code}: {result.error}")
    if integration.status != "disabled":
        integration.status = tracker.status_of(integration)
    await record_audit(
        session,
        action="integration.tested",
        actor=user,
        integration_id=integration.id,
        outcome="success" if result.ok else "failure",
        details={"ok": result.ok, "latency_ms": result.latency_ms, "error_code": result.error_code},
    )
    await session.flush()
    return result
