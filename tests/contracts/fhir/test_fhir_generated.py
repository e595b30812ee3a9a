"""FHIR resources drawn from the R4 structure definitions, through the FHIR client and the summaries.

Each resource type the EMR tools read is drawn by `generate` (from `fhir.resources`' R4B models), put
in a searchset Bundle split over two pages, served on loopback, and read by `EmrReader` over HTTP.
No exception may escape, every resource comes back (none silently dropped), and the elements we
summarize read as the resource says. Examples per test are bounded (`FHIR_SCHEMA_EXAMPLES`, default 20).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.fhir.generate import resource
from tests.contracts.json_server import Answer, ScriptedServer, scripted_server
from tools.base import IntegrationContext
from tools.fhir.connector import CONNECTOR
from tools.fhir.reader import EmrReader, ObservationQuery
from tools.fhir.values import concept_text
from tools.net import OutboundPolicy

EXAMPLES = int(os.environ.get("FHIR_SCHEMA_EXAMPLES", "20"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as running:
        yield running


def reader(server: ScriptedServer) -> EmrReader:
    config, credentials = CONNECTOR.validate({"base_url": server.url + "/fhir", "vendor": "generic"}, None)
    ctx = IntegrationContext(
        id="emr-1",
        name="Generated EMR",
        integration_type="emr",
        config=config,
        credentials=credentials,
        outbound=OutboundPolicy.from_entries(["127.0.0.1/32"]),
    )
    return EmrReader(ctx)


def serve_pages(server: ScriptedServer, resource_type: str, resources: list[dict[str, Any]]) -> None:
    """A searchset of two pages; the second reached through a relative `next` link."""
    half = len(resources) // 2
    first = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources[:half]],
        "link": [{"relation": "next", "url": f"{resource_type}?page=2"}],
    }
    second = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources[half:]]}
    server.by_path = {
        f"/fhir/{resource_type}?page=2": Answer.json(second, content_type="application/fhir+json"),
        f"/fhir/{resource_type}": Answer.json(first, content_type="application/fhir+json"),
    }


def drawn(resource_type: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(resource(resource_type), min_size=1, max_size=4)


READS = {
    "Observation": lambda emr: emr.observations("p1", ObservationQuery()),
    "MedicationRequest": lambda emr: emr.medications("p1"),
    "AllergyIntolerance": lambda emr: emr.allergies("p1"),
    "Condition": lambda emr: emr.conditions("p1"),
    "Encounter": lambda emr: emr.encounters("p1"),
}


@pytest.mark.parametrize("resource_type", list(READS))
def test_every_generated_resource_is_read(server: ScriptedServer, resource_type: str) -> None:
    @SETTINGS
    @given(resources=drawn(resource_type))
    def check(resources: list[dict[str, Any]]) -> None:
        serve_pages(server, resource_type, resources)
        items = asyncio.run(READS[resource_type](reader(server)))
        assert len(items) == len(resources)  # none dropped for not fitting a strict model
        by_id = {i.id: i for i in items if i.id}
        for raw in resources:
            item = by_id.get(raw.get("id"))
            if item is None or len(by_id) != len(items):
                continue
            if resource_type == "Observation":
                assert item.display == (concept_text(raw.get("code")) or "(unnamed observation)")
                quantity = raw.get("valueQuantity") or {}
                if isinstance(quantity.get("value"), int | float) and not quantity.get("comparator"):
                    assert item.value is not None and float(item.value) == pytest.approx(quantity["value"], abs=0.01)
                if "valueBoolean" in raw:
                    assert item.value == str(raw["valueBoolean"]).lower()
            if resource_type == "AllergyIntolerance" and raw.get("criticality"):
                assert item.criticality == raw["criticality"]
            if "status" in raw and hasattr(item, "status"):
                assert item.status == raw["status"]

    check()


@SETTINGS
@given(patients=drawn("Patient"))
def test_every_generated_patient_is_found(server: ScriptedServer, patients: list[dict[str, Any]]) -> None:
    from tools.fhir.reader import PatientCriteria

    serve_pages(server, "Patient", patients)
    found = asyncio.run(reader(server).search_patients(PatientCriteria(name="anyone")))
    assert len(found) == len(patients)
    for summary, raw in zip(found, patients, strict=True):
        if raw.get("birthDate"):
            assert summary.birth_date == raw["birthDate"]
        if raw.get("gender"):
            assert summary.gender == raw["gender"]


@SETTINGS
@given(statements=drawn("MedicationStatement"))
def test_medication_statements_read_like_requests(server: ScriptedServer, statements: list[dict[str, Any]]) -> None:
    from tools.fhir.models import medication_item

    for raw in statements:
        item = medication_item(raw, "EMR")
        medication = raw.get("medicationCodeableConcept")
        if medication and concept_text(medication):
            assert item.medication == concept_text(medication)
        assert item.status == raw.get("status")
