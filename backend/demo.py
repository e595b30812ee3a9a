"""Demo mode: start the sandboxes the connectors ship and create shared integrations pointing at them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.models.hl7_channel import Hl7Channel
from backend.models.integration import Integration
from tools.base import DemoIntegration, DemoSandbox
from tools.net import OutboundPolicy
from tools.registry import connectors

log = logging.getLogger("switchboard.demo")


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
    for connector in connectors().values():
        sandbox = connector.demo_sandbox()
        if sandbox is None:
            continue
        env.integrations.extend(await sandbox.start())
        env.sandboxes.append(sandbox)
    app.outbound = app.outbound.merged(demo_allowlist(env.integrations))
    async with app.db.session() as session:
        for spec in env.integrations:
            await upsert_demo_integration(app, session, spec)
        await ensure_demo_channel(session)
    log.info("demo mode: %d sandbox(es), %d integration(s)", len(env.sandboxes), len(env.integrations))
    return env


DEMO_CHANNEL = "Demo ADT and ORU feed"


async def ensure_demo_channel(session: AsyncSession) -> None:
    """A channel so that a message sent without a destination (seed 000's SDK example) goes somewhere:
    ADT and ORU from the API to the demo HL7 receiver. Made once; an admin may change or delete it."""
    receiver = await session.scalar(
        select(Integration.id).where(Integration.is_demo.is_(True), Integration.name == "Demo HL7 receiver")
    )
    if receiver is None or await session.scalar(select(Hl7Channel.id).where(Hl7Channel.name == DEMO_CHANNEL)):
        return
    session.add(
        Hl7Channel(
            name=DEMO_CHANNEL,
            sources=["api"],
            filter={"message_types": ["ADT^*", "ORU^*"], "sending_applications": [], "sending_facilities": [],
                    "versions": []},
            destination_ids=[str(receiver)],
        )
    )  # fmt: skip


def demo_allowlist(integrations: list[DemoIntegration]) -> OutboundPolicy:
    """The sandboxes listen on loopback, which the outbound guard refuses: allow exactly their
    `host:port` endpoints — not all of loopback, where this machine's database and Redis listen too."""
    entries = []
    registry = connectors()
    for spec in integrations:
        connector = registry[spec.integration_type]
        config, _ = connector.validate(spec.config, spec.credentials)
        for target in connector.outbound_urls(config):
            parts = urlsplit(target if "://" in target else f"tcp://{target}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if parts.hostname:
                entries.append(f"{parts.hostname}:{port}")
    return OutboundPolicy.from_entries(entries)


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
