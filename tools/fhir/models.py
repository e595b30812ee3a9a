"""Compact, typed summaries of FHIR resources: what the model and the API need, nothing more.

Read tolerantly from the JSON as the server sent it (see `tools.tolerant`), not through strict model
validation: real EMRs send resources that fail a strict R4 model (an extension in the wrong place, an
R5 field, a code system we have never seen) and skipping the whole resource would hide a patient's
allergy. Every R4 `value[x]` variant is read (Quantity, CodeableConcept, string, boolean, integer,
Range, Ratio, SampledData, time, dateTime, Period), components and reference ranges included; a
single object where a list is usual, numbers as strings and unknown codes are accepted; what cannot
be read is left out or named "unknown". A resource that is not a JSON object is skipped (counted,
never logged with content).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tools.fhir.values import codings, concept_code, concept_text, number, reference_range, value_of, when
from tools.tolerant import UNKNOWN, as_items, as_object, as_str, as_strings

log = logging.getLogger("switchboard.tools.fhir")

T = TypeVar("T")


class Identifier(BaseModel):
    system: str | None = None
    value: str
    type: str | None = None


class PatientSummary(BaseModel):
    id: str
    name: str
    family: str | None = None
    given: list[str] = []
    birth_date: str | None = None
    gender: str | None = None
    identifiers: list[Identifier] = []
    phone: str | None = None
    postal_code: str | None = None
    deceased: bool | None = None
    source: str | None = None  # integration name


class ObservationItem(BaseModel):
    id: str | None = None
    code: str | None = None
    system: str | None = None
    display: str
    category: str | None = None
    value: str | None = None  # "72", "120/80", "positive"
    unit: str | None = None
    effective: str | None = None
    status: str | None = None
    interpretation: str | None = None
    reference_range: str | None = None  # "60-100 /min", or the range's text
    source: str | None = None


class MedicationItem(BaseModel):
    id: str | None = None
    medication: str
    code: str | None = None
    status: str | None = None
    intent: str | None = None
    authored_on: str | None = None
    dosage: str | None = None
    source: str | None = None


class AllergyItem(BaseModel):
    id: str | None = None
    substance: str
    code: str | None = None
    clinical_status: str | None = None
    criticality: str | None = None
    category: list[str] = []
    reactions: list[str] = []
    recorded: str | None = None
    source: str | None = None


class ConditionItem(BaseModel):
    id: str | None = None
    condition: str
    code: str | None = None
    clinical_status: str | None = None
    onset: str | None = None
    recorded: str | None = None
    source: str | None = None


class EncounterItem(BaseModel):
    id: str | None = None
    status: str | None = None
    encounter_class: str | None = None
    type: str | None = None
    start: str | None = None
    end: str | None = None
    reason: str | None = None
    source: str | None = None


def _first(*values: Any) -> Any:
    return next((value for value in values if value not in (None, "", [], {})), None)


def parse_many(resources: Iterable[Any], parse: Callable[[dict[str, Any]], T]) -> list[T]:
    """Parse each resource; skip (and count in the log, without content) those that cannot be read."""
    parsed: list[T] = []
    skipped = 0
    for resource in resources:
        if not isinstance(resource, dict):
            skipped += 1
            continue
        try:
            parsed.append(parse(resource))
        except (ValidationError, ValueError, TypeError):
            skipped += 1
    if skipped:
        log.warning("skipped %d FHIR resource(s) that could not be read", skipped)
    return parsed


# --------------------------------------------------------------------------- resources


def _human_name(name: dict[str, Any]) -> tuple[str | None, list[str], str | None]:
    """(family, given names, text) of a HumanName; `family` may be a list (DSTU2 servers)."""
    family = " ".join(as_strings(name.get("family"))) or None
    return family, as_strings(name.get("given")), as_str(name.get("text"))


def patient_summary(resource: dict[str, Any], source: str | None = None) -> PatientSummary:
    names = as_items(resource.get("name"))
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    family, given, text = _human_name(official) if official else (None, [], None)
    display = text or " ".join([*given, family or ""]).strip() or "(no name)"
    identifiers = [
        Identifier(system=as_str(i.get("system")), value=value, type=concept_text(i.get("type")))
        for i in as_items(resource.get("identifier"))
        if (value := as_str(i.get("value")))
    ]
    phone = next(
        (as_str(t.get("value")) for t in as_items(resource.get("telecom")) if t.get("system") == "phone"), None
    )
    postal = next((code for a in as_items(resource.get("address")) if (code := as_str(a.get("postalCode")))), None)
    deceased = resource.get("deceasedBoolean") is True or bool(as_str(resource.get("deceasedDateTime")))
    return PatientSummary(
        id=as_str(resource.get("id")) or UNKNOWN,
        name=display,
        family=family,
        given=given,
        birth_date=when(resource.get("birthDate")),
        gender=as_str(resource.get("gender")),
        identifiers=identifiers,
        phone=phone,
        postal_code=postal,
        deceased=deceased or None,
        source=source,
    )


def _components(observation: dict[str, Any]) -> tuple[str | None, str | None]:
    """A panel's value: "120/80" with the shared unit (blood pressure), else "name: value unit; ..."."""
    parts = [(concept_text(c.get("code")), *value_of(c)) for c in as_items(observation.get("component"))]
    known = [(name, value, unit) for name, value, unit in parts if value is not None]
    if not known:
        return None, None
    units = {unit for _, _, unit in known}
    if len(known) == len(parts) and len(units) == 1 and all(number(v.lstrip("<>=≤≥")) for _, v, _ in known):
        return "/".join(value for _, value, _ in known), units.pop()
    return "; ".join(
        f"{name or 'component'}: {value}" + (f" {unit}" if unit else "") for name, value, unit in known
    ), None


def observation_item(resource: dict[str, Any], source: str | None = None) -> ObservationItem:
    code, system = concept_code(resource.get("code"))
    value, unit = value_of(resource)
    if value is None:
        value, unit = _components(resource)
    absent = concept_text(resource.get("dataAbsentReason")) if value is None else None
    if absent:
        value = f"not available ({absent})"
    categories = [concept_code(c)[0] for c in as_items(resource.get("category"))]
    interpretations = as_items(resource.get("interpretation"))
    period = as_object(resource.get("effectivePeriod"))
    return ObservationItem(
        id=as_str(resource.get("id")),
        code=code,
        system=system,
        display=concept_text(resource.get("code")) or "(unnamed observation)",
        category=next((c for c in categories if c), None),
        value=value,
        unit=unit,
        effective=when(_first(resource.get("effectiveDateTime"), resource.get("effectiveInstant"), period.get("start")))
        or when(resource.get("issued")),
        status=as_str(resource.get("status")),
        interpretation=concept_text(interpretations[0]) if interpretations else None,
        reference_range=reference_range(resource),
        source=source,
    )


def medication_item(resource: dict[str, Any], source: str | None = None) -> MedicationItem:
    """A MedicationRequest or a MedicationStatement (R4), or their R5 `medication` CodeableReference."""
    concept = _first(resource.get("medicationCodeableConcept"), resource.get("medication"))
    reference = as_object(resource.get("medicationReference"))
    name = concept_text(concept) or as_str(reference.get("display"))
    dosages = as_items(resource.get("dosageInstruction")) or as_items(resource.get("dosage"))
    dosage = "; ".join(text for d in dosages if (text := as_str(d.get("text")))) or None
    period = as_object(resource.get("effectivePeriod"))
    return MedicationItem(
        id=as_str(resource.get("id")),
        medication=name or "(unnamed medication)",
        code=concept_code(as_object(concept).get("concept", concept))[0],
        status=as_str(resource.get("status")),
        intent=as_str(resource.get("intent")),
        authored_on=when(
            _first(
                resource.get("authoredOn"),
                resource.get("effectiveDateTime"),
                period.get("start"),
                resource.get("dateAsserted"),
            )
        ),
        dosage=dosage,
        source=source,
    )


def allergy_item(resource: dict[str, Any], source: str | None = None) -> AllergyItem:
    reactions = [
        text
        for reaction in as_items(resource.get("reaction"))
        for text in (concept_text(m) for m in as_items(reaction.get("manifestation")))
        if text
    ]
    return AllergyItem(
        id=as_str(resource.get("id")),
        substance=concept_text(resource.get("code")) or "(unnamed substance)",
        code=concept_code(resource.get("code"))[0],
        clinical_status=concept_code(resource.get("clinicalStatus"))[0],
        criticality=as_str(resource.get("criticality")),
        category=as_strings(resource.get("category")),
        reactions=reactions,
        recorded=when(_first(resource.get("recordedDate"), resource.get("assertedDate"))),
        source=source,
    )


def condition_item(resource: dict[str, Any], source: str | None = None) -> ConditionItem:
    onset = as_object(resource.get("onsetPeriod")).get("start")
    return ConditionItem(
        id=as_str(resource.get("id")),
        condition=concept_text(resource.get("code")) or "(unnamed condition)",
        code=concept_code(resource.get("code"))[0],
        clinical_status=concept_code(resource.get("clinicalStatus"))[0],
        onset=when(_first(resource.get("onsetDateTime"), onset)) or as_str(resource.get("onsetString")),
        recorded=when(resource.get("recordedDate")),
        source=source,
    )


def encounter_item(resource: dict[str, Any], source: str | None = None) -> EncounterItem:
    period = as_object(_first(resource.get("period"), resource.get("actualPeriod")))
    classes = codings(resource.get("class")) or [
        coding for concept in as_items(resource.get("class")) for coding in codings(concept)
    ]
    kind = next((t for c in classes if (t := as_str(c.get("display")) or as_str(c.get("code")))), None)
    types = as_items(resource.get("type"))
    reasons = as_items(resource.get("reasonCode"))
    return EncounterItem(
        id=as_str(resource.get("id")),
        status=as_str(resource.get("status")),
        encounter_class=kind,
        type=concept_text(types[0]) if types else None,
        start=when(period.get("start")),
        end=when(period.get("end")),
        reason=concept_text(reasons[0]) if reasons else None,
        source=source,
    )
