"""The patient the conversation is about, from earlier EMR tool results: "his labs", "that patient",
"and in Cerner?" resolve to the patient last read (one record per EMR), and "the second one" to the
list last shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.offline.skill import ToolOutcome, Turn
from agents.offline.skills.fhir_names import Person, group_people


@dataclass(frozen=True)
class PatientRef:
    """A patient in one EMR integration, as an earlier tool result named them."""

    integration: str
    patient_id: str
    name: str | None
    gender: str | None = None


def _patients(outcome: ToolOutcome) -> list[dict[str, Any]]:
    data = outcome.data
    return list(data.get("patients", [])) if outcome.ok and isinstance(data, dict) else []


def refs_from_history(turn: Turn) -> list[PatientRef]:
    """The patient of the conversation so far: one per EMR, from the latest EMR results backwards."""
    refs: dict[str, PatientRef] = {}
    known: dict[str, dict[str, Any]] = {}  # "<integration>/<patient id>" -> the search result, from any search
    seen_search = False
    settled = False  # refs are complete once we pass the search that introduced the patient
    for outcome in reversed(turn.earlier_outcomes):
        operation = outcome.operation or ""
        integration = outcome.tool.integration_name if outcome.tool else None
        if not operation.startswith("emr.") or not outcome.ok:
            continue
        if operation == "emr.find_patient" and integration:
            found = _patients(outcome)
            for patient in found:
                known.setdefault(f"{integration}/{patient['id']}", patient)
            if (not settled and len(found) == 1 and integration not in refs and not refs) or (
                not settled and len(found) == 1 and integration not in refs and _same_name(refs, found[0])
            ):
                refs[integration] = PatientRef(integration, found[0]["id"], found[0]["name"], found[0].get("gender"))
            seen_search = True
            continue
        settled = settled or (seen_search and bool(refs))
        if settled:
            continue
        if operation == "emr.aggregate":
            data = outcome.data if isinstance(outcome.data, dict) else {}
            name = " / ".join(str(n["value"]) for n in (data.get("patient") or {}).get("name", []))
            for source in data.get("sources", []):
                refs.setdefault(source["source"], PatientRef(source["source"], source["patient_id"], name or None))
            settled = bool(refs)
            continue
        pid = outcome.args.get("patient_id")
        if integration and pid and integration not in refs:
            refs[integration] = PatientRef(integration, str(pid), None)
    out = []
    for ref in refs.values():
        record = known.get(f"{ref.integration}/{ref.patient_id}") or {}
        out.append(
            PatientRef(
                ref.integration, ref.patient_id, ref.name or record.get("name"), ref.gender or record.get("gender")
            )
        )
    return out


def _same_name(refs: dict[str, PatientRef], patient: dict[str, Any]) -> bool:
    return any(r.name and r.name.lower() == str(patient.get("name", "")).lower() for r in refs.values())


def last_listed(turn: Turn) -> list[Person]:
    """The patients of the latest search that found several, as the list showed them."""
    block: list[ToolOutcome] = []
    for outcome in reversed(turn.earlier_outcomes):
        if outcome.operation == "emr.find_patient":
            block.insert(0, outcome)
        elif block:
            break
        elif (outcome.operation or "").startswith("emr."):
            return []  # a patient was read after the list: "the second one" no longer points into it
    patients = [p for o in block for p in _patients(o)]
    people = group_people(patients)
    return people if len(people) > 1 else []
