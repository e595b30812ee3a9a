"""Building ADT/ORU/ORM from structured input and from a FHIR patient summary: build → parse → validate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import hl7
import pytest
from pydantic import ValidationError

from tools.hl7.build import build_message
from tools.hl7.build_models import BuildRequest
from tools.hl7.message import explain, inspect

PATIENT = {
    "mrn": "12345",
    "family_name": "O'Brien^Smith",  # a delimiter inside a value must be escaped, not split
    "given_name": "John",
    "birth_date": "1980-02-03",
    "sex": "M",
    "address": {"street": "1 Main St", "city": "Boston", "state": "MA", "postal_code": "02110"},
    "phone": "555-1234",
}
ORDER = {
    "placer_order_number": "P1",
    "service_code": "2345-7",
    "service_text": "Glucose",
    "ordering_provider": {"id": "D1"},
}
OBSERVATIONS = [
    {
        "code": "2345-7",
        "text": "Glucose",
        "value_type": "NM",
        "value": "105",
        "units": "mg/dL",
        "reference_range": "70-99",
        "abnormal_flag": "H",
    }
]
FHIR_PATIENT = {
    "id": "pat-42",
    "name": "Anna Maria Jones",
    "birth_date": "1975-11-30",
    "gender": "female",
    "identifiers": [
        {"system": "http://hospital.example.org/ssn", "value": "999-99-9999"},
        {"system": "http://hospital.example.org/mrn", "value": "MRN777"},
    ],
    "address": {"line": ["2 Elm St", "Apt 3"], "city": "Springfield", "state": "IL", "postal_code": "62701"},
    "phone": "555-0100",
}


def request(kind: str, version: str = "2.5.1", **extra: Any) -> BuildRequest:
    body: dict[str, Any] = {
        "message_type": kind,
        "patient": PATIENT,
        "visit": {"patient_class": "I", "ward": "W", "room": "101", "bed": "1"},
        "header": {"version": version, "receiving_application": "LIS", "receiving_facility": "LAB"},
    }
    if kind in ("ORU^R01", "ORM^O01"):
        body["order"] = ORDER
    if kind == "ORU^R01":
        body["observations"] = OBSERVATIONS
    return BuildRequest.model_validate(body | extra)


CASES = [
    (kind, version)
    for version in ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8")
    for kind in ("ADT^A01", "ADT^A04", "ADT^A08", "ORU^R01", "ORM^O01")
    if not (kind == "ORM^O01" and version in ("2.7", "2.7.1", "2.8"))
]


@pytest.mark.parametrize(("kind", "version"), CASES)
def test_every_type_and_version_round_trips_through_our_validator(kind: str, version: str) -> None:
    built = build_message(request(kind, version))
    result = inspect(built.message)
    assert result.errors == []
    if version == "2.3" and kind in ("ADT^A04", "ADT^A08"):  # 2.3 defines no structure for these triggers
        assert [w["location"] for w in result.warnings] == ["MSH-9"]
    else:
        assert result.warnings == []
    summary = result.summary
    assert (summary.message_type, summary.trigger_event) == tuple(kind.split("^"))
    assert (summary.version, summary.control_id, summary.patient_id) == (version, built.control_id, "12345")
    assert summary.patient_name == "John O'Brien\\S\\Smith"


def test_msh_carries_parties_time_version_and_a_fresh_control_id() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    first = build_message(request("ADT^A04", header={"control_id": "CTRL-1", "timestamp": at, "version": "2.5.1"}))
    msh = first.message.split("\r")[0].split("|")
    assert msh[:12] == [
        "MSH",
        "^~\\&",
        "SWITCHBOARD",
        "SWITCHBOARD",
        "",
        "",
        "20260304050607+0000",
        "",
        "ADT^A04^ADT_A01",
        "CTRL-1",
        "P",
        "2.5.1",
    ]
    a, b = build_message(request("ADT^A01")), build_message(request("ADT^A01"))
    assert a.control_id != b.control_id and len(a.control_id) <= 20
    assert a.message.split("\r")[0].split("|")[4:6] == ["LIS", "LAB"]


def test_values_are_escaped_and_read_back_by_a_second_library() -> None:
    built = build_message(request("ORU^R01"))
    parsed = hl7.parse(built.message)  # python-hl7, independent of the hl7apy that built it
    pid = parsed.segment("PID")
    assert str(pid[5]) == "O'Brien\\S\\Smith^John"
    assert parsed.unescape(str(pid[5][0][0])) == "O'Brien^Smith"
    obx = parsed.segment("OBX")
    assert (str(obx[3]), str(obx[5]), str(obx[6]), str(obx[8])) == ("2345-7^Glucose^LN", "105", "mg/dL", "H")
    explained = explain(built.message)
    names = {f["position"]: f["name"] for s in explained["segments"] for f in s["fields"]}
    assert names["OBX-5"] == "Observation Value" and names["PID-5"] == "Patient Name"


def test_from_a_fhir_patient_summary() -> None:
    built = build_message(BuildRequest(message_type="ADT^A08", fhir_patient=FHIR_PATIENT))
    assert built.patient_id == "MRN777"  # the MRN goes first, whatever order FHIR lists identifiers in
    pid = hl7.parse(built.message).segment("PID")
    assert str(pid[3]) == "MRN777^^^mrn^MR~999-99-9999^^^ssn^PI~pat-42^^^FHIR^PI"
    assert (str(pid[5]), str(pid[7]), str(pid[8])) == ("Jones^Anna^Maria", "19751130", "F")
    assert str(pid[11]) == "2 Elm St Apt 3^^Springfield^IL^62701"
    assert inspect(built.message).problems == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"message_type": "ADT^A01"}, "exactly one of patient or fhir_patient"),
        ({"message_type": "ADT^A01", "patient": {"family_name": "X"}}, "MRN or at least one identifier"),
        ({"message_type": "ORU^R01", "patient": PATIENT, "order": ORDER}, "at least one observation"),
        ({"message_type": "ORM^O01", "patient": PATIENT}, "needs an order"),
        (
            {"message_type": "ORM^O01", "patient": PATIENT, "order": ORDER, "header": {"version": "2.7"}},
            "up to HL7 2.6",
        ),
        ({"message_type": "ADT^A01", "patient": {**PATIENT, "family_name": "X\rPID|evil"}}, "pattern"),
        ({"message_type": "ADT^A01", "patient": PATIENT, "header": {"control_id": "A|B"}}, "pattern"),
        ({"message_type": "ADT^A01", "fhir_patient": {"id": "1", "name": ""}}, "name is missing"),
        ({"message_type": "ADT^A99", "patient": PATIENT}, "ADT^A01"),
    ],
)
def test_bad_input_is_refused_with_a_reason(body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BuildRequest.model_validate(body)
    assert fragment in str(caught.value)
