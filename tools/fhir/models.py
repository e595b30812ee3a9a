"""Compact, typed summaries of FHIR resources: what the model and the API need, nothing more.

Every resource is first validated into its `fhir.resources` R4B model (the R4-compatible release of
that library); one that does not validate is skipped (counted, never logged with content).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from pydantic import BaseModel, ValidationError

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


# --------------------------------------------------------------------------- helpers


def _when(value: date | datetime | str | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return text.replace("+00:00", "Z")


def concept_text(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return str(concept.text)
    for coding in concept.coding or []:
        if coding.display:
            return str(coding.display)
    for coding in concept.coding or []:
        if coding.code:
            return str(coding.code)
    return None


def concept_code(concept: CodeableConcept | None) -> tuple[str | None, str | None]:
    """The first coding's (code, system)."""
    for coding in (concept.coding if concept else None) or []:
        if coding.code:
            return str(coding.code), str(coding.system) if coding.system else None
    return None, None


def _number(value: Any) -> str:
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _quantity(quantity: Quantity | None) -> tuple[str | None, str | None]:
    if quantity is None or quantity.value is None:
        return None, None
    return _number(quantity.value), quantity.unit or quantity.code


def parse_many(resources: Iterable[dict[str, Any]], parse: Callable[[dict[str, Any]], T]) -> list[T]:
    """Parse each resource; skip (and count in the log, without content) those that do not validate."""
    parsed: list[T] = []
    skipped = 0
    for resource in resources:
        try:
            parsed.append(parse(resource))
        except (ValidationError, ValueError, TypeError):
            skipped += 1
    if skipped:
        log.warning("skipped %d FHIR resource(s) that did not validate", skipped)
    return parsed


# --------------------------------------------------------------------------- resources


def patient_summary(resource: dict[str, Any], source: str | None = None) -> PatientSummary:
    patient = Patient.model_validate(resource)
    names = patient.name or []
    official = next((n for n in names if n.use == "official"), names[0] if names else None)
    given = [str(g) for g in (official.given or [])] if official else []
    family = str(official.family) if official and official.family else None
    display = (official.text if official and official.text else " ".join([*given, family or ""]).strip()) or "(no name)"
    identifiers = [
        Identifier(system=i.system, value=str(i.value), type=concept_text(i.type))
        for i in patient.identifier or []
        if i.value
    ]
    phone = next((str(t.value) for t in patient.telecom or [] if t.system == "phone" and t.value), None)
    postal = next((str(a.postalCode) for a in patient.address or [] if a.postalCode), None)
    return PatientSummary(
        id=str(patient.id),
        name=str(display),
        family=family,
        given=given,
        birth_date=_when(patient.birthDate),
        gender=patient.gender,
        identifiers=identifiers,
        phone=phone,
        postal_code=postal,
        deceased=bool(patient.deceasedBoolean or patient.deceasedDateTime) or None,
        source=source,
    )


def observation_item(resource: dict[str, Any], source: str | None = None) -> ObservationItem:
    observation = Observation.model_validate(resource)
    code, system = concept_code(observation.code)
    value, unit = _quantity(observation.valueQuantity)
    if value is None and observation.component:
        # Blood pressure and similar panels: "systolic/diastolic" with the shared unit.
        parts = [_quantity(c.valueQuantity) for c in observation.component]
        if parts and all(v is not None for v, _ in parts):
            value, unit = "/".join(str(v) for v, _ in parts), parts[0][1]
    if value is None:
        value = (
            concept_text(observation.valueCodeableConcept)
            or observation.valueString
            or (str(observation.valueBoolean).lower() if observation.valueBoolean is not None else None)
            or (str(observation.valueInteger) if observation.valueInteger is not None else None)
        )
    categories = [concept_code(c)[0] for c in observation.category or []]
    interpretation = concept_text(observation.interpretation[0]) if observation.interpretation else None
    return ObservationItem(
        id=observation.id,
        code=code,
        system=system,
        display=concept_text(observation.code) or "(unnamed observation)",
        category=next((c for c in categories if c), None),
        value=value,
        unit=unit,
        effective=_when(
            observation.effectiveDateTime
            or (observation.effectivePeriod.start if observation.effectivePeriod else None)
        ),
        status=observation.status,
        interpretation=interpretation,
        source=source,
    )


def medication_item(resource: dict[str, Any], source: str | None = None) -> MedicationItem:
    request = MedicationRequest.model_validate(resource)
    concept = request.medicationCodeableConcept
    name = concept_text(concept) or (request.medicationReference.display if request.medicationReference else None)
    dosage = "; ".join(str(d.text) for d in request.dosageInstruction or [] if d.text) or None
    return MedicationItem(
        id=request.id,
        medication=name or "(unnamed medication)",
        code=concept_code(concept)[0],
        status=request.status,
        intent=request.intent,
        authored_on=_when(request.authoredOn),
        dosage=dosage,
        source=source,
    )


def allergy_item(resource: dict[str, Any], source: str | None = None) -> AllergyItem:
    allergy = AllergyIntolerance.model_validate(resource)
    reactions = [
        text
        for reaction in allergy.reaction or []
        for text in (concept_text(m) for m in reaction.manifestation or [])
        if text
    ]
    return AllergyItem(
        id=allergy.id,
        substance=concept_text(allergy.code) or "(unnamed substance)",
        code=concept_code(allergy.code)[0],
        clinical_status=concept_code(allergy.clinicalStatus)[0],
        criticality=allergy.criticality,
        category=[str(c) for c in allergy.category or []],
        reactions=reactions,
        recorded=_when(allergy.recordedDate),
        source=source,
    )


def condition_item(resource: dict[str, Any], source: str | None = None) -> ConditionItem:
    condition = Condition.model_validate(resource)
    return ConditionItem(
        id=condition.id,
        condition=concept_text(condition.code) or "(unnamed condition)",
        code=concept_code(condition.code)[0],
        clinical_status=concept_code(condition.clinicalStatus)[0],
        onset=_when(condition.onsetDateTime),
        recorded=_when(condition.recordedDate),
        source=source,
    )


def encounter_item(resource: dict[str, Any], source: str | None = None) -> EncounterItem:
    encounter = Encounter.model_validate(resource)
    period = encounter.period
    return EncounterItem(
        id=encounter.id,
        status=encounter.status,
        encounter_class=(encounter.class_fhir.display or encounter.class_fhir.code) if encounter.class_fhir else None,
        type=concept_text(encounter.type[0]) if encounter.type else None,
        start=_when(period.start if period else None),
        end=_when(period.end if period else None),
        reason=concept_text(encounter.reasonCode[0]) if encounter.reasonCode else None,
        source=source,
    )
