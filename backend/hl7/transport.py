"""The HL7 engine's bridge to `tools.hl7`: inspecting messages and sending them to a destination."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from backend.context import AppContext
from backend.integrations.runtime import integration_context
from backend.models.integration import Integration
from tools.errors import ConnectorError, ConnectorTimeout
from tools.hl7.config import client_for
from tools.hl7.message import Inspection, explain_async, inspect_async
from tools.hl7.mllp import MllpClient


async def inspect_message(raw: str) -> Inspection:
    return await inspect_async(raw)


async def explain_message(raw: str) -> dict[str, Any]:
    return await explain_async(raw)


class DeliveryOutcome(BaseModel):
    delivered: bool
    final: bool  # no point retrying (AR/CR)
    ack_code: str | None = None
    raw_ack: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    timeout: bool = False
    negative: bool = False  # a matching AE/CE: the receiver read it and refused it (may be retried)


class Sender:
    """A persistent MLLP client for one destination integration (rebuilt when the record changes)."""

    def __init__(
        self, client: MllpClient, version_key: tuple[Any, ...], check: Any, *, min_interval_s: float = 0.0
    ) -> None:
        self.client = client
        self.version_key = version_key
        self.min_interval_s = min_interval_s
        self._check = check

    @classmethod
    def for_integration(cls, integration: Integration, app: AppContext) -> Sender:
        ctx = integration_context(integration, app)
        config: Any = ctx.config

        async def check() -> None:
            await ctx.outbound.check_host(config.host, config.port)  # DNS may have changed since saving

        return cls(
            client_for(ctx),
            (integration.updated_at, integration.is_active),
            check,
            min_interval_s=config.min_interval_ms / 1000,
        )

    def stale(self, integration: Integration) -> bool:
        return self.version_key != (integration.updated_at, integration.is_active)

    async def send(self, raw: str) -> DeliveryOutcome:
        try:
            await self._check()
            result = await self.client.send(raw)
        except ConnectorTimeout as exc:
            return DeliveryOutcome(delivered=False, final=False, error=exc.message, timeout=True)
        except ConnectorError as exc:
            return DeliveryOutcome(delivered=False, final=exc.code == "outbound_blocked", error=exc.message)
        return DeliveryOutcome(
            delivered=result.accepted,
            final=result.code in ("AR", "CR") and result.acked_control_id == result.control_id,
            ack_code=result.code,
            raw_ack=result.raw,
            error=result.error,
            latency_ms=result.latency_ms,
            negative=result.code in ("AE", "CE") and result.acked_control_id == result.control_id,
        )

    async def close(self) -> None:
        await self.client.close()
