"""The `hl7` integration type: an HL7 v2 system reached over MLLP, its connection test and tools."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

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
from tools.hl7.message import explain_async, inspect_async
from tools.hl7.mllp import MllpClient, MllpListener
from tools.tooling import make_tool

Hl7Version = Literal["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"]


class Hl7Config(BaseModel):
    host: str = Field(min_length=1, max_length=253, description="Host of the receiving MLLP endpoint")
    port: int = Field(ge=1, le=65535, description="MLLP port (2575 is customary)")
    tls: bool = Field(default=False, description="Wrap the MLLP connection in TLS")
    sending_application: str = Field(default="SWITCHBOARD", max_length=180)
    sending_facility: str = Field(default="SWITCHBOARD", max_length=180)
    receiving_application: str = Field(default="", max_length=180)
    receiving_facility: str = Field(default="", max_length=180)
    version: Hl7Version = "2.5.1"
    timeout_s: float = Field(default=10.0, ge=0.5, le=120, description="Connect and ACK timeout in seconds")


class Hl7Credentials(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "Only needed for TLS with a private CA."})

    tls_ca_pem: str | None = Field(
        default=None, max_length=20_000, json_schema_extra={"writeOnly": True, "format": "password"}
    )


class MessageArgs(BaseModel):
    message: str = Field(min_length=8, max_length=200_000, description="The HL7 v2 message, segments on lines")


def test_message(config: Hl7Config) -> str:
    """A QRY^A19 patient query: harmless for the receiver, and it must answer with an ACK."""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    control = f"SBTEST{now}"
    return "\r".join(
        [
            f"MSH|^~\\&|{config.sending_application}|{config.sending_facility}|{config.receiving_application}|"
            f"{config.receiving_facility}|{now}||QRY^A19|{control}|P|{config.version}",
            f"QRD|{now}|R|I|{control}|||1^RD|SWITCHBOARD-CONNECTION-TEST|DEM",
        ]
    )


def client_for(ctx: IntegrationContext) -> MllpClient:
    config = ctx.config
    assert isinstance(config, Hl7Config)
    tls = None
    if config.tls:
        credentials = ctx.credentials if isinstance(ctx.credentials, Hl7Credentials) else None
        tls = ssl.create_default_context(
            cadata=credentials.tls_ca_pem if credentials and credentials.tls_ca_pem else None
        )
    return MllpClient(config.host, config.port, timeout_s=config.timeout_s, tls=tls)


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
        async def send(message: str) -> dict[str, Any]:
            if services.hl7_store is not None:
                return await services.hl7_store.send(ctx.id, message)
            inspection = await inspect_async(message)
            if inspection.errors:
                return {"sent": False, "problems": inspection.errors}
            client = client_for(ctx)
            try:
                await ctx.outbound.check_host(ctx.config.host, ctx.config.port)  # type: ignore[attr-defined]
                result = await client.send(inspection.normalized)
            finally:
                await client.close()
            return {"sent": True, "destination": ctx.name, **result.model_dump(exclude={"raw"})}

        return [
            make_tool(
                send,
                operation="hl7.send",
                args_schema=MessageArgs,
                access="write",
                phi=True,
                description="Send an HL7 v2 message over MLLP and report the ACK.",
                integration_id=ctx.id,
                integration_name=ctx.name,
                integration_type="hl7",
            ),
        ]

    def build_shared_tools(self, contexts: Sequence[IntegrationContext], services: ToolServices) -> list[BaseTool]:
        async def explain(message: str) -> dict[str, Any]:
            return await explain_async(message)

        async def validate(message: str) -> dict[str, Any]:
            inspection = await inspect_async(message)
            return {
                "valid": not inspection.errors,
                "summary": inspection.summary.model_dump(exclude_none=True),
                "problems": [p.model_dump() for p in inspection.problems],
            }

        return [
            make_tool(
                explain,
                operation="hl7.explain",
                name="hl7_explain",
                args_schema=MessageArgs,
                access="read",
                phi=True,
                description="Explain an HL7 v2 message: every segment and field with its name.",
            ),
            make_tool(
                validate,
                operation="hl7.validate",
                name="hl7_validate",
                args_schema=MessageArgs,
                access="read",
                phi=True,
                description="Validate an HL7 v2 message and list problems with their locations.",
            ),
        ]

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
