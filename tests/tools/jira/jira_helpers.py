"""Helpers for the Jira tests: contexts pointing at the sandbox, signed in as Dana unless told otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tools.base import IntegrationContext
from tools.jira.connector import CONNECTOR
from tools.jira.sandbox import JiraSandbox
from tools.jira.sandbox_state import Flavour, JiraState
from tools.net import OutboundPolicy


def context(
    base_url: str,
    *,
    deployment: str = "cloud",
    credentials: dict[str, Any] | None = None,
    name: str = "Acme Jira",
    **config: Any,
) -> IntegrationContext:
    """A validated context for the sandbox (loopback allowed), signed in as Dana unless told otherwise."""
    if credentials is None:
        credentials = (
            {"email": "dana@example.com", "api_token": "demo-jira-token"}
            if deployment == "cloud"
            else {"personal_access_token": "demo-jira-pat"}
        )
    parsed_config, parsed_credentials = CONNECTOR.validate(
        {"base_url": base_url, "deployment": deployment, **config}, credentials
    )
    return IntegrationContext(
        id="int-jira",
        name=name,
        integration_type="jira",
        config=parsed_config,
        credentials=parsed_credentials,
        outbound=OutboundPolicy.from_entries(["127.0.0.1/32"]),
    )


@asynccontextmanager
async def running_sandbox(flavour: Flavour = "cloud") -> AsyncIterator[JiraSandbox]:
    """The sandbox on a loopback port for the duration of the block."""
    server = JiraSandbox(flavour)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def sandbox_state(server: JiraSandbox) -> JiraState:
    assert server.state is not None
    return server.state
