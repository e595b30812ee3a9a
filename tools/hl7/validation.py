"""Checking a message against hl7apy's tables for its declared version and type, problem by problem.

The fast path is one strict parse of the whole message. Only when that fails do we look closer:
segment by segment, then field by field, so a message with three bad fields reports three located
problems (`PID-7`, `OBX-11`...) instead of hl7apy's first exception. Structure problems are warnings:
real feeds bend the rules, and the receiver decides.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from hl7apy import load_library
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_field, parse_message, parse_segment
from pydantic import BaseModel

# Versions read with another release's tables. hl7apy has none for 2.7.1 (which only clarified 2.7),
# and its 2.8.x tables leave withdrawn fields out, which shifts every later field (OBR-25 is read as
# OBR-23). 2.8 kept withdrawn fields as placeholders and only appended new ones, so 2.7's tables place
# every field a 2.8 message shares with 2.7 correctly.
LIBRARY_VERSIONS = {"2.7.1": "2.7", "2.8": "2.7", "2.8.1": "2.7", "2.8.2": "2.7"}

# Trigger events that share a message structure; older feeds often leave MSH-9.3 empty.
_SHARED_STRUCTURES = {
    **dict.fromkeys(("ADT^A01", "ADT^A04", "ADT^A08", "ADT^A13"), "ADT_A01"),
    **dict.fromkeys(("ADT^A05", "ADT^A14", "ADT^A28", "ADT^A31"), "ADT_A05"),
    **dict.fromkeys(("ADT^A06", "ADT^A07"), "ADT_A06"),
    **dict.fromkeys(("SIU^S12", "SIU^S13", "SIU^S14", "SIU^S15", "SIU^S17", "SIU^S26"), "SIU_S12"),
}
_FAILURES = (HL7apyException, ValueError, TypeError)  # hl7apy raises plain ValueError for bad datatypes


class Hl7Problem(BaseModel):
    severity: Literal["error", "warning"]
    location: str
    message: str


def parse_hl7(text: str, *, strict: bool) -> Message:
    """hl7apy's parse of a normalised message (\\r separators), with version aliases applied."""
    level = VALIDATION_LEVEL.STRICT if strict else VALIDATION_LEVEL.TOLERANT
    return parse_message(_rewrite_msh(text, version_aliases=True), validation_level=level, find_groups=strict)


def structure_problems(text: str, kind: str, structure: str | None, version: str) -> list[Hl7Problem]:
    """Located problems of `text` against the tables of `version` for message `kind` (e.g. ADT^A04)."""
    library_version = LIBRARY_VERSIONS.get(version, version)
    filled = None if structure or version == "2.3" else _SHARED_STRUCTURES.get(kind)  # 2.3 has no MSH-9.3
    if (structure or filled or kind.replace("^", "_")) not in load_library(library_version).MESSAGES:
        return [
            Hl7Problem(
                severity="warning",
                location="MSH-9",
                message=f"No {kind} message structure in HL7 {version} to check against; "
                "segments and fields were parsed but their order was not validated.",
            )
        ]
    try:
        parsed = parse_message(
            _rewrite_msh(text, version_aliases=True, structure=filled),
            validation_level=VALIDATION_LEVEL.STRICT,
            find_groups=True,
        )
        parsed.validate()
        return _order_problems(parsed)
    except _FAILURES as exc:
        detail = str(exc)
    located = _segment_problems(text, library_version)
    if located:
        return located
    if "Missing required child" in detail and ("CHOICE" in detail or "SUPPGRP" in detail):
        return []  # hl7apy models "one of OBR/RQD/RXO/..." choice groups as "all of": not a real problem
    return [Hl7Problem(severity="warning", location=location_of(detail), message=_describe(detail))]


def _order_problems(element: Any) -> list[Hl7Problem]:
    """Segments out of the standard's order inside a group (hl7apy's `validate` does not check order)."""
    problems: list[Hl7Problem] = []
    reference = element.reference
    if element.classname not in ("Message", "Group") or not reference or len(reference) < 2:
        return problems
    order = [child[0] for child in reference[1]]
    previous: Any = None
    for child in element.children:
        known = previous is not None and child.name in order and previous.name in order
        if known and order.index(child.name) < order.index(previous.name):
            problems.append(
                Hl7Problem(
                    severity="warning",
                    location=_first_segment(child),
                    message=f"{_first_segment(child)} comes after {_first_segment(previous)}, but "
                    f"{element.name} puts it before.",
                )
            )
        previous = child
        problems.extend(_order_problems(child))
    return problems


def _first_segment(element: Any) -> str:
    while element.classname == "Group" and element.children:
        element = element.children[0]
    return str(element.name)


def _segment_problems(text: str, version: str) -> list[Hl7Problem]:
    header = text.split("\r", 1)[0]
    separator, encoding = header[3], header[4:8]
    if len(encoding) < 4:
        return []
    characters = {
        "FIELD": separator,
        "COMPONENT": encoding[0],
        "REPETITION": encoding[1],
        "ESCAPE": encoding[2],
        "SUBCOMPONENT": encoding[3],
        "GROUP": "\r",
        "SEGMENT": "\r",
    }
    problems: list[Hl7Problem] = []
    for segment in text.split("\r")[1:]:
        name = segment[:3]
        if name.startswith("Z") or len(segment) < 3:
            continue
        try:
            parse_segment(
                segment, version=version, encoding_chars=characters, validation_level=VALIDATION_LEVEL.STRICT
            ).validate()
            continue
        except _FAILURES as exc:
            segment_detail = str(exc)
        fields = _field_problems(segment, name, version, characters)
        problems.extend(
            fields
            or [
                Hl7Problem(
                    severity="warning", location=location_of(segment_detail, name), message=_describe(segment_detail)
                )
            ]
        )
    return problems


def _field_problems(segment: str, name: str, version: str, characters: dict[str, str]) -> list[Hl7Problem]:
    problems: list[Hl7Problem] = []
    for position, value in enumerate(segment.split(characters["FIELD"])[1:], start=1):
        for repetition in value.split(characters["REPETITION"]) if value else ():
            try:
                parse_field(
                    repetition,
                    name=f"{name}_{position}",
                    version=version,
                    encoding_chars=characters,
                    validation_level=VALIDATION_LEVEL.STRICT,
                )
            except _FAILURES as exc:
                detail = str(exc)
                if "unknown Element" in detail or "Invalid name" in detail:
                    detail = f"{name}-{position} is not defined for {name} in this version."
                problems.append(
                    Hl7Problem(severity="warning", location=f"{name}-{position}", message=_describe(detail))
                )
                break
    return problems


def _describe(detail: str) -> str:
    """hl7apy's wording, with its internal names (`OBX.OBX_11`) as positions people know (`OBX-11`)."""
    return re.sub(r"\b[A-Z][A-Z0-9]{2}\.([A-Z][A-Z0-9]{2})_(\d+)\b", r"\1-\2", detail)


def location_of(detail: str, segment: str | None = None) -> str:
    field = re.search(r"\b([A-Z][A-Z0-9]{2})_(\d+)\b", detail)
    if field:
        return f"{field.group(1)}-{field.group(2)}"
    if segment:
        return segment
    match = re.search(r"\b(?!HL7\b)([A-Z][A-Z0-9]{2})\b", detail)
    return match.group(1) if match else "message"


def _rewrite_msh(text: str, *, version_aliases: bool, structure: str | None = None) -> str:
    """MSH-12 mapped to a version hl7apy has tables for, and MSH-9.3 filled in, for validation only."""
    header, _, rest = text.partition("\r")
    if len(header) < 8:
        return text
    fields = header.split(header[3])
    component = fields[1][0] if fields[1] else "^"
    if version_aliases and len(fields) > 11:
        version, _, tail = fields[11].partition(component)
        if version in LIBRARY_VERSIONS:
            fields[11] = LIBRARY_VERSIONS[version] + (component + tail if tail else "")
    if structure and len(fields) > 8:
        kind = fields[8].split(component)
        if len(kind) >= 2 and fields[11].split(component)[0] != "2.3":  # 2.3 has no MSH-9.3
            fields[8] = component.join((kind[0], kind[1], structure))
    return header[3].join(fields) + ("\r" + rest if rest else "")
