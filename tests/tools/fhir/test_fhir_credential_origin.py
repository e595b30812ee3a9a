"""The integration's credentials go to its own origin only, whatever `link[next]` names (finding 8)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tools.fhir.client import FhirClient
from tools.fhir.config import EmrConfig, EmrCredentials
from tools.net import OutboundPolicy
from tools.sandbox_server import serve_app


class RecordingFhirServer:
    """Answers Patient searches; page 1 links to its own page 2, page 2 to `then` (another server)."""

    def __init__(self, name: str, then: str | None = None) -> None:
        self.name, self.then = name, then
        self.authorizations: list[str | None] = []
        self.app = Starlette(routes=[Route("/fhir/Patient", self.patients)])

    async def patients(self, request: Request) -> JSONResponse:
        self.authorizations.append(request.headers.get("authorization"))
        page = request.query_params.get("page", "1")
        next_url = {"1": f"{str(request.base_url).rstrip('/')}/fhir/Patient?page=2", "2": self.then}.get(page)
        body: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "link": [{"relation": "next", "url": next_url}] if next_url and self.then else [],
            "entry": [{"resource": {"resourceType": "Patient", "id": f"{self.name}-{page}"}}],
        }
        return JSONResponse(body, media_type="application/fhir+json")


@pytest.mark.parametrize(
    ("auth", "credentials"),
    [("bearer", {"token": "integration-token-123"}), ("basic", {"password": "integration-pass"})],
)
async def test_next_link_to_another_origin_never_gets_the_authorization(auth: str, credentials: dict[str, str]) -> None:
    foreign = RecordingFhirServer("foreign")
    async with serve_app(foreign.app) as foreign_url:
        home = RecordingFhirServer("home", then=f"{foreign_url}/fhir/Patient?page=9")
        async with serve_app(home.app) as home_url:
            config = EmrConfig(base_url=f"{home_url}/fhir", auth=auth, username="svc")  # type: ignore[arg-type]
            outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
            async with FhirClient(config, EmrCredentials(**credentials), outbound=outbound) as fhir:
                found = await fhir.search("Patient", {})
    assert [p["id"] for p in found] == ["home-1", "home-2", "foreign-9"]
    assert all(home.authorizations) and len(home.authorizations) == 2, "the integration's own origin gets them"
    assert foreign.authorizations == [None], "another origin (here: another port) never does"
