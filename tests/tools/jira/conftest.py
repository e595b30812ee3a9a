"""Jira fixtures: the sandbox on loopback, Cloud and Data Center flavours."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.tools.jira.jira_helpers import running_sandbox
from tools.jira.sandbox import JiraSandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[JiraSandbox]:
    async with running_sandbox("cloud") as server:
        yield server


@pytest.fixture
async def dc_sandbox() -> AsyncIterator[JiraSandbox]:
    async with running_sandbox("datacenter") as server:
        yield server
