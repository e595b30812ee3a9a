"""FHIR R4 data types read tolerantly: CodeableConcept, Coding, Quantity, Range, Ratio, `value[x]`, dates.

Each reader takes the JSON as a server sent it and answers text (or None), never raising: a bare
Coding where a CodeableConcept belongs, an R5 CodeableReference, a decimal sent as a string, a code
string where STU3 had one (clinicalStatus) all read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tools.tolerant import as_items, as_object, as_str


def when(value: Any) -> str | None:
    """A FHIR date / dateTime / instant as text (`+00:00` as `Z`); None when absent or not a date."""
    if isinstance(value, date | datetime):
        value = value.isoformat()
    text = as_str(value) if not isinstance(value, bool) else None
    return text.replace("+00:00", "Z") if text else None


def codings(concept: Any) -> list[dict[str, Any]]:
    """The codings of a CodeableConcept; a bare Coding (Encounter.class in R4) counts as one."""
    body = as_object(concept)
    found = as_items(body.get("coding"))
    if not found and ("code" in body or "display" in body):
        found = [body]
    return found


def concept_text(concept: Any) -> str | None:
    """What a person calls a CodeableConcept (its text, a display, a code); also a CodeableReference."""
    if isinstance(concept, str):
        return concept.strip() or None
    body = as_object(concept)
    if "concept" in body and not body.get("coding"):  # R5 CodeableReference
        return concept_text(body["concept"]) or as_str(as_object(body.get("reference")).get("display"))
    text = as_str(body.get("text"))
    if text:
        return text
    found_codings = codings(body)
    for key in ("display", "code"):
        for coding in found_codings:
            found = as_str(coding.get(key))
            if found:
                return found
    return None


def concept_code(concept: Any) -> tuple[str | None, str | None]:
    """The first coding's (code, system); a bare code string (STU3 clinicalStatus) is its own code."""
    if isinstance(concept, str):
        return concept.strip() or None, None
    for coding in codings(concept):
        code = as_str(coding.get("code"))
        if code:
            return code, as_str(coding.get("system"))
    return None, None


def number(value: Any) -> str | None:
    """A FHIR decimal (a JSON number, or a numeric string some servers send) without trailing zeros."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _quantity(quantity: Any) -> tuple[str | None, str | None]:
    body = as_object(quantity)
    value = number(body.get("value"))
    if value is None:
        return None, None
    comparator = as_str(body.get("comparator")) or ""
    return comparator + value, as_str(body.get("unit")) or as_str(body.get("code"))


def _range(low: Any, high: Any) -> tuple[str | None, str | None]:
    (low_value, low_unit), (high_value, high_unit) = _quantity(low), _quantity(high)
    unit = low_unit or high_unit
    if low_value and high_value:
        return f"{low_value}-{high_value}", unit
    if low_value:
        return f"≥{low_value}", unit
    if high_value:
        return f"≤{high_value}", unit
    return None, None


def value_of(element: dict[str, Any]) -> tuple[str | None, str | None]:
    """An element's `value[x]` as (value, unit), whichever R4 variant it came in."""
    if "valueQuantity" in element:
        return _quantity(element["valueQuantity"])
    if "valueCodeableConcept" in element:
        return concept_text(element["valueCodeableConcept"]), None
    if "valueRange" in element:
        body = as_object(element["valueRange"])
        return _range(body.get("low"), body.get("high"))
    if "valueRatio" in element:
        body = as_object(element["valueRatio"])
        (top, top_unit), (bottom, bottom_unit) = _quantity(body.get("numerator")), _quantity(body.get("denominator"))
        if top and bottom:
            return f"{top}/{bottom}", "/".join(u for u in (top_unit, bottom_unit) if u) or None
        return None, None
    if "valueSampledData" in element:
        body = as_object(element["valueSampledData"])
        data = as_str(body.get("data"))
        points = len(data.split()) if data else 0
        return f"sampled data ({points} points)", as_str(as_object(body.get("origin")).get("unit"))
    if "valuePeriod" in element:
        body = as_object(element["valuePeriod"])
        start, end = when(body.get("start")), when(body.get("end"))
        return (f"{start or '?'} - {end or 'ongoing'}" if start or end else None), None
    if "valueBoolean" in element and isinstance(element["valueBoolean"], bool):
        return str(element["valueBoolean"]).lower(), None
    if "valueInteger" in element:
        return number(element["valueInteger"]), None
    for key in ("valueString", "valueTime", "valueDateTime"):
        if key in element:
            return as_str(element[key]), None
    return None, None


def reference_range(observation: dict[str, Any]) -> str | None:
    for entry in as_items(observation.get("referenceRange")):
        value, unit = _range(entry.get("low"), entry.get("high"))
        if value:
            return f"{value} {unit}" if unit else value
        text = as_str(entry.get("text"))
        if text:
            return text
    return None
