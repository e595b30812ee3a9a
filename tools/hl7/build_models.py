"""Structured input for building HL7 v2 messages, and the mapping from a FHIR patient summary.

Every text field is bounded and free of control characters: these models sit behind an agent tool,
so their input is hostile. Delimiters (| ^ ~ \\ &) are allowed in values; the builder escapes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

# Printable text only: a CR or LF inside a value would end the segment.
_PRINTABLE = r"^[^\x00-\x1f]*$"
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=_PRINTABLE)]

BuildVersion = Literal["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"]
MessageKind = Literal["ADT^A01", "ADT^A04", "ADT^A08", "ORU^R01", "ORM^O01"]


class MessageHeader(BaseModel):
    """MSH: who sends to whom, in which version. Control id and timestamp are generated when absent."""

    sending_application: ShortText = "SWITCHBOARD"
    sending_facility: ShortText = "SWITCHBOARD"
    receiving_application: ShortText | None = None
    receiving_facility: ShortText | None = None
    version: BuildVersion = "2.5.1"
    control_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,20}$")] | None = None
    processing_id: Literal["P", "T", "D"] = "P"
    timestamp: datetime | None = None


class PatientIdentifier(BaseModel):
    value: ShortText
    assigning_authority: ShortText | None = None
    type_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,5}$")] = "MR"


class Address(BaseModel):
    street: Text | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    postal_code: ShortText | None = None
    country: ShortText | None = None


class Patient(BaseModel):
    """PID. `mrn` is a shortcut for a first identifier of type MR."""

    mrn: ShortText | None = None
    identifiers: list[PatientIdentifier] = Field(default_factory=list, max_length=10)
    family_name: ShortText
    given_name: ShortText | None = None
    middle_name: ShortText | None = None
    birth_date: date | None = None
    sex: Literal["M", "F", "O", "U", "A", "N"] = "U"
    address: Address | None = None
    phone: ShortText | None = None

    @model_validator(mode="after")
    def _needs_an_identifier(self) -> Patient:
        if self.mrn and not any(i.value == self.mrn for i in self.identifiers):
            self.identifiers.insert(0, PatientIdentifier(value=self.mrn))
        if not self.identifiers:
            raise ValueError("a patient needs an MRN or at least one identifier (PID-3)")
        return self


class Provider(BaseModel):
    id: ShortText
    family_name: ShortText | None = None
    given_name: ShortText | None = None


class Visit(BaseModel):
    """PV1. Patient class: I inpatient, O outpatient, E emergency, P preadmit, R recurring, B obstetrics."""

    patient_class: Literal["I", "O", "E", "P", "R", "B"] = "O"
    ward: ShortText | None = None
    room: ShortText | None = None
    bed: ShortText | None = None
    attending_doctor: Provider | None = None
    visit_number: ShortText | None = None
    admitted_at: datetime | None = None


class Order(BaseModel):
    """ORC/OBR: what was ordered (a coded service, LOINC by default) and by whom."""

    placer_order_number: ShortText | None = None
    filler_order_number: ShortText | None = None
    service_code: ShortText
    service_text: Text | None = None
    coding_system: ShortText = "LN"
    order_control: Literal["NW", "CA", "XO", "SC"] = "NW"
    priority: Literal["S", "A", "R"] = "R"
    ordering_provider: Provider | None = None
    observed_at: datetime | None = None
    result_status: Literal["F", "P", "C", "X"] = "F"


class Observation(BaseModel):
    """OBX: one result value with its code, units, range and flag."""

    code: ShortText
    text: Text | None = None
    coding_system: ShortText = "LN"
    value_type: Literal["NM", "ST", "TX", "CE", "CWE", "SN", "DT", "TS"] = "ST"
    value: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=_PRINTABLE)]
    units: ShortText | None = None
    reference_range: ShortText | None = None
    abnormal_flag: Annotated[str, StringConstraints(pattern=r"^[A-Z<>]{1,2}$")] | None = None
    status: Literal["F", "P", "C", "X"] = "F"
    observed_at: datetime | None = None


class BuildRequest(BaseModel):
    """Everything one message needs; `patient` or `fhir_patient` (a FHIR patient summary) is required."""

    message_type: MessageKind
    patient: Patient | None = None
    fhir_patient: dict[str, Any] | None = None
    visit: Visit | None = None
    order: Order | None = None
    observations: list[Observation] = Field(default_factory=list, max_length=100)
    header: MessageHeader = Field(default_factory=MessageHeader)

    @model_validator(mode="after")
    def _complete(self) -> BuildRequest:
        if (self.patient is None) == (self.fhir_patient is None):
            raise ValueError("give exactly one of patient or fhir_patient")
        self.resolved_patient()  # a FHIR summary that does not map is an input error, reported now
        if self.message_type in ("ORU^R01", "ORM^O01") and self.order is None:
            raise ValueError(f"{self.message_type} needs an order (ORC/OBR)")
        if self.message_type == "ORU^R01" and not self.observations:
            raise ValueError("ORU^R01 needs at least one observation (OBX)")
        if self.message_type == "ORM^O01" and self.header.version not in ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6"):
            raise ValueError("ORM^O01 exists up to HL7 2.6 (later versions use OMG/OML); choose 2.6 or earlier")
        return self

    def resolved_patient(self) -> Patient:
        """The PID input: `patient` as given, or mapped from `fhir_patient`."""
        if self.patient is not None:
            return self.patient
        assert self.fhir_patient is not None
        return patient_from_fhir(self.fhir_patient)


_SEX = {"male": "M", "female": "F", "other": "O", "unknown": "U"}


def patient_from_fhir(summary: Mapping[str, Any]) -> Patient:
    """A FHIR patient summary `{id, name, birth_date, gender, identifiers:[{system,value}], address?, phone?}`
    as PID input: the MRN-like identifier first, the FHIR id last (authority FHIR)."""
    family, given, middle = _split_name(summary.get("name"))
    identifiers: list[PatientIdentifier] = []
    raw_ids = summary.get("identifiers") or []
    if not isinstance(raw_ids, list):
        raise ValueError("fhir_patient.identifiers must be a list of {system, value}")
    for item in raw_ids:
        if isinstance(item, Mapping) and item.get("value"):
            system = str(item.get("system") or "")
            identifiers.append(
                PatientIdentifier(
                    value=str(item["value"]),
                    assigning_authority=_authority(system),
                    type_code="MR" if _is_mrn(system) else "PI",
                )
            )
    identifiers.sort(key=lambda i: i.type_code != "MR")  # MRN first: receivers key on the first PID-3
    if summary.get("id"):
        identifiers.append(PatientIdentifier(value=str(summary["id"]), assigning_authority="FHIR", type_code="PI"))
    return Patient(
        identifiers=identifiers,
        family_name=family,
        given_name=given,
        middle_name=middle,
        birth_date=summary.get("birth_date") or summary.get("birthDate"),
        sex=_SEX.get(str(summary.get("gender") or "unknown").lower(), "U"),  # type: ignore[arg-type]
        address=_address(summary.get("address")),
        phone=str(summary["phone"]) if summary.get("phone") else None,
    )


def _split_name(name: Any) -> tuple[str, str | None, str | None]:
    if isinstance(name, Mapping):
        given = name.get("given") or []
        given = [given] if isinstance(given, str) else list(given)
        family = str(name.get("family") or "")
        if not family:
            raise ValueError("fhir_patient.name has no family name")
        return family, (str(given[0]) if given else None), (" ".join(str(g) for g in given[1:]) or None)
    parts = str(name or "").split()
    if not parts:
        raise ValueError("fhir_patient.name is missing")
    if len(parts) == 1:
        return parts[0], None, None
    return parts[-1], parts[0], (" ".join(parts[1:-1]) or None)


def _is_mrn(system: str) -> bool:
    lowered = system.lower()
    return "mrn" in lowered or lowered.endswith(":mr") or "medical-record" in lowered


def _authority(system: str) -> str | None:
    """The last meaningful part of an identifier system URI (`urn:oid:1.2.3` → `1.2.3`)."""
    tail = system.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail[:50] or None


def _address(value: Any) -> Address | None:
    if not value:
        return None
    if isinstance(value, str):
        return Address(street=value[:200])
    if isinstance(value, Mapping):
        line = value.get("line")
        street = " ".join(str(x) for x in line) if isinstance(line, list) else line
        return Address(
            street=street or value.get("street"),
            city=value.get("city"),
            state=value.get("state"),
            postal_code=value.get("postal_code") or value.get("postalCode"),
            country=value.get("country"),
        )
    raise ValueError("fhir_patient.address must be text or {line, city, state, postal_code, country}")
