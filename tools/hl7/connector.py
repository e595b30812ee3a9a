"""The `hl7` integration type: an HL7 v2 system reached over MLLP, its connection test and tools."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from tools.base import (
    ConnectionTestResult,
    Connector,
    DemoIntegration,
    DemoSandbox,
    IntegrationContext,
    StepRecorder,
    ToolServices,
)
from tools.errors import ConnectorError, ConnectorProtocolError
from tools.hl7.config import Hl7Config, Hl7Credentials, client_for, test_message
from tools.hl7.mllp import MllpListener
from tools.hl7.tools import send_tool, shared_tools

__all__ = ["CONNECTOR", "Hl7Config", "Hl7Connector", "Hl7Credentials", "client_for", "test_message"]


class Hl7Connector(Connector):
    type_name = "hl7"
    description = "An HL7 v2 system (interface engine, LIS, RIS, EMR) reached over MLLP/TCP."
    config_model = Hl7Config
    credentials_model = Hl7Credentials

    def outbound_urls(self, config: BaseModel) -> list[str]:
        assert isinstance(config, Hl7Config)
        host = f"[{config.host}]" if ":" in config.host else config.host  # IPv6 literals need brackets
        return [f"mllp://{host}:{config.port}"]

    async def test_connection(self, ctx: IntegrationContext) -> ConnectionTestResult:
        config = ctx.config
        assert isinstance(config, Hl7Config)
        recorder = StepRecorder()
        client = client_for(ctx)
        try:
            with recorder.step("resolve") as step:
                addresses = await ctx.outbound.check_host(config.host, config.port)
                step.detail = f"{config.host} → {', '.join(str(a) for a in addresses)}"
            with recorder.step("connect") as step:
                await client._connect()
                step.detail = f"TCP connection to {config.host}:{config.port}" + (" with TLS" if config.tls else "")
            with recorder.step("send test message") as step:
                result = await client.send(test_message(config))
                step.detail = f"QRY^A19 sent; ACK {result.code} ({result.meaning}) in {result.latency_ms:.0f} ms"
            with recorder.step("acknowledgement") as step:
                recorder.details.update(ack_code=result.code, ack_latency_ms=result.latency_ms)
                if result.acked_control_id != result.control_id:
                    raise ConnectorProtocolError(
                        result.error or "The ACK does not answer our message.",
                        remediation="Check that the port belongs to an HL7 receiver.",
                    )
                step.detail = f"{result.code}: {result.meaning}" + (f" — {result.error}" if result.error else "")
                if result.code in ("AR", "CR"):
                    step.ok = False
                    step.remediation = "The receiver rejected the test query; check MSH-5/6 and the version."
        except ConnectorError:
            pass  # the failed step is recorded with its reason and remediation
        finally:
            await client.close()
        return recorder.result()

    def build_tools(self, ctx: IntegrationContext, services: ToolServices) -> list[BaseTool]:
        return [send_tool(ctx, services)]

    def build_shared_tools(self, contexts: Sequence[IntegrationContext], services: ToolServices) -> list[BaseTool]:
        return shared_tools(contexts, services)

    def demo_sandbox(self) -> DemoSandbox | None:
        return Hl7ReceiverSandbox()


class Hl7ReceiverSandbox:
    """An ACKing HL7 receiver on loopback, for the demo and the tests."""

    def __init__(self) -> None:
        self.listener = MllpListener()

    async def start(self) -> list[DemoIntegration]:
        port = await self.listener.start()
        return [
            DemoIntegration(
                name="Demo HL7 receiver",
                integration_type="hl7",
                config={
                    "host": "127.0.0.1",
                    "port": port,
                    "receiving_application": "DEMO_LIS",
                    "receiving_facility": "DEMO_LAB",
                },
                credentials=None,
                description="A loopback MLLP receiver that ACKs valid messages (AA) and "
                "answers AE with the problems for invalid ones.",
            )
        ]

    async def stop(self) -> None:
        await self.listener.stop()


CONNECTOR = Hl7Connector()
