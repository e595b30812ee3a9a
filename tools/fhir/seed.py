"""Deterministic synthetic patients for the FHIR sandboxes (invented people; no real person's data).

Two datasets, `epic` and `cerner`, overlap so that aggregation has something to merge. Everything is
computed from the tables below: the same names, ids and values on every run (evals rely on it).

| person | Epic sandbox (id, MRN) | Cerner sandbox (id, MRN) | born, gender | how they match |
|---|---|---|---|---|
| Harold Quimby | `eHQ1001`, E1001 | `12740001`, C77001 | 1958-03-14, male | shared enterprise id 900001 |
| Marisol Vantongeren | `eMV1002`, E1002 | `12740002`, C77002 | 1984-11-02, female | demographics only (high) |
| Theodore Brackwell ("Ted" at Cerner) | `eTB1003`, E1003 | `12740003`, C77003 | 1971-06-30, male | offered only |
| Odalys Fenwick | `eOF1004`, E1004 | — | 1992-01-19, female | Epic only |
| Priya Lindqvist | `ePL1005`, E1005 | `12740005`, C77005 | 2001-07-22, female | shared enterprise id 900005 |
| Edith Quimby | `eEQ1006`, E1006 | — | 1960-08-09, female | Epic only |
| Cornelius Abernathy-Pike | — | `12740004`, C77004 | 1945-09-05, male | Cerner only |
| Walter Quimby | — | `12740006`, C77006 | 2015-04-27, male | Cerner only |

Identifier systems: MRN `urn:oid:2.16.840.1.113883.3.9999.2` (Epic) / `.3` (Cerner); enterprise id
`urn:oid:2.16.840.1.113883.3.9999.1`.

Vitals (LOINC): 6 visits at 09:30Z on 2025-01-02, 02-01, 03-03, 04-02, 05-02 and 06-01; the Cerner copy
of a shared person holds the last three (identical values: duplicates to collapse). Each value is the
person's base plus a per-visit offset (`seed_people.VITAL_SIGNS`). The latest visit (2025-06-01) for Harold
Quimby: heart rate 76 /min, blood pressure 139/86 mm[Hg], temperature 36.9 Cel, respiratory rate
16 /min, SpO2 96 %, body weight 93 kg (Cerner says 93.4 kg: a conflict).
Labs: 4 draws at 07:15Z on 2024-12-03, 2025-02-01, 2025-04-02 and 2025-05-25 (Cerner copy: the last two);
Harold's latest: glucose 150 mg/dL, HbA1c 7.6 %, creatinine 1.1 mg/dL, potassium 4.4 mmol/L,
hemoglobin 14.1 g/dL.
Conflicts by design: Harold's allergies (Cerner adds Latex), Priya's albuterol dosage and aspirin
allergy criticality, Harold's latest weight.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tools.fhir.seed_people import (
    BP_OFFSETS,
    ENTERPRISE_SYSTEM,
    LAB_DRAWS,
    LAB_TESTS,
    LOINC,
    MRN_SYSTEMS,
    PEOPLE,
    RXNORM,
    SNOMED,
    VISITS,
    VITAL_SIGNS,
    Dataset,
    Person,
    Record,
)

__all__ = ["PEOPLE", "Dataset", "build_dataset"]


def _round(value: float) -> float:
    return round(value, 1)


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": _round(value), "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _category(code: str) -> list[dict[str, Any]]:
    system = "http://terminology.hl7.org/CodeSystem/observation-category"
    return [{"coding": [{"system": system, "code": code}]}]


def _observation(rid: str, pid: str, category: str, code: str, display: str, when: datetime) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": _category(category),
        "code": _concept(LOINC, code, display),
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when.isoformat().replace("+00:00", "Z"),
    }


def _vitals(person: Person, record: Record) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for visit in record.visits:
        when = VISITS[visit]
        for index, (code, display, unit, offsets) in enumerate(VITAL_SIGNS):
            value = record.overrides.get((code, visit), person.vitals[index] + offsets[visit])
            obs = _observation(f"{record.id}-v{visit}-{code}", record.id, "vital-signs", code, display, when)
            out.append({**obs, "valueQuantity": _quantity(value, unit)})
        obs = _observation(
            f"{record.id}-v{visit}-85354-9", record.id, "vital-signs", "85354-9", "Blood pressure panel", when
        )
        obs["component"] = [
            {"code": _concept(LOINC, code, name), "valueQuantity": _quantity(base + offsets[visit], "mm[Hg]")}
            for code, name, base, offsets in (
                ("8480-6", "Systolic blood pressure", person.vitals[5], BP_OFFSETS[0]),
                ("8462-4", "Diastolic blood pressure", person.vitals[6], BP_OFFSETS[1]),
            )
        ]
        out.append(obs)
    return out


def _labs(person: Person, record: Record) -> list[dict[str, Any]]:
    out = []
    for draw in record.labs:
        for index, (code, display, unit, offsets) in enumerate(LAB_TESTS):
            obs = _observation(f"{record.id}-l{draw}-{code}", record.id, "laboratory", code, display, LAB_DRAWS[draw])
            out.append({**obs, "valueQuantity": _quantity(person.labs[index] + offsets[draw], unit)})
    return out


def _patient(person: Person, record: Record, dataset: Dataset) -> dict[str, Any]:
    identifiers = [
        {"use": "usual", "type": {"text": "MRN"}, "system": MRN_SYSTEMS[dataset], "value": record.mrn},
    ]
    if record.enterprise_id:
        identifiers.append(
            {"type": {"text": "Enterprise ID"}, "system": ENTERPRISE_SYSTEM, "value": record.enterprise_id}
        )
    return {
        "resourceType": "Patient",
        "id": record.id,
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "official", "family": record.family, "given": [record.given]}],
        "telecom": [{"system": "phone", "value": record.phone, "use": "home"}],
        "gender": person.gender,
        "birthDate": person.birth_date,
        "address": [{"use": "home", "city": "Springfield", "postalCode": record.postal_code, "country": "US"}],
    }


def _clinical(record: Record) -> dict[str, list[dict[str, Any]]]:
    subject = {"reference": f"Patient/{record.id}"}
    meds = [
        {
            "resourceType": "MedicationRequest",
            "id": f"{record.id}-m{i}",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": _concept(RXNORM, d.code, d.name),
            "subject": subject,
            "authoredOn": "2025-01-02",
            "dosageInstruction": [{"text": d.dosage}],
        }
        for i, d in enumerate(record.medications)
    ]
    clinical = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
    allergies = [
        {
            "resourceType": "AllergyIntolerance",
            "id": f"{record.id}-a{i}",
            "clinicalStatus": {"coding": [{"system": clinical, "code": "active"}]},
            "criticality": a.criticality,
            "code": _concept(a.system, a.code, a.substance),
            "patient": subject,
            "recordedDate": "2024-11-05",
            "reaction": [{"manifestation": [{"text": a.reaction}]}],
        }
        for i, a in enumerate(record.allergies)
    ]
    condition_status = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"{record.id}-c{i}",
            "clinicalStatus": {"coding": [{"system": condition_status, "code": "active"}]},
            "code": _concept(SNOMED, p.code, p.name),
            "subject": subject,
            "onsetDateTime": p.onset,
        }
        for i, p in enumerate(record.conditions)
    ]
    encounters = [
        {
            "resourceType": "Encounter",
            "id": f"{record.id}-e{v}",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "type": [{"text": "Office visit"}],
            "subject": subject,
            "period": {
                "start": VISITS[v].isoformat().replace("+00:00", "Z"),
                "end": (VISITS[v] + timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
            },
        }
        for v in record.visits
    ]
    return {
        "MedicationRequest": meds,
        "AllergyIntolerance": allergies,
        "Condition": conditions,
        "Encounter": encounters,
    }


def build_dataset(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """Every resource of one sandbox, by resource type, in a stable order."""
    resources: dict[str, list[dict[str, Any]]] = {
        "Patient": [],
        "Observation": [],
        "MedicationRequest": [],
        "AllergyIntolerance": [],
        "Condition": [],
        "Encounter": [],
    }
    for person in PEOPLE:
        record = person.records.get(dataset)
        if record is None:
            continue
        resources["Patient"].append(_patient(person, record, dataset))
        resources["Observation"] += _vitals(person, record) + _labs(person, record)
        for kind, items in _clinical(record).items():
            resources[kind] += items
    return resources
