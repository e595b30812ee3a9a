"""The `emr` integration type: a FHIR R4 server (Epic, Cerner, generic), its connection test and tools."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from tools.base import (
    ConnectionTestResult,
    Connector,
    DemoSandbox,
    IntegrationContext,
    StepRecorder,
    ToolServices,
)
from tools.errors import ConnectorError
from tools.fhir.client import FhirClient
from tools.fhir.config import EmrConfig, EmrCredentials, check_combination
from tools.fhir.demo import FhirDemoSandbox
from tools.fhir.tools import build_aggregate_tool, build_emr_tools


def capability_details(statement: dict[str, Any]) -> dict[str, Any]:
    """FHIR version, software and the resource types the server supports."""
    software = statement.get("software") or {}
    rest: dict[str, Any] = next((r for r in statement.get("rest") or [] if r.get("mode") == "server"), {})
    return {
        "fhir_version": statement.get("fhirVersion"),
        "software": " ".join(str(x) for x in (software.get("name"), software.get("version")) if x) or None,
        "resources": sorted(str(r.get("type")) for r in rest.get("resource") or [] if r.get("type")),
    }


class EmrConnector(Connector):
    type_name = "emr"
    description = "An EMR over FHIR R4 (Epic, Cerner / Oracle Health, or any FHIR R4 server)."
    config_model = EmrConfig
    credentials_model = EmrCredentials

    def validate(
        self, config: dict[str, Any], credentials: dict[str, Any] | None
    ) -> tuple[BaseModel, BaseModel | None]:
        parsed_config, parsed_credentials = super().validate(config, credentials)
        assert isinstance(parsed_config, EmrConfig)
        check_combination(parsed_config, parsed_credentials if isinstance(parsed_credentials, EmrCredentials) else None)
        return parsed_config, parsed_credentials

    def outbound_urls(self, config: BaseModel) -> list[str]:
        assert isinstance(config, EmrConfig)
        return [config.base_url] + ([config.token_url] if config.token_url else [])

    async def test_connection(self, ctx: IntegrationContext) -> ConnectionTestResult:
        config = ctx.config
        assert isinstance(config, EmrConfig)
        credentials = ctx.credentials if isinstance(ctx.credentials, EmrCredentials) else None
        recorder = StepRecorder()
        fhir = FhirClient(config, credentials, outbound=ctx.outbound)
        try:
            with recorder.step("resolve") as step:
                addresses = await ctx.outbound.check_url(config.base_url)
                step.detail = f"{config.base_url} → {', '.join(str(a) for a in addresses)}"
            if config.auth in ("smart_backend", "client_credentials"):
                if config.token_url is None or config.auth == "smart_backend":
                    with recorder.step("SMART discovery") as step:
                        smart = await fhir.smart_configuration()
                        step.detail = f"token endpoint {fhir.token_url}"
                        recorder.details["token_endpoint"] = fhir.token_url
                        recorder.details["signing_algorithms"] = smart.get(
                            "token_endpoint_auth_signing_alg_values_supported"
                        )
                with recorder.step("authenticate") as step:
                    began = time.perf_counter()
                    fhir.forget_token()  # prove the credentials work now, not a cached token
                    await fhir.access_token()
                    step.detail = f"access token minted in {(time.perf_counter() - began) * 1000:.0f} ms"
            with recorder.step("capability statement") as step:
                details = capability_details(await fhir.capabilities())
                recorder.details.update(details)
                step.detail = (
                    f"FHIR {details['fhir_version'] or '?'} · {details['software'] or 'unknown software'} · "
                    f"{len(details['resources'])} resource types"
                )
                missing = {"Patient", "Observation"} - set(details["resources"])
                if missing:
                    step.ok = False
                    step.remediation = f"The server does not list {', '.join(sorted(missing))}; check the base URL."
            with recorder.step("sample search") as step:
                bundle = await fhir.get("Patient", {"family": "Test", "_count": "1"})
                total = bundle.get("total") if isinstance(bundle, dict) else None
                step.detail = "Patient search by family name answered" + (
                    f" ({total} found)" if total is not None else ""
                )
        except ConnectorError:
            pass  # the failed step carries the reason and the remediation
        finally:
            await fhir.close()
        return recorder.result()

    def build_tools(self, ctx: IntegrationContext, services: ToolServices) -> list[BaseTool]:
        return build_emr_tools(ctx, services)

    def build_shared_tools(self, contexts: Sequence[IntegrationContext], services: ToolServices) -> list[BaseTool]:
        return build_aggregate_tool(contexts, services)

    def demo_sandbox(self) -> DemoSandbox | None:
        return FhirDemoSandbox()


CONNECTOR = EmrConnector()
