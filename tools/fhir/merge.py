"""Merging one patient's records from several EMRs: items tagged by source, duplicates collapsed,
conflicts listed next to the data (never resolved silently). Pure functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from tools.fhir.models import AllergyItem, ConditionItem, MedicationItem, ObservationItem, PatientSummary


class SourceRecord(BaseModel):
    """What one source holds about the patient."""

    integration_id: str
    source: str
    patient: PatientSummary
    observations: list[ObservationItem] = []
    medications: list[MedicationItem] = []
    allergies: list[AllergyItem] = []
    conditions: list[ConditionItem] = []


class Conflict(BaseModel):
    kind: str  # demographics, observation, medication, allergy, condition
    subject: str
    detail: str
    values: list[dict[str, Any]]  # [{value, source}]


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _merge_items(
    kind: str,
    records: Sequence[SourceRecord],
    items_of: Callable[[SourceRecord], Sequence[BaseModel]],
    key: Callable[[Any], str],
    label: Callable[[Any], str],
    compared: Callable[[Any], str],
    conflicts: list[Conflict],
    *,
    missing_is_conflict: bool = False,
) -> list[dict[str, Any]]:
    """Collapse items with the same `key` (and `compared` value) across sources; disagreeing
    `compared` values under one key become a conflict, and both versions are kept."""
    groups: dict[str, dict[str, dict[str, Any]]] = {}  # key -> compared value -> merged item
    first: dict[str, Any] = {}
    for record in records:
        for item in items_of(record):
            item_key = key(item)
            first.setdefault(item_key, item)
            versions = groups.setdefault(item_key, {})
            value = compared(item)
            if value in versions:
                if record.source not in versions[value]["sources"]:
                    versions[value]["sources"].append(record.source)
            else:
                versions[value] = {**item.model_dump(exclude={"source"}, exclude_none=True), "sources": [record.source]}
    merged: list[dict[str, Any]] = []
    all_sources = [r.source for r in records]
    for item_key, versions in groups.items():
        for version in versions.values():
            version["source"] = ", ".join(version["sources"])
        merged.extend(versions.values())
        name = label(first[item_key])
        if len(versions) > 1:
            values = [{"value": value, "source": version["source"]} for value, version in versions.items()]
            conflicts.append(
                Conflict(kind=kind, subject=name, detail=f"The sources disagree about {name}.", values=values)
            )
        elif missing_is_conflict and len(records) > 1:
            holders = next(iter(versions.values()))["sources"]
            absent = [s for s in all_sources if s not in holders]
            if absent:
                values = [{"value": "recorded", "source": s} for s in holders]
                values += [{"value": "not recorded", "source": s} for s in absent]
                detail = f"{name} is recorded in {', '.join(holders)} but not in {', '.join(absent)}."
                conflicts.append(Conflict(kind=kind, subject=name, detail=detail, values=values))
    return merged


def merge_demographics(records: Sequence[SourceRecord], conflicts: list[Conflict]) -> dict[str, Any]:
    fields: dict[str, list[dict[str, Any]]] = {}
    for name in ("name", "birth_date", "gender"):
        values: dict[str, list[str]] = {}
        for record in records:
            value = getattr(record.patient, name)
            if value:
                values.setdefault(str(value), []).append(record.source)
        fields[name] = [{"value": v, "sources": s, "source": ", ".join(s)} for v, s in values.items()]
        if len(values) > 1:
            conflicts.append(
                Conflict(
                    kind="demographics",
                    subject=name,
                    detail=f"The sources record different values for {name.replace('_', ' ')}.",
                    values=[{"value": v, "source": ", ".join(s)} for v, s in values.items()],
                )
            )
    identifiers = [
        {**identifier.model_dump(), "source": record.source}
        for record in records
        for identifier in record.patient.identifiers
    ]
    return {**fields, "identifiers": identifiers}


def merge_records(records: Sequence[SourceRecord]) -> dict[str, Any]:
    """The merged view: demographics, observations, medications, allergies, conditions, conflicts."""
    conflicts: list[Conflict] = []
    demographics = merge_demographics(records, conflicts)
    observations = _merge_items(
        "observation",
        records,
        lambda r: r.observations,
        key=lambda o: f"{o.code or _norm(o.display)}@{(o.effective or '')[:16]}",
        label=lambda o: f"{o.display} on {(o.effective or '?')[:10]}",
        compared=lambda o: f"{o.value} {o.unit or ''}".strip(),
        conflicts=conflicts,
    )
    observations.sort(key=lambda o: (o.get("category") or "", o.get("display") or "", o.get("effective") or ""))
    medications = _merge_items(
        "medication",
        records,
        lambda r: r.medications,
        key=lambda m: m.code or _norm(m.medication),
        label=lambda m: m.medication,
        compared=lambda m: m.dosage or "",
        conflicts=conflicts,
    )
    allergies = _merge_items(
        "allergy",
        records,
        lambda r: r.allergies,
        key=lambda a: a.code or _norm(a.substance),
        label=lambda a: a.substance,
        compared=lambda a: f"criticality {a.criticality or 'unknown'}",
        conflicts=conflicts,
        missing_is_conflict=True,  # an allergy only one system knows about is a safety issue
    )
    conditions = _merge_items(
        "condition",
        records,
        lambda r: r.conditions,
        key=lambda c: c.code or _norm(c.condition),
        label=lambda c: c.condition,
        compared=lambda c: c.clinical_status or "",
        conflicts=conflicts,
    )
    return {
        "patient": demographics,
        "observations": observations,
        "medications": medications,
        "allergies": allergies,
        "conditions": conditions,
        "conflicts": [c.model_dump() for c in conflicts],
    }
