"""Demo mode: start the sandboxes the connectors ship and create shared integrations pointing at them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.models.integration import Integration
from tools.base import DemoIntegration, DemoSandbox
from tools.net import OutboundPolicy
from tools.registry import connectors

log = logging.getLogger("switchboard.demo")

# Demo sandboxes listen on loopback, which the outbound guard otherwise refuses.
DEMO_ALLOWLIST = OutboundPolicy.from_entries(["127.0.0.1/32", "localhost"])


@dataclass
class DemoEnvironment:
    sandboxes: list[DemoSandbox] = field(default_factory=list)
    integrations: list[DemoIntegration] = field(default_factory=list)

    async def stop(self) -> None:
        for sandbox in reversed(self.sandboxes):
            try:
                await sandbox.stop()
            except Exception:
                log.exception("stopping a demo sandbox failed")


async def start_demo(app: AppContext, extra: list[DemoIntegration] | None = None) -> DemoEnvironment:
    """Start every connector's sandbox and upsert its demo integrations (shared, owned by nobody)."""
    env = DemoEnvironment(integrations=list(extra or []))
    app.outbound = app.outbound.merged(DEMO_ALLOWLIST)
    for connector in connectors().values():
        sandbox = connector.demo_sandbox()
        if sandbox is None:
            continue
        env.integrations.extend(await sandbox.start())
        env.sandboxes.append(sandbox)
    async with app.db.session() as session:
        for spec in env.integrations:
            await upsert_demo_integration(app, session, spec)
    log.info("demo mode: %d sandbox(es), %d integration(s)", len(env.sandboxes), len(env.integrations))
    return env


async def upsert_demo_integration(app: AppContext, session: AsyncSession, spec: DemoIntegration) -> Integration:
    """Create the demo integration, or point the existing one at this run's sandbox port."""

    existing = await session.scalar(
        select(Integration).where(Integration.is_demo.is_(True), Integration.name == spec.name)
    )
    encrypted = app.cipher.encrypt(spec.credentials) if spec.credentials is not None else None
    if existing is None:
        existing = Integration(
            owner_id=None,
            name=spec.name,
            integration_type=spec.integration_type,
            visibility="shared",
            is_demo=True,
            description=spec.description or "Demo sandbox shipped with Switchboard",
        )
        session.add(existing)
    existing.config = spec.config
    existing.credentials_encrypted = encrypted
    existing.is_active = True
    await session.flush()
    return existing
