"""Parsing, validation, explanation and ACKs on real-world-shaped messages."""

from __future__ import annotations

import pytest

from tools.hl7.ack import build_ack, parse_ack
from tools.hl7.message import explain, inspect, normalize

ADT_A01 = (
    "MSH|^~\\&|EPIC|HOSP|LIS|LAB|20250101120000||ADT^A01^ADT_A01|MSG00001|P|2.5.1\r"
    "EVN|A01|20250101120000\r"
    "PID|1||12345^^^HOSP^MR~987^^^SSA^SS||DOE^JANE^Q||19800402|F|||1 MAIN ST^^BOSTON^MA^02110\r"
    "PV1|1|I|W^101^1"
)
ORU_R01_23 = (
    "MSH|^~\\&|LAB|HOSP|EMR|HOSP|20250102080000||ORU^R01|LAB0042|P|2.3\n"
    "PID|1||55555^^^HOSP^MR||ROE^RICHARD\n"
    "OBR|1||ORD1|2345-7^GLUCOSE^LN\n"
    "OBX|1|NM|2345-7^GLUCOSE^LN||105|mg/dL|70-99|H|||F\n"
    "NTE|1||Fasting \\T\\ repeat advised"
)
VXU_V04_27 = (
    "MSH|^~\\&|IIS|STATE|EMR|CLINIC|20250103||VXU^V04^VXU_V04|VX1|P|2.7\r\n"
    "PID|1||777^^^CLINIC^MR||SMITH^ANNA\r\n"
    "RXA|0|1|20250103|20250103|08^HEPB^CVX|0.5|mL\r\n"
    "ZIM|1|site specific"
)


@pytest.mark.parametrize(
    ("raw", "kind", "version", "patient"),
    [
        (ADT_A01, ("ADT", "A01"), "2.5.1", "12345"),
        (ORU_R01_23, ("ORU", "R01"), "2.3", "55555"),
        (VXU_V04_27, ("VXU", "V04"), "2.7", "777"),
    ],
)
def test_corpus_parses_with_any_separator(raw: str, kind: tuple[str, str], version: str, patient: str) -> None:
    result = inspect(raw)
    assert not result.errors, result.problems
    assert (result.summary.message_type, result.summary.trigger_event) == kind
    assert result.summary.version == version and result.summary.patient_id == patient
    assert "\n" not in result.normalized


def test_structure_warnings_and_z_segments_for_the_declared_type_and_version() -> None:
    warnings = {p.location: p.message for p in inspect(VXU_V04_27).problems if p.severity == "warning"}
    assert "Custom Z-segment" in warnings["ZIM"]
    assert "ORC" in warnings["ORC"]  # VXU^V04 in 2.7 requires an ORC in its order group


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        ("PID|1||12345", "MSH"),
        ("hello world", "MSH"),
        ("MSH|^~\\&|A|B|C|D|2025||ADT^A01|1|P|9.9", "MSH-12"),
        ("MSH|^~\\&|A|B|C|D|2025||ADT^A01||P|2.5.1", "MSH-10"),
        ("MSH|^~\\&|A|B|C|D|2025|||1|P|2.5.1", "MSH-9"),
    ],
)
def test_broken_messages_name_the_problem_location(raw: str, location: str) -> None:
    errors = inspect(raw).errors
    assert errors and errors[0]["location"] == location


def test_text_before_msh_is_ignored() -> None:
    assert normalize("Please look at this:\n" + ADT_A01).startswith("MSH|")


def test_explain_names_fields_and_keeps_repetitions_and_escapes() -> None:
    explained = explain(ORU_R01_23)
    assert explained["valid"]
    obx = next(s for s in explained["segments"] if s["name"] == "OBX")
    assert obx["description"] == "Observation/Result"
    names = {f["position"]: f["name"] for f in obx["fields"]}
    assert names["OBX-5"] == "Observation Value" and names["OBX-6"] == "Units"
    pid = next(s for s in explain(ADT_A01)["segments"] if s["name"] == "PID")
    ids = [f["value"] for f in pid["fields"] if f["position"] == "PID-3"]
    assert ids == ["12345^^^HOSP^MR", "987^^^SSA^SS"]  # each repetition explained
    nte = next(s for s in explained["segments"] if s["name"] == "NTE")
    assert any("\\T\\" in f["value"] for f in nte["fields"])


def test_ack_swaps_sender_and_receiver_and_echoes_control_id() -> None:
    ack = build_ack(ADT_A01, "AA", "ok")
    msh, msa = ack.strip("\r").split("\r")[:2]
    fields = msh.split("|")
    assert fields[2:6] == ["LIS", "LAB", "EPIC", "HOSP"]
    assert fields[8] == "ACK^A01^ACK" and fields[11] == "2.5.1"
    assert msa.split("|")[:3] == ["MSA", "AA", "MSG00001"]
    error = parse_ack(build_ack(ADT_A01, "AE", "PID-3|bad"))
    assert (error.code, error.acked_control_id) == ("AE", "MSG00001")
    assert error.error and "PID-3" in error.error
