"""Aggregation across the two sandboxes: identifier and demographic matches, duplicates, conflicts,
a source that is down, concurrency, ambiguity; plus the pure matching rules."""

from __future__ import annotations

import time

from tests.tools.fhir.fhir_sandboxes import Sandboxes, running_sandboxes
from tools.base import AuditRecord
from tools.fhir.aggregate import aggregate_patient
from tools.fhir.matching import demographic_score, match
from tools.fhir.models import Identifier, PatientSummary
from tools.fhir.reader import PatientCriteria


def _by(items: list[dict[str, object]], field: str) -> dict[object, list[dict[str, object]]]:
    grouped: dict[object, list[dict[str, object]]] = {}
    for item in items:
        grouped.setdefault(item[field], []).append(item)
    return grouped


async def test_identifier_match_merges_collapses_duplicates_and_shows_conflicts(sandboxes: Sandboxes) -> None:
    audits: list[AuditRecord] = []

    async def sink(record: AuditRecord) -> None:
        audits.append(record)

    result = await aggregate_patient(
        sandboxes.contexts, search=PatientCriteria(name="Harold Quimby", birthdate="1958-03-14"), audit=sink
    )
    assert result.status == "merged" and not result.failed_sources
    assert [(m.source, m.method, m.confidence, m.merged) for m in result.matches] == [
        ("Epic sandbox", "anchor", 1.0, True),
        ("Cerner sandbox", "identifier", 1.0, True),
    ]
    observations = _by(result.observations, "display")
    assert observations["Heart rate"] == [
        {**observations["Heart rate"][0], "value": "76", "sources": ["Epic sandbox", "Cerner sandbox"]}
    ]
    weights = {(o["value"], o["source"]) for o in observations["Body weight"]}
    assert weights == {("93", "Epic sandbox"), ("93.4", "Cerner sandbox")}
    allergies = {a["substance"]: a["sources"] for a in result.allergies}
    assert allergies == {"Penicillin G": ["Epic sandbox", "Cerner sandbox"], "Latex": ["Cerner sandbox"]}
    conflicts = {(c["kind"], c["subject"]) for c in result.conflicts}
    assert ("allergy", "Latex") in conflicts
    assert ("observation", "Body weight on 2025-06-01") in conflicts
    assert ("medication", "Atorvastatin 20 MG Oral Tablet") not in conflicts  # a med list difference is data
    assert {m["medication"] for m in result.medications} >= {"Atorvastatin 20 MG Oral Tablet"}
    assert {(i["value"], i["source"]) for i in result.patient["identifiers"]} >= {
        ("E1001", "Epic sandbox"),
        ("C77001", "Cerner sandbox"),
    }
    actions = [(a.action, a.integration_id, a.patient_id) for a in audits]
    assert ("emr.patient_search", "emr-0", None) in actions and ("emr.allergies", "emr-1", "12740001") in actions
    assert all(a.outcome == "success" for a in audits)


async def test_demographic_match_and_a_low_confidence_offer(sandboxes: Sandboxes) -> None:
    marisol = await aggregate_patient(sandboxes.contexts, search=PatientCriteria(name="Marisol Vantongeren"))
    assert [(m.method, m.confidence, m.merged) for m in marisol.matches][1] == ("demographics", 1.0, True)
    assert marisol.allergies[0]["sources"] == ["Epic sandbox", "Cerner sandbox"] and not marisol.conflicts

    brackwell = await aggregate_patient(sandboxes.contexts, search=PatientCriteria(family="Brackwell"))
    offered = brackwell.matches[1]
    assert (offered.name, offered.method, offered.merged) == ("Ted Brackwell", "demographics", False)
    assert 0.5 <= offered.confidence < 0.9 and "given names differ but share the initial" in offered.reasons
    assert {o["source"] for o in brackwell.observations} == {"Epic sandbox"}  # not silently merged
    assert "Ted Brackwell in Cerner sandbox (75%)" in brackwell.message

    # Searching by the full name finds only "Theodore" at Epic; Cerner is asked by family name and
    # birth date, and "Ted" is offered with the same score.
    theodore = await aggregate_patient(sandboxes.contexts, search=PatientCriteria(name="Theodore Brackwell"))
    assert [(m.name, m.merged, m.confidence) for m in theodore.matches] == [
        ("Theodore Brackwell", True, 1.0),
        ("Ted Brackwell", False, 0.75),
    ]


async def test_explicit_identifiers_and_ambiguous_or_unknown_searches(sandboxes: Sandboxes) -> None:
    explicit = await aggregate_patient(
        sandboxes.contexts, patient_identifiers={"emr-0": "ePL1005", "emr-1": "12740005"}
    )
    assert [m.method for m in explicit.matches] == ["anchor", "requested"]
    assert any(c["kind"] == "medication" and "6 hours" in str(c["values"]) for c in explicit.conflicts)
    assert any(c["kind"] == "allergy" and "criticality high" in str(c["values"]) for c in explicit.conflicts)

    ambiguous = await aggregate_patient(sandboxes.contexts, search=PatientCriteria(name="Quimby"))
    assert ambiguous.status == "ambiguous" and {p.name for p in ambiguous.candidates} >= {
        "Harold Quimby",
        "Walter Quimby",
    }

    unknown = await aggregate_patient(sandboxes.contexts, search=PatientCriteria(name="Zebulon Nobody"))
    assert unknown.status == "not_found" and not unknown.observations


async def test_one_source_down_gives_a_partial_result(sandboxes: Sandboxes) -> None:
    await sandboxes.demo._servers[1].stop()
    result = await aggregate_patient(sandboxes.contexts, search=PatientCriteria(name="Harold Quimby"))
    assert result.status == "merged"
    assert [(f.source, f.code) for f in result.failed_sources] == [("Cerner sandbox", "integration_unreachable")]
    assert {o["source"] for o in result.observations} == {"Epic sandbox"}
    assert "Could not read: Cerner sandbox" in result.message


async def test_sources_are_read_concurrently() -> None:
    async with running_sandboxes(latency_ms=100) as slow:
        contexts = slow.contexts
        await aggregate_patient(contexts, search=PatientCriteria(name="Harold Quimby"))  # warm the token cache
        began = time.perf_counter()
        result = await aggregate_patient(contexts, search=PatientCriteria(name="Harold Quimby"))
        elapsed = time.perf_counter() - began
    assert result.status == "merged" and len(result.sources) == 2
    # Sequentially: 2 sources x (1 search + 4 reads) x 100 ms = 1 s. Concurrently: search, then reads.
    assert elapsed < 0.6, elapsed


def _patient(**fields: object) -> PatientSummary:
    return PatientSummary.model_validate({"id": "p", "name": "x", **fields})


def test_matching_rules() -> None:
    a = _patient(family="Núñez", given=["Ana"], birth_date="1990-01-01", gender="female", postal_code="1000")
    same = _patient(family="Nunez", given=["Ana"], birth_date="1990-01-01", gender="female", postal_code="1000")
    assert demographic_score(a, same)[0] == 1.0
    twin = _patient(family="Nunez", given=["Eva"], birth_date="1990-01-01", gender="female", postal_code="1000")
    assert match(a, twin, "i").merged is False and match(a, twin, "i").confidence == 0.8
    stranger = _patient(family="Other", given=["Bob"], birth_date="1950-05-05", gender="male")
    assert match(a, stranger, "i").confidence == 0.0
    shared = Identifier(system="urn:x", value="42")
    assert (
        match(
            a.model_copy(update={"identifiers": [shared]}), stranger.model_copy(update={"identifiers": [shared]}), "i"
        ).method
        == "identifier"
    )
    no_system = Identifier(value="42")
    assert (
        match(
            a.model_copy(update={"identifiers": [no_system]}),
            stranger.model_copy(update={"identifiers": [no_system]}),
            "i",
        ).method
        == "demographics"
    )
