"""Patient API fixtures: both FHIR sandboxes, and alice's EMR integrations pointing at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import TestUser
from tests.tools.fhir.fhir_sandboxes import LOOPBACK, Sandboxes, running_sandboxes


@pytest.fixture
async def sandboxes() -> AsyncIterator[Sandboxes]:
    async with running_sandboxes() as running:
        yield running


@pytest.fixture
async def emrs(app: Any, client: httpx.AsyncClient, alice: TestUser, sandboxes: Sandboxes) -> dict[str, str]:
    """alice's two EMR integrations (Epic over SMART backend services, Cerner open): name -> id."""
    app.state.ctx.outbound = LOOPBACK
    ids = {}
    for spec in sandboxes.specs:
        body = {"name": spec.name, "integration_type": "emr", "config": spec.config, "credentials": spec.credentials}
        response = await client.post("/api/v1/integrations", headers=alice.headers, json=body)
        assert response.status_code == 201, response.text
        ids[spec.name] = response.json()["id"]
    return ids
