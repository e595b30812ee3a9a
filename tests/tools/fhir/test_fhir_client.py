"""The FHIR client against the sandbox over HTTP: every read, paging, retries, OperationOutcome errors."""

from __future__ import annotations

import pytest

from tests.tools.fhir.fhir_sandboxes import Sandboxes
from tools.base import AuditRecord
from tools.errors import ConnectorBadRequest, ConnectorNotFound, ConnectorRateLimited, ConnectorUnreachable
from tools.fhir.client import FhirClient
from tools.fhir.config import EmrConfig, EmrCredentials
from tools.fhir.reader import EmrReader, ObservationQuery, PatientCriteria
from tools.sandbox_server import free_port


def _client(sandboxes: Sandboxes, index: int = 1, **config: object) -> FhirClient:
    ctx = sandboxes.context(index, **config)
    assert isinstance(ctx.config, EmrConfig)
    credentials = ctx.credentials if isinstance(ctx.credentials, EmrCredentials) else None
    return FhirClient(ctx.config, credentials, outbound=ctx.outbound)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"name": "quimby"}, {"Harold Quimby", "Edith Quimby"}),
        ({"family": "Quimby", "given": "Edith"}, {"Edith Quimby"}),
        ({"birthdate": "1958-03-14"}, {"Harold Quimby"}),
        ({"family": "Quimby", "gender": "female"}, {"Edith Quimby"}),
        ({"identifier": "E1004"}, {"Odalys Fenwick"}),
        ({"identifier": "urn:oid:2.16.840.1.113883.3.9999.1|900005"}, {"Priya Lindqvist"}),
        ({"name": "Nobody Atall"}, set()),
    ],
)
async def test_patient_search_parameters(sandboxes: Sandboxes, criteria: dict[str, str], expected: set[str]) -> None:
    reader = EmrReader(sandboxes.context(0))
    found = await reader.search_patients(PatientCriteria(**criteria))
    assert {p.name for p in found} == expected
    assert all(p.source == "Epic sandbox" for p in found)


async def test_read_patient_and_every_clinical_resource(sandboxes: Sandboxes) -> None:
    audits: list[AuditRecord] = []

    async def sink(record: AuditRecord) -> None:
        audits.append(record)

    reader = EmrReader(sandboxes.context(0), sink)
    harold = await reader.patient("eHQ1001")
    assert (harold.name, harold.birth_date, harold.gender) == ("Harold Quimby", "1958-03-14", "male")
    assert {i.value for i in harold.identifiers} == {"E1001", "900001"}

    vitals = await reader.observations("eHQ1001", ObservationQuery(category="vital-signs", latest_only=True))
    latest = {o.display: (o.value, o.unit, o.effective) for o in vitals}
    assert latest["Heart rate"] == ("76", "/min", "2025-06-01T09:30:00Z")
    assert latest["Blood pressure panel"] == ("139/86", "mm[Hg]", "2025-06-01T09:30:00Z")
    assert len(vitals) == 6

    all_vitals = await reader.observations("eHQ1001", ObservationQuery(category="vital-signs"))
    assert len(all_vitals) == 36 and all_vitals[0].effective >= all_vitals[-1].effective  # type: ignore[operator]

    glucose = await reader.observations("eHQ1001", ObservationQuery(category="laboratory", code="2345-7"))
    assert (glucose[0].value, glucose[0].unit, str(glucose[0].effective)[:10]) == ("150", "mg/dL", "2025-05-25")
    assert len(glucose) == 4
    spring = await reader.observations(
        "eHQ1001", ObservationQuery(category="laboratory", code="2345-7", since="2025-01-15", until="2025-04-30")
    )
    assert sorted(o.effective[:10] for o in spring) == ["2025-02-01", "2025-04-02"]  # type: ignore[index]

    medications = await reader.medications("eHQ1001")
    assert {(m.medication, m.dosage) for m in medications} == {
        ("Lisinopril 10 MG Oral Tablet", "1 tablet by mouth daily"),
        ("Metformin hydrochloride 500 MG Oral Tablet", "1 tablet by mouth twice daily"),
    }
    allergies = await reader.allergies("eHQ1001")
    assert [(a.substance, a.criticality, a.reactions) for a in allergies] == [("Penicillin G", "high", ["Hives"])]
    conditions = await reader.conditions("eHQ1001")
    assert {c.condition for c in conditions} == {"Essential hypertension", "Type 2 diabetes mellitus"}
    encounters = await reader.encounters("eHQ1001")
    assert len(encounters) == 6 and encounters[0].encounter_class == "ambulatory"

    assert [a.action for a in audits] == [
        "emr.patient_read",
        "emr.observations",
        "emr.observations",
        "emr.observations",
        "emr.observations",
        "emr.medications",
        "emr.allergies",
        "emr.conditions",
        "emr.encounters",
    ]
    assert all(a.patient_id == "eHQ1001" and a.outcome == "success" for a in audits)
    assert audits[-2].resource_types == ("Condition",) and audits[-2].integration_id == "emr-0"


async def test_paging_follows_next_links_up_to_the_cap(sandboxes: Sandboxes) -> None:
    params = {"patient": "12740004", "category": "vital-signs", "_count": "5"}
    async with _client(sandboxes) as fhir:
        everything = await fhir.search("Observation", params)
    assert len(everything) == 36 and len({o["id"] for o in everything}) == 36  # 8 pages of 5
    requests_before = sandboxes.demo.cerner.requests
    async with _client(sandboxes, max_pages=2) as fhir:
        capped = await fhir.search("Observation", params)
    assert [o["id"] for o in capped] == [o["id"] for o in everything[:10]]
    assert sandboxes.demo.cerner.requests - requests_before == 2


async def test_operation_outcomes_become_clear_errors(sandboxes: Sandboxes) -> None:
    reader = EmrReader(sandboxes.context(1))
    with pytest.raises(ConnectorNotFound, match="Patient/nobody is not known"):
        await reader.patient("nobody")
    async with _client(sandboxes) as fhir:
        with pytest.raises(ConnectorBadRequest, match="Unknown gender 'robot'"):
            await fhir.search("Patient", {"gender": "robot"})
        with pytest.raises(ConnectorBadRequest, match="Unknown search parameter"):
            await fhir.search("Patient", {"shoe-size": "9"})
        with pytest.raises(ConnectorNotFound, match="not supported"):
            await fhir.search("Spaceship", {})
    with pytest.raises(ConnectorBadRequest, match="at least one search criterion"):
        await reader.search_patients(PatientCriteria())


async def test_bounded_retries_on_429_and_503(sandboxes: Sandboxes) -> None:
    sandboxes.demo.cerner.fail_next(429, 2)
    async with _client(sandboxes) as fhir:
        assert (await fhir.read("Patient", "12740001"))["id"] == "12740001"
    sandboxes.demo.cerner.fail_next(503, 3)
    async with _client(sandboxes) as fhir:
        with pytest.raises(ConnectorRateLimited):
            await fhir.read("Patient", "12740001")


async def test_unreachable_server_and_outbound_guard(sandboxes: Sandboxes) -> None:
    async with _client(sandboxes, base_url=f"http://127.0.0.1:{free_port()}") as fhir:
        with pytest.raises(ConnectorUnreachable):
            await fhir.capabilities()
    spec = sandboxes.cerner_spec
    closed = FhirClient(EmrConfig.model_validate(spec.config), None, outbound=sandboxes.context(1).outbound.__class__())
    async with closed as fhir:
        with pytest.raises(Exception, match="private, loopback or link-local"):
            await fhir.capabilities()
