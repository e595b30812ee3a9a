"""The Jira connection test, step by step, for a healthy site and for each way it can go wrong."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.tools.jira.jira_helpers import context
from tools.base import ConnectionTestResult
from tools.jira.connector import CONNECTOR
from tools.jira.sandbox import JiraSandbox
from tools.net import OutboundPolicy
from tools.sandbox_server import free_port, serve_app

STEPS = ["resolve", "connect", "tls", "credentials", "server info", "authenticate (myself)", "browse projects"]


async def check(base_url: str, **kwargs: Any) -> ConnectionTestResult:
    return await CONNECTOR.test_connection(context(base_url, **kwargs))


def failed_step(result: ConnectionTestResult) -> tuple[str, str, str]:
    assert result.ok is False and result.error
    step = result.steps[-1]
    assert step.ok is False and step.remediation, step
    return step.name, step.detail, result.error_code or ""


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
async def test_healthy_site_reports_every_step(flavour: str, sandbox: JiraSandbox, dc_sandbox: JiraSandbox) -> None:
    server = sandbox if flavour == "cloud" else dc_sandbox
    result = await check(server.url, deployment=flavour, default_project="OPS")
    assert result.ok, result
    assert [s.name for s in result.steps] == [*STEPS, "create metadata"]
    assert all(s.ok for s in result.steps)
    assert result.details["server_title"] == "Switchboard Demo Jira"
    assert result.details["deployment"] == flavour
    assert result.details["version"] == ("1001.0.0-SNAPSHOT" if flavour == "cloud" else "9.12.2")
    assert result.details["user"] == "Dana Demo" and result.details["projects"] == 3
    assert result.steps[-1].detail == "Can create Task, Incident in OPS"
    assert result.latency_ms > 0 and result.details["server_latency_ms"] > 0


async def test_dns_failure() -> None:
    name, detail, code = failed_step(await check("https://no-such-host.invalid"))
    assert name == "resolve" and "could not be resolved" in detail and code == "integration_unreachable"


async def test_connection_refused() -> None:
    name, detail, code = failed_step(await check(f"http://127.0.0.1:{free_port()}"))
    assert name == "connect" and "Could not connect" in detail and code == "integration_unreachable"


async def test_tls_error_when_the_server_speaks_plain_http(sandbox: JiraSandbox) -> None:
    name, detail, code = failed_step(await check(sandbox.url.replace("http://", "https://")))
    assert name == "tls" and "TLS handshake" in detail and code == "integration_unreachable"


async def test_wrong_credentials_401(sandbox: JiraSandbox) -> None:
    result = await check(sandbox.url, credentials={"email": "dana@example.com", "api_token": "expired"})
    name, detail, code = failed_step(result)
    assert name == "authenticate (myself)" and "(401)" in detail and code == "integration_auth_failed"
    assert "id.atlassian.com" in (result.steps[-1].remediation or "")


async def test_no_product_access_403(sandbox: JiraSandbox) -> None:
    result = await check(sandbox.url, credentials={"email": "guest@example.com", "api_token": "guest-jira-token"})
    name, detail, code = failed_step(result)
    assert name == "authenticate (myself)" and "(403)" in detail and code == "integration_forbidden"


async def test_account_that_sees_no_project(sandbox: JiraSandbox) -> None:
    result = await check(sandbox.url, credentials={"email": "nora@example.com", "api_token": "nora-jira-token"})
    name, detail, code = failed_step(result)
    assert name == "browse projects" and "no Jira projects" in detail and code == "integration_forbidden"


async def test_unknown_default_project(sandbox: JiraSandbox) -> None:
    name, detail, code = failed_step(await check(sandbox.url, default_project="ZZZ"))
    assert name == "create metadata" and "ZZZ" in detail and code == "not_found"


async def test_wrong_path_is_not_a_jira_404(sandbox: JiraSandbox) -> None:
    result = await check(sandbox.url + "/wiki")
    name, detail, code = failed_step(result)
    assert name == "server info" and "does not look like a Jira site" in detail and "(404)" in detail
    assert code == "integration_protocol_error"


@pytest.fixture
async def web_page() -> AsyncIterator[str]:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><body>Welcome to our intranet</body></html>")

    app = Starlette(routes=[Route("/{path:path}", page)])
    async with serve_app(app) as url:
        yield url


async def test_a_web_page_that_is_not_jira(web_page: str) -> None:
    name, detail, code = failed_step(await check(web_page))
    assert name == "server info" and "not Jira's JSON" in detail and code == "integration_protocol_error"


async def test_deployment_mismatch_is_detected(sandbox: JiraSandbox) -> None:
    result = await check(sandbox.url, deployment="datacenter")
    name, detail, code = failed_step(result)
    assert name == "server info" and "This site is Jira cloud" in detail and code == "integration_misconfigured"
    assert result.details["deployment"] == "cloud"


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


async def test_timeout_when_nothing_answers(silent_port: int) -> None:
    result = await check(f"http://127.0.0.1:{silent_port}", timeout_s=0.5)
    name, detail, code = failed_step(result)
    assert name == "server info" and "within 0.5 s" in detail and code == "integration_timeout"
    assert [s.ok for s in result.steps[:3]] == [True, True, True]


async def test_blocked_by_the_outbound_guard(sandbox: JiraSandbox) -> None:
    ctx = context(sandbox.url)
    result = await CONNECTOR.test_connection(replace(ctx, outbound=OutboundPolicy()))
    name, detail, code = failed_step(result)
    assert name == "resolve" and code == "outbound_blocked" and "private, loopback" in detail
    assert "OUTBOUND_ALLOWLIST" in (result.steps[0].remediation or "")
