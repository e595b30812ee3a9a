"""Parsing, validating and explaining HL7 v2 messages, on hl7apy.

Accepts \\r, \\n or \\r\\n segment separators and the encoding characters declared in MSH. hl7apy's
strict validation runs on the CPU, so the request path calls the `*_async` variants (thread pool).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_message
from pydantic import BaseModel, Field

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2")

SEGMENT_NAMES = {
    "MSH": "Message Header",
    "EVN": "Event Type",
    "PID": "Patient Identification",
    "PD1": "Patient Additional Demographic",
    "NK1": "Next of Kin",
    "PV1": "Patient Visit",
    "PV2": "Patient Visit - Additional Info",
    "OBR": "Observation Request",
    "OBX": "Observation/Result",
    "ORC": "Common Order",
    "NTE": "Notes and Comments",
    "AL1": "Patient Allergy Information",
    "DG1": "Diagnosis",
    "IN1": "Insurance",
    "GT1": "Guarantor",
    "MSA": "Message Acknowledgment",
    "ERR": "Error",
    "SCH": "Scheduling Activity Information",
    "RXA": "Pharmacy/Treatment Administration",
    "RXR": "Pharmacy/Treatment Route",
    "QRD": "Original-Style Query Definition",
    "QRF": "Original Style Query Filter",
    "SPM": "Specimen",
    "TQ1": "Timing/Quantity",
}


class Hl7Problem(BaseModel):
    severity: Literal["error", "warning"]
    location: str
    message: str


class FieldExplanation(BaseModel):
    position: str  # e.g. PID-5
    name: str  # e.g. Patient Name
    value: str


class SegmentExplanation(BaseModel):
    name: str
    description: str
    fields: list[FieldExplanation] = Field(default_factory=list)


class Hl7Summary(BaseModel):
    message_type: str | None = None
    trigger_event: str | None = None
    structure: str | None = None
    version: str | None = None
    control_id: str | None = None
    sending_application: str | None = None
    sending_facility: str | None = None
    receiving_application: str | None = None
    receiving_facility: str | None = None
    timestamp: str | None = None
    patient_id: str | None = None
    patient_name: str | None = None
    segments: list[str] = Field(default_factory=list)


class Inspection(BaseModel):
    """Everything a caller needs from one message: summary, problems, the normalised text."""

    normalized: str
    summary: Hl7Summary
    problems: list[Hl7Problem]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p.model_dump() for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [p.model_dump() for p in self.problems if p.severity == "warning"]


def normalize(raw: str) -> str:
    """One message, segments separated by \\r, starting at MSH (text before it is dropped)."""
    text = raw.strip().replace("\r\n", "\r").replace("\n", "\r")
    start = text.find("MSH")
    text = text[start:] if start >= 0 else text
    return "\r".join(segment.strip() for segment in text.split("\r") if segment.strip())


def _fields(segment: str, separator: str) -> list[str]:
    return segment.split(separator)


def summarize(raw: str) -> Hl7Summary:
    """Header and patient facts read positionally (works even for messages hl7apy rejects)."""
    text = normalize(raw)
    segments = text.split("\r") if text else []
    summary = Hl7Summary(segments=[s[:3] for s in segments])
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return summary
    separator = segments[0][3]
    component = segments[0][4] if len(segments[0]) > 4 else "^"
    msh = ["", *_fields(segments[0], separator)]  # so that msh[n] is MSH-n

    def get(values: list[str], index: int) -> str | None:
        return values[index] or None if index < len(values) else None

    kind = (get(msh, 9) or "").split(component)
    summary.message_type = kind[0] or None
    summary.trigger_event = kind[1] if len(kind) > 1 and kind[1] else None
    summary.structure = kind[2] if len(kind) > 2 and kind[2] else None
    summary.sending_application, summary.sending_facility = get(msh, 3), get(msh, 4)
    summary.receiving_application, summary.receiving_facility = get(msh, 5), get(msh, 6)
    summary.timestamp, summary.control_id = get(msh, 7), get(msh, 10)
    summary.version = (get(msh, 12) or "").split(component)[0] or None
    for segment in segments:
        if segment.startswith("PID" + separator):
            pid = _fields(segment, separator)
            ids = pid[3] if len(pid) > 3 else ""
            summary.patient_id = ids.split("~")[0].split(component)[0] or None
            name = pid[5].split("~")[0].split(component) if len(pid) > 5 else []
            summary.patient_name = " ".join(p for p in (name[1:2] + name[:1]) if p) or None
            break
    return summary


def _parse(text: str, strict: bool) -> Message:
    level = VALIDATION_LEVEL.STRICT if strict else VALIDATION_LEVEL.TOLERANT
    return parse_message(text, validation_level=level, find_groups=strict)


def inspect(raw: str) -> Inspection:
    """Parse and validate; every problem carries its segment/field location."""
    text = normalize(raw)
    summary = summarize(text)
    problems: list[Hl7Problem] = []
    if not text.startswith("MSH") or len(text) < 8:
        problems.append(
            Hl7Problem(
                severity="error", location="MSH", message="The message must start with an MSH segment (MSH|^~\\&|...)."
            )
        )
        return Inspection(normalized=text, summary=summary, problems=problems)
    if summary.version not in SUPPORTED_VERSIONS:
        problems.append(
            Hl7Problem(
                severity="error", location="MSH-12", message=f"Unsupported or missing HL7 version {summary.version!r}."
            )
        )
    if not summary.message_type:
        problems.append(Hl7Problem(severity="error", location="MSH-9", message="Missing message type."))
    if not summary.control_id:
        problems.append(Hl7Problem(severity="error", location="MSH-10", message="Missing message control id."))
    if problems:
        return Inspection(normalized=text, summary=summary, problems=problems)
    try:
        message = _parse(text, strict=False)
    except HL7apyException as exc:
        problems.append(Hl7Problem(severity="error", location=_location(str(exc)), message=str(exc)))
        return Inspection(normalized=text, summary=summary, problems=problems)
    try:
        strict = _parse(text, strict=True)
        strict.validate()
    except HL7apyException as exc:
        # Structure problems of the declared type/version are reported, not fatal: real feeds bend rules.
        problems.append(Hl7Problem(severity="warning", location=_location(str(exc)), message=str(exc)))
    for segment in message.children:
        if segment.name.startswith("Z"):
            problems.append(
                Hl7Problem(
                    severity="warning",
                    location=segment.name,
                    message="Custom Z-segment (site-specific, not validated).",
                )
            )
    return Inspection(normalized=text, summary=summary, problems=problems)


def _location(text: str) -> str:
    match = re.search(r"\b([A-Z][A-Z0-9]{2})(?:[_-](\d+))?\b", text)
    if not match:
        return "message"
    return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")


def explain(raw: str) -> dict[str, Any]:
    """Every segment and populated field with its standard name and value, plus summary and problems."""
    inspection = inspect(raw)
    segments: list[SegmentExplanation] = []
    if not inspection.errors:
        message = _parse(inspection.normalized, strict=False)
        for segment in message.children:
            explained = SegmentExplanation(
                name=segment.name,
                description=SEGMENT_NAMES.get(
                    segment.name, "Custom segment" if segment.name.startswith("Z") else segment.name
                ),
            )
            for field in segment.children:
                value = field.value if isinstance(field.value, str) else field.to_er7()
                if not value:
                    continue
                position = field.name.replace("_", "-")
                long_name = (field.long_name or position).replace("_", " ").title()
                explained.fields.append(FieldExplanation(position=position, name=long_name, value=value))
            segments.append(explained)
    return {
        "summary": inspection.summary.model_dump(exclude_none=True),
        "segments": [s.model_dump() for s in segments],
        "problems": [p.model_dump() for p in inspection.problems],
        "valid": not inspection.errors,
    }


async def inspect_async(raw: str) -> Inspection:
    return await asyncio.to_thread(inspect, raw)


async def explain_async(raw: str) -> dict[str, Any]:
    return await asyncio.to_thread(explain, raw)
