"""Building ADT^A01/A04/A08, ORU^R01 and ORM^O01 messages with hl7apy, from `BuildRequest`.

Segments are hl7apy `Segment`s of the requested version (so field positions come from the standard,
not from us); every value is escaped before it is placed, and each component is set separately.
The result is checked with `inspect` before it is returned: a builder that emits a message our own
validator rejects is a bug we want to see, not ship.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from hl7apy.core import Segment
from pydantic import BaseModel

from tools.hl7.build_models import (
    BuildRequest,
    MessageHeader,
    Observation,
    Order,
    Patient,
    Provider,
    Visit,
)
from tools.hl7.message import LIBRARY_VERSIONS, escape_text, inspect

Components = Sequence[str | None]
_TELEPHONE_IN_XTN1 = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
_BEFORE_27 = (*_TELEPHONE_IN_XTN1, "2.6")


class BuiltMessage(BaseModel):
    message: str  # segments separated by \r
    message_type: str
    version: str
    control_id: str
    patient_id: str


class BuildError(ValueError):
    """The builder produced a message that does not validate (carries the located problems)."""


def hl7_timestamp(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.strftime("%Y%m%d%H%M%S%z")
    return value.strftime("%Y%m%d")


def new_control_id() -> str:
    """20 characters at most (MSH-10 is ST(20) in 2.3 to 2.5.1), unique without coordination."""
    return "SB" + uuid.uuid4().hex[:18].upper()


def _join(components: Components, separator: str = "^") -> str:
    values = [escape_text(c) if c else "" for c in components]
    return separator.join(values).rstrip(separator)


def _set(segment: Segment, position: int, *components: str | None) -> None:
    value = _join(components)
    if value:
        setattr(segment, f"{segment.name.lower()}_{position}", value)


def _repeat(segment: Segment, position: int, repetitions: Sequence[Components]) -> None:
    for components in repetitions:
        value = _join(components)
        if value:
            segment.add_field(f"{segment.name}_{position}").value = value


def _msh(header: MessageHeader, kind: str, structure: str, control_id: str, now: datetime, version: str) -> Segment:
    msh = Segment("MSH", version=version)
    msh.msh_1, msh.msh_2 = "|", "^~\\&"
    _set(msh, 3, header.sending_application)
    _set(msh, 4, header.sending_facility)
    _set(msh, 5, header.receiving_application)
    _set(msh, 6, header.receiving_facility)
    _set(msh, 7, hl7_timestamp(now))
    message_type, trigger = kind.split("^")
    # The message structure component (MSH-9.3) arrived in 2.3.1.
    _set(msh, 9, message_type, trigger, None if version == "2.3" else structure)
    _set(msh, 10, control_id)
    _set(msh, 11, header.processing_id)
    _set(msh, 12, header.version)
    return msh


def _provider(provider: Provider | None) -> list[str | None]:
    if provider is None:
        return []
    return [provider.id, provider.family_name, provider.given_name]


def _pid(patient: Patient, version: str) -> Segment:
    pid = Segment("PID", version=version)
    _set(pid, 1, "1")
    _repeat(pid, 3, [(i.value, None, None, i.assigning_authority, i.type_code) for i in patient.identifiers])
    _set(pid, 5, patient.family_name, patient.given_name, patient.middle_name)
    if patient.birth_date:
        _set(pid, 7, hl7_timestamp(patient.birth_date))
    _set(pid, 8, patient.sex)
    if patient.address:
        a = patient.address
        _set(pid, 11, a.street, None, a.city, a.state, a.postal_code, a.country)
    if patient.phone and version in _TELEPHONE_IN_XTN1:
        _set(pid, 13, patient.phone)
    elif patient.phone and version != "2.6":  # XTN-1 withdrawn: use-code, equipment, unformatted number (XTN-12)
        _set(pid, 13, None, "PRN", "PH", *([None] * 8), patient.phone)
    # hl7apy's 2.6 XTN table lacks XTN-1 and shifts every component, so 2.6 messages carry no phone.
    return pid


def _pv1(visit: Visit, version: str) -> Segment:
    pv1 = Segment("PV1", version=version)
    _set(pv1, 1, "1")
    _set(pv1, 2, visit.patient_class)
    _set(pv1, 3, visit.ward, visit.room, visit.bed)
    _set(pv1, 7, *_provider(visit.attending_doctor))
    _set(pv1, 19, visit.visit_number)
    if visit.admitted_at:
        _set(pv1, 44, hl7_timestamp(visit.admitted_at))
    return pv1


def _orc(order: Order, version: str, now: datetime) -> Segment:
    orc = Segment("ORC", version=version)
    _set(orc, 1, order.order_control)
    _set(orc, 2, order.placer_order_number)
    _set(orc, 3, order.filler_order_number)
    if version in _BEFORE_27:  # ORC-7 quantity/timing (TQ-6 priority) until 2.7
        _set(orc, 7, None, None, None, None, None, order.priority)
    _set(orc, 9, hl7_timestamp(now))
    _set(orc, 12, *_provider(order.ordering_provider))
    return orc


def _obr(order: Order, version: str, *, with_status: bool) -> Segment:
    obr = Segment("OBR", version=version)
    _set(obr, 1, "1")
    _set(obr, 2, order.placer_order_number)
    _set(obr, 3, order.filler_order_number)
    _set(obr, 4, order.service_code, order.service_text, order.coding_system)
    if order.observed_at:
        _set(obr, 7, hl7_timestamp(order.observed_at))
    _set(obr, 16, *_provider(order.ordering_provider))
    if with_status:
        _set(obr, 25, order.result_status)
    if version == "2.3":  # OBR-27 quantity/timing is required in 2.3
        _set(obr, 27, None, None, None, None, None, order.priority)
    return obr


def _obx(observation: Observation, index: int, version: str) -> Segment:
    obx = Segment("OBX", version=version)
    _set(obx, 1, str(index))
    _set(obx, 2, observation.value_type)
    _set(obx, 3, observation.code, observation.text, observation.coding_system)
    _set(obx, 4, "1")  # sub-id: required in some versions, and all our values belong to one group
    _set(obx, 5, observation.value)
    _set(obx, 6, observation.units)
    _set(obx, 7, observation.reference_range)
    _set(obx, 8, observation.abnormal_flag)
    _set(obx, 11, observation.status)
    if observation.observed_at:
        _set(obx, 14, hl7_timestamp(observation.observed_at))
    return obx


def build_message(request: BuildRequest) -> BuiltMessage:
    """Build one message; raises `BuildError` with the problems if the result does not validate."""
    header, patient = request.header, request.resolved_patient()
    version = LIBRARY_VERSIONS.get(header.version, header.version)  # the tables the segments are built from
    now = header.timestamp or datetime.now(UTC)
    control_id = header.control_id or new_control_id()
    kind = request.message_type
    structure = {"ADT": "ADT_A01", "ORU": "ORU_R01", "ORM": "ORM_O01"}[kind[:3]]
    segments = [_msh(header, kind, structure, control_id, now, version)]
    if kind.startswith("ADT"):
        evn = Segment("EVN", version=version)
        if version in _BEFORE_27:  # EVN-1 was withdrawn in 2.7 (the trigger lives in MSH-9)
            _set(evn, 1, kind[4:])
        _set(evn, 2, hl7_timestamp(now))
        segments += [evn, _pid(patient, version), _pv1(request.visit or Visit(), version)]
    elif kind == "ORU^R01":
        assert request.order is not None
        segments.append(_pid(patient, version))
        if request.visit:
            segments.append(_pv1(request.visit, version))
        segments += [_orc(request.order, version, now), _obr(request.order, version, with_status=True)]
        segments += [_obx(o, i, version) for i, o in enumerate(request.observations, start=1)]
    else:
        assert request.order is not None
        segments.append(_pid(patient, version))
        if request.visit:
            segments.append(_pv1(request.visit, version))
        segments += [_orc(request.order, version, now), _obr(request.order, version, with_status=False)]
    text = "\r".join(segment.to_er7() for segment in segments)
    problems = inspect(text).errors
    if problems:
        raise BuildError("; ".join(f"{p['location']}: {p['message']}" for p in problems))
    return BuiltMessage(
        message=text,
        message_type=kind,
        version=header.version,
        control_id=control_id,
        patient_id=patient.identifiers[0].value,
    )
