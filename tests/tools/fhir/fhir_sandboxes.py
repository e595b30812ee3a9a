"""Test helpers: the two FHIR sandboxes on loopback and connector contexts pointing at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tools.base import DemoIntegration, IntegrationContext
from tools.fhir.connector import CONNECTOR
from tools.fhir.demo import FhirDemoSandbox
from tools.net import OutboundPolicy

LOOPBACK = OutboundPolicy.from_entries(["127.0.0.1/32"])


@dataclass
class Sandboxes:
    demo: FhirDemoSandbox
    specs: list[DemoIntegration]

    @property
    def epic_spec(self) -> DemoIntegration:
        return self.specs[0]

    @property
    def cerner_spec(self) -> DemoIntegration:
        return self.specs[1]

    def context(self, index: int, *, name: str | None = None, **config: Any) -> IntegrationContext:
        spec = self.specs[index]
        parsed, credentials = CONNECTOR.validate({**spec.config, **config}, spec.credentials)
        return IntegrationContext(
            id=f"emr-{index}",
            name=name or spec.name,
            integration_type="emr",
            config=parsed,
            credentials=credentials,
            outbound=LOOPBACK,
        )

    @property
    def contexts(self) -> list[IntegrationContext]:
        return [self.context(0), self.context(1)]


@asynccontextmanager
async def running_sandboxes(latency_ms: float = 0.0) -> AsyncIterator[Sandboxes]:
    demo = FhirDemoSandbox(latency_ms=latency_ms)
    specs = await demo.start()
    try:
        yield Sandboxes(demo, specs)
    finally:
        await demo.stop()
