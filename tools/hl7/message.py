"""Parsing, validating and explaining HL7 v2 messages, on hl7apy.

Accepts \\r, \\n or \\r\\n segment separators and the encoding characters declared in MSH. hl7apy's
strict validation runs on the CPU, so the request path calls the `*_async` variants (thread pool).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import hl7
from hl7apy.core import Field as Hl7Field
from hl7apy.exceptions import HL7apyException
from pydantic import BaseModel, Field

from tools.hl7.validation import LIBRARY_VERSIONS, Hl7Problem, location_of, parse_hl7, structure_problems

__all__ = ["LIBRARY_VERSIONS", "Hl7Problem", "Hl7Summary", "Inspection", "escape_text", "explain", "inspect"]

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
    "RGS": "Resource Group",
    "AIS": "Appointment Information - Service",
    "AIG": "Appointment Information - General Resource",
    "AIL": "Appointment Information - Location Resource",
    "AIP": "Appointment Information - Personnel Resource",
    "SFT": "Software Segment",
    "MRG": "Merge Patient Information",
}


class FieldExplanation(BaseModel):
    position: str  # e.g. PID-5
    name: str  # e.g. Patient Name
    value: str  # as sent, escapes included
    text: str | None = None  # what the escapes stand for, when that differs from the value


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


# A message pasted from JSON or code often carries the two characters "\\r" between segments.
_LITERAL_BREAK = re.compile(r"(?:\\r\\n|\\r|\\n)(?=[A-Z][A-Z0-9]{2}[|^~#])")


def normalize(raw: str) -> str:
    """One message, segments separated by \\r, starting at MSH (text before it is dropped)."""
    text = raw.strip()
    if "\r" not in text and "\n" not in text:
        text = _LITERAL_BREAK.sub("\r", text)
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    start = text.find("MSH")
    text = text[start:] if start >= 0 else text
    return "\r".join(segment.strip() for segment in text.split("\r") if segment.strip())


def escape_text(text: str) -> str:
    """Text safe inside one HL7 component: delimiters as escape sequences, line breaks as spaces."""
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
        .replace("\r", " ")
        .replace("\n", " ")
    )


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


def inspect(raw: str, *, deep: bool = True) -> Inspection:
    """Parse and validate; every problem carries its segment/field location.

    `deep=False` stops after the checks that tell whether a receiver can read the message at all
    (MSH, delimiters, version, type, control id, segment ids): string work only, ~100 times cheaper than
    hl7apy's structure and datatype checks, and all the engine needs to route a message."""
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
    problems.extend(_delimiter_problems(text))
    if problems or not deep:
        return Inspection(normalized=text, summary=summary, problems=problems)
    kind = f"{summary.message_type}^{summary.trigger_event}" if summary.trigger_event else str(summary.message_type)
    structure = structure_problems(text, kind, summary.structure, summary.version or "")
    if structure:
        # Only now is a tolerant parse worth its cost (hl7apy parses are the expensive part): it tells a
        # message a receiver cannot read (error) from one that bends the rules (warnings).
        try:
            parse_hl7(text, strict=False)
        except (HL7apyException, ValueError, TypeError) as exc:  # hl7apy raises plain ValueError for bad data
            problems.append(Hl7Problem(severity="error", location=location_of(str(exc)), message=str(exc)))
            return Inspection(normalized=text, summary=summary, problems=problems)
    problems.extend(structure)
    for name in dict.fromkeys(segment[:3] for segment in text.split("\r")):
        if name.startswith("Z"):
            problems.append(
                Hl7Problem(
                    severity="warning", location=name, message="Custom Z-segment (site-specific, not validated)."
                )
            )
    return Inspection(normalized=text, summary=summary, problems=problems)


def _delimiter_problems(text: str) -> list[Hl7Problem]:
    """MSH-2 must declare four distinct delimiters, and every segment must use MSH-1 after its name."""
    segments = text.split("\r")
    separator, encoding = segments[0][3], segments[0][4:].split(segments[0][3], 1)[0]
    problems: list[Hl7Problem] = []
    delimiters = separator + encoding[:4]
    if len(encoding) < 4 or len(set(delimiters)) != 5 or any(c.isalnum() or c.isspace() for c in delimiters):
        problems.append(
            Hl7Problem(
                severity="error",
                location="MSH-2",
                message=f"Encoding characters {encoding!r} must be four distinct delimiters, e.g. ^~\\&.",
            )
        )
    for number, segment in enumerate(segments[1:], start=2):
        if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", segment[:3]):
            problems.append(
                Hl7Problem(
                    severity="error",
                    location=f"segment {number}",
                    message=f"Segment {number} does not start with a segment id such as PID (found {segment[:12]!r}).",
                )
            )
        elif len(segment) > 3 and segment[3] != separator:
            problems.append(
                Hl7Problem(
                    severity="error",
                    location=segment[:3],
                    message=f"Segment {number} ({segment[:3]}) uses {segment[3]!r} after its name; "
                    f"MSH declares {separator!r} as the field separator.",
                )
            )
    return problems


def explain(raw: str) -> dict[str, Any]:
    """Every segment and populated field (each repetition) with its standard name, its raw value as
    sent and, when escapes change it, the text it stands for; plus summary and problems."""
    inspection = inspect(raw)
    segments: list[SegmentExplanation] = []
    if not inspection.errors:
        text = inspection.normalized
        version = inspection.summary.version or ""
        separator, repetition = text[3], text[5]
        unescape = _unescaper(text)
        for segment in text.split("\r"):
            name = segment[:3]
            explained = SegmentExplanation(
                name=name, description=SEGMENT_NAMES.get(name, "Custom segment" if name.startswith("Z") else name)
            )
            values = segment.split(separator)
            # MSH-1 is the separator itself, so MSH's n-th value is MSH-(n+1).
            offset = 1 if name == "MSH" else 0
            if name == "MSH":
                explained.fields.append(FieldExplanation(position="MSH-1", name="Field Separator", value=separator))
            for index, value in enumerate(values[1:], start=1):
                position = index + offset
                encoding = (name, position) == ("MSH", 2)  # the delimiters themselves: no repetitions, no escapes
                repetitions = [value] if encoding else value.split(repetition)
                label = field_name(version, name, position)
                for item in (r for r in repetitions if r):
                    readable = unescape(item) if unescape and not encoding else item
                    explained.fields.append(
                        FieldExplanation(
                            position=f"{name}-{position}",
                            name=label,
                            value=item,
                            text=readable if readable != item else None,
                        )
                    )
            segments.append(explained)
    return {
        "summary": inspection.summary.model_dump(exclude_none=True),
        "segments": [s.model_dump(exclude_none=True) for s in segments],
        "problems": [p.model_dump() for p in inspection.problems],
        "valid": not inspection.errors,
    }


@lru_cache(maxsize=4096)
def field_name(version: str, segment: str, position: int) -> str:
    """The standard's name for SEG-n in `version` (hl7apy's tables), e.g. PID-5 → Patient Name."""
    try:
        long_name = Hl7Field(f"{segment}_{position}", version=LIBRARY_VERSIONS.get(version, version)).long_name
    except (HL7apyException, ValueError, TypeError, KeyError):
        long_name = None
    if long_name:
        return str(long_name).replace("_", " ").title()
    return "Site-specific field" if segment.startswith("Z") else "Not defined in this version"


def _unescaper(text: str) -> Callable[[str], str] | None:
    """python-hl7's unescape with the message's own delimiters (\\F\\ → |, \\.br\\ → line break...)."""
    try:
        parsed = hl7.parse(text)
    except Exception:  # python-hl7 is only the second opinion here; without it values stay raw
        return None

    def unescape(value: str) -> str:
        try:
            return str(parsed.unescape(value)).replace("\r", "\n")
        except Exception:
            return value

    return unescape


async def inspect_async(raw: str) -> Inspection:
    return await asyncio.to_thread(inspect, raw)


async def explain_async(raw: str) -> dict[str, Any]:
    return await asyncio.to_thread(explain, raw)
