"""FHIR fixtures: both sandboxes running on loopback for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.tools.fhir.fhir_sandboxes import Sandboxes, running_sandboxes


@pytest.fixture
async def sandboxes() -> AsyncIterator[Sandboxes]:
    async with running_sandboxes() as running:
        yield running
