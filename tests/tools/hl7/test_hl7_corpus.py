"""A corpus of real-world-shaped messages (tests/tools/hl7/corpus): what we read, what we flag, where.

The files keep their own segment separators (\\r, \\n, \\r\\n, and the two characters "\\r" from a
JSON paste), so they are read as bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.hl7.message import explain, inspect

CORPUS = Path(__file__).parent / "corpus"


def load(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def fields(explained: dict[str, Any], position: str) -> list[dict[str, Any]]:
    return [f for s in explained["segments"] for f in s["fields"] if f["position"] == position]


# file, (type, trigger, version, control id, patient id), {location: words in the message}
CASES: list[tuple[str, tuple[str, str, str, str, str], dict[str, str]]] = [
    ("adt_a01_v251_repetitions.hl7", ("ADT", "A01", "2.5.1", "E1234567", "4455667"), {}),
    (
        "oru_r01_v23_escapes.hl7",
        ("ORU", "R01", "2.3", "LAB000123", "55555"),
        {"ORC-7": "required", "OBR-27": "required"},
    ),
    ("orm_o01_v231.hl7", ("ORM", "O01", "2.3.1", "ORM20240611001", "998877"), {}),
    ("siu_s12_v251.hl7", ("SIU", "S12", "2.5.1", "SIU0001", "31415"), {}),
    ("vxu_v04_v27_zsegment.hl7", ("VXU", "V04", "2.7", "VXU778899", "66778"), {"ZVX": "Z-segment"}),
    (
        "adt_a04_v23_zsegment.hl7",
        ("ADT", "A04", "2.3", "A04-0001", "7777"),
        {"MSH-9": "No ADT^A04 message structure in HL7 2.3", "ZPD": "Z-segment"},
    ),
    ("adt_a08_custom_delimiters.hl7", ("ADT", "A08", "2.5.1", "ENC0001", "5151"), {}),
    ("adt_literal_backslash_r.hl7", ("ADT", "A01", "2.5.1", "LIT", "2468"), {"EVN": "Missing required child"}),
    (
        "oru_r01_bad_datatypes.hl7",
        ("ORU", "R01", "2.5.1", "BAD0001", "24680"),
        {"PID-7": "NOT-A-DATE", "OBX-11": "OBX-11"},
    ),
    ("oru_r01_out_of_order.hl7", ("ORU", "R01", "2.5.1", "ORDER0001", "13579"), {"OBR": "OBR comes after OBX"}),
]


@pytest.mark.parametrize(("name", "facts", "warnings"), CASES, ids=[c[0] for c in CASES])
def test_corpus_summary_and_located_warnings(
    name: str, facts: tuple[str, str, str, str, str], warnings: dict[str, str]
) -> None:
    result = inspect(load(name))
    summary = result.summary
    assert (
        summary.message_type,
        summary.trigger_event,
        summary.version,
        summary.control_id,
        summary.patient_id,
    ) == facts
    assert result.errors == []
    found = {w["location"]: w["message"] for w in result.warnings}
    assert set(found) == set(warnings), found
    for location, words in warnings.items():
        assert words in found[location]


def test_repetitions_and_non_ascii_are_explained_one_by_one() -> None:
    explained = explain(load("adt_a01_v251_repetitions.hl7"))
    assert [f["value"] for f in fields(explained, "PID-3")] == ["4455667^^^UCSF^MR", "123-45-6789^^^SSA^SS"]
    assert [f["value"] for f in fields(explained, "PID-5")] == ["GARCÍA^MARÍA^L^^^^L", "GARCIA^MARIA^^^^^A"]
    assert [f["value"] for f in fields(explained, "AL1-5")] == ["Hives", "Anaphylaxis"]
    assert fields(explained, "PID-5")[0]["name"] == "Patient Name"
    assert fields(explained, "PV1-7")[0]["name"] == "Attending Doctor"
    descriptions = {s["name"]: s["description"] for s in explained["segments"]}
    assert descriptions["AL1"] == "Patient Allergy Information" and descriptions["NK1"] == "Next of Kin"


def test_escapes_keep_the_raw_value_and_give_the_readable_text() -> None:
    explained = explain(load("oru_r01_v23_escapes.hl7"))
    note = fields(explained, "NTE-3")[0]
    assert note["value"] == "Specimen slightly hemolyzed \\T\\ repeat advised.\\.br\\Called to Dr. Welby \\F\\ 09:25"
    assert note["text"] == "Specimen slightly hemolyzed & repeat advised.\nCalled to Dr. Welby | 09:25"
    assert len([s for s in explained["segments"] if s["name"] == "OBX"]) == 3
    assert "text" not in fields(explained, "OBX-5")[0]  # nothing escaped, nothing repeated
    # 2.3 names differ from 2.5.1: the names come from the declared version's tables.
    assert fields(explained, "PID-3")[0]["name"] == "Patient Id Internal Id"


def test_custom_delimiters_from_msh_are_honoured() -> None:
    explained = explain(load("adt_a08_custom_delimiters.hl7"))
    assert explained["valid"]
    assert fields(explained, "MSH-1")[0]["value"] == "#" and fields(explained, "MSH-2")[0]["value"] == "@~\\&"
    assert fields(explained, "PID-5")[0]["value"] == "SMITH@ANNE"
    assert explained["summary"]["patient_name"] == "ANNE SMITH"


def test_scheduling_and_vaccination_segments_are_named() -> None:
    siu = {s["name"]: s["description"] for s in explain(load("siu_s12_v251.hl7"))["segments"]}
    assert siu["SCH"] == "Scheduling Activity Information" and siu["AIS"] == "Appointment Information - Service"
    vxu = explain(load("vxu_v04_v27_zsegment.hl7"))
    assert fields(vxu, "RXA-5")[0]["value"] == "08^Hep B, adolescent or pediatric^CVX"
    assert fields(vxu, "ZVX-2")[0]["name"] == "Site-specific field"


@pytest.mark.parametrize(
    ("raw", "location", "words"),
    [
        (load("adt_missing_version.hl7"), "MSH-12", "missing HL7 version"),
        ("MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P|2.5.1\rPID^1^^123^^DOE", "PID", "field separator"),
        ("MSH|^^^^|A|B|C|D|2025||ADT^A01|1|P|2.5.1\rPID|1||123", "MSH-2", "four distinct delimiters"),
        ("MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P|2.5.1\rPI|1", "segment 2", "does not start with a segment id"),
    ],
)
def test_wrong_separators_are_errors_with_their_location(raw: str, location: str, words: str) -> None:
    errors = inspect(raw).errors
    assert errors and errors[-1]["location"] == location and words in errors[-1]["message"]
    explained = explain(raw)
    assert explained["valid"] is False and explained["segments"] == []


def test_fields_beyond_the_definition_are_flagged_and_still_explained() -> None:
    raw = "MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P|2.5.1\rEVN||2025\rPID|1||1^^^H^MR||DOE" + "|" * 50 + "x\rPV1|1|O"
    result = inspect(raw)
    assert [(w["location"], w["message"]) for w in result.warnings] == [
        ("PID-55", "PID-55 is not defined for PID in this version.")
    ]
    assert fields(explain(raw), "PID-55")[0]["name"] == "Not defined in this version"
