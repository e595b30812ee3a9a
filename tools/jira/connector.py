"""The `jira` integration type: models, a step-by-step connection test, tools and the demo sandbox."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from langchain_core.tools import BaseTool
from pydantic import BaseModel

from tools.base import (
    ConnectionTestResult,
    Connector,
    DemoSandbox,
    IntegrationContext,
    StepRecorder,
    TestStep,
    ToolServices,
)
from tools.errors import (
    ConnectorConfigError,
    ConnectorError,
    ConnectorNotFound,
    ConnectorPermissionError,
    ConnectorProtocolError,
    ConnectorTimeout,
    ConnectorUnreachable,
)
from tools.jira.client import JiraClient
from tools.jira.config import JiraConfig, JiraCredentials, check_pair
from tools.jira.operations import deployment_of
from tools.jira.shapes import person
from tools.jira.tools import build_jira_tools
from tools.net import OutboundPolicy
from tools.pinning import open_pinned_connection

log = logging.getLogger("switchboard.tools.jira")

_NOT_JIRA_FIX = (
    "Use the address you open Jira at: https://<site>.atlassian.net for Cloud, or the Data Center base URL "
    "including its context path (e.g. https://jira.example.com/jira)."
)


class JiraConnector(Connector):
    type_name = "jira"
    description = "Jira Cloud or Data Center: search, read, create, comment on, move and assign issues."
    config_model = JiraConfig
    credentials_model = JiraCredentials

    def validate(
        self, config: dict[str, Any], credentials: dict[str, Any] | None
    ) -> tuple[BaseModel, BaseModel | None]:
        parsed_config, parsed_credentials = super().validate(config, credentials)
        assert isinstance(parsed_config, JiraConfig)
        assert parsed_credentials is None or isinstance(parsed_credentials, JiraCredentials)
        check_pair(parsed_config, parsed_credentials)
        return parsed_config, parsed_credentials

    def outbound_urls(self, config: BaseModel) -> list[str]:
        assert isinstance(config, JiraConfig)
        return [config.base_url]

    async def test_connection(self, ctx: IntegrationContext) -> ConnectionTestResult:
        recorder = StepRecorder()
        try:
            await _run_steps(ctx, recorder)
        except ConnectorError:
            pass  # the failed step carries the reason and the remediation
        except Exception as exc:  # a bug must still come back as a report, never as a 500
            log.exception("jira connection test crashed")
            recorder.steps.append(TestStep(name="unexpected error", ok=False, detail=str(exc)[:300]))
            recorder.error = ConnectorError("The connection test failed unexpectedly.")
        return recorder.result()

    def build_tools(self, ctx: IntegrationContext, services: ToolServices) -> list[BaseTool]:
        return build_jira_tools(ctx)

    def demo_sandbox(self) -> DemoSandbox | None:
        from tools.jira.sandbox import JiraSandbox  # FastAPI and uvicorn only when demo mode asks

        return JiraSandbox()


async def _run_steps(ctx: IntegrationContext, recorder: StepRecorder) -> None:
    config = ctx.config
    credentials = ctx.credentials
    assert isinstance(config, JiraConfig)
    assert credentials is None or isinstance(credentials, JiraCredentials)
    parts = urlsplit(config.base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)

    with recorder.step("resolve") as step:
        addresses = await ctx.outbound.check_host(host, port)
        step.detail = f"{host} → {', '.join(str(a) for a in addresses)}"
    with recorder.step("connect") as step:
        await _probe(ctx.outbound, host, port, config.timeout_s, tls=None)
        step.detail = f"TCP connection to {host}:{port}"
    with recorder.step("tls") as step:
        if parts.scheme == "https":
            step.detail = await _probe(ctx.outbound, host, port, config.timeout_s, tls=ssl.create_default_context())
        else:
            step.detail = "Not encrypted (http://): acceptable on loopback, not in production."
            step.remediation = "Use an https:// address for a real Jira site."
    with recorder.step("credentials"):
        check_pair(config, credentials)
    assert credentials is not None
    client = JiraClient(config, credentials, outbound=ctx.outbound)

    with recorder.step("server info") as step:
        started = time.perf_counter()
        try:
            info = await client.server_info()
        except (ConnectorNotFound, ConnectorProtocolError) as exc:
            raise ConnectorProtocolError(
                f"{config.base_url} does not look like a Jira site: {exc.message}", remediation=_NOT_JIRA_FIX
            ) from exc
        if not isinstance(info, dict) or not info.get("version"):
            raise ConnectorProtocolError(
                f"{config.base_url} answered serverInfo without a Jira version.", remediation=_NOT_JIRA_FIX
            )
        detected = deployment_of(info) or config.deployment  # optional in the schema: trust the config
        recorder.details.update(
            server_title=info.get("serverTitle"),
            version=info.get("version"),
            deployment=detected,
            server_latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        step.detail = f"{info.get('serverTitle') or 'Jira'} — Jira {detected} {info.get('version')}"
        if detected != config.deployment:
            raise ConnectorConfigError(
                f"This site is Jira {detected}, but the integration is set to {config.deployment}.",
                remediation=f"Set deployment to {detected} and use "
                + ("an email and API token." if detected == "cloud" else "a personal access token."),
            )
    with recorder.step("authenticate (myself)") as step:
        me = await client.myself()
        if me.get("active") is False:
            raise ConnectorPermissionError("The Jira account is deactivated.", remediation="Use an active account.")
        recorder.details.update(user=person(me), account_id=me.get("accountId") or me.get("name"))
        email = f" <{me['emailAddress']}>" if me.get("emailAddress") else ""
        step.detail = f"Signed in as {person(me)}{email}"
    with recorder.step("browse projects") as step:
        projects = await client.projects()
        keys = [str(p.get("key")) for p in projects]
        recorder.details["projects"] = len(keys)
        if not keys:
            raise ConnectorPermissionError(
                "The account can see no Jira projects.",
                remediation="Grant it the Browse Projects permission in at least one project.",
            )
        step.detail = f"{len(keys)} project(s): {', '.join(keys[:10])}" + (" …" if len(keys) > 10 else "")
    with recorder.step("create metadata") as step:
        project = config.default_project or keys[0]
        if config.default_project and config.default_project not in keys:
            raise ConnectorNotFound(
                f"The default project {config.default_project} does not exist or is not visible to this account.",
                remediation=f"Pick one of {', '.join(keys[:10])}, or leave default_project empty.",
            )
        types = [str(t.get("name")) for t in await client.create_meta_issue_types(project) if not t.get("subtask")]
        if not types:
            raise ConnectorPermissionError(
                f"The account cannot create issues in {project}.",
                remediation="Grant it the Create Issues permission there, or choose another default project.",
            )
        step.detail = f"Can create {', '.join(types)} in {project}"


async def _probe(
    outbound: OutboundPolicy, host: str, port: int, timeout_s: float, *, tls: ssl.SSLContext | None
) -> str:
    """Open (and close) a TCP or TLS connection to the checked address; describe the TLS session."""
    try:
        _, writer = await asyncio.wait_for(open_pinned_connection(outbound, host, port, tls=tls), timeout_s)
    except TimeoutError as exc:
        what = "TLS handshake" if tls else "TCP connection"
        raise ConnectorTimeout(
            f"The {what} to {host}:{port} did not complete within {timeout_s:g} s.",
            remediation="Check that the host is up and that a firewall is not dropping the traffic.",
        ) from exc
    except ssl.SSLError as exc:
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        raise ConnectorUnreachable(
            f"The TLS handshake with {host}:{port} failed: {reason}.",
            remediation="Check the scheme (http vs https) and that the certificate is valid for this host name "
            "and issued by a trusted authority.",
        ) from exc
    except OSError as exc:
        raise ConnectorUnreachable(
            f"Could not connect to {host}:{port}: {exc.strerror or exc}.",
            remediation="Check the address and port, and that the server accepts connections from here.",
        ) from exc
    description = ""
    if tls is not None:
        ssl_object = writer.get_extra_info("ssl_object")
        certificate = writer.get_extra_info("peercert") or {}
        protocol = ssl_object.version() if ssl_object else "TLS"
        description = f"{protocol}, certificate valid until {certificate.get('notAfter', '?')}"
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass  # the peer may hang up first; the probe already succeeded
    return description


CONNECTOR = JiraConnector()
