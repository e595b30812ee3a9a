"""HL7 field paths (`MSH-5`, `PID-3.1`, `OBX[2]-5.1.2`, `NTE`) and the channel transform operations on them.

A path names a segment (its first occurrence, the n-th with `[n]`, every one with `[*]`), then
optionally a field, a component and a subcomponent, all 1-based as the standard counts them. Field
operations act on the first repetition when a component is named and on the whole field otherwise.
Values are escaped for the level they are written at, with the message's own delimiters, so a `set`
can never split a field or a segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

_PATH = re.compile(
    r"^(?P<segment>[A-Z][A-Z0-9]{2})(?:\[(?P<occurrence>\*|[1-9]\d{0,2})\])?"
    r"(?:-(?P<field>[1-9]\d{0,2})(?:\.(?P<component>[1-9]\d{0,2})(?:\.(?P<sub>[1-9]\d{0,2}))?)?)?$"
)


class PathError(ValueError):
    """A path or an operation that cannot apply to HL7 v2."""


@dataclass(frozen=True)
class Hl7Path:
    segment: str
    occurrence: int | Literal["*"] = 1
    field: int | None = None
    component: int | None = None
    subcomponent: int | None = None

    @classmethod
    def parse(cls, text: str) -> Hl7Path:
        match = _PATH.match(text.strip().upper())
        if match is None:
            raise PathError(f"{text!r} is not an HL7 path such as MSH-5, PID-3.1, OBX[2]-5 or NTE.")
        occurrence = match["occurrence"]
        path = cls(
            segment=match["segment"],
            occurrence="*" if occurrence == "*" else int(occurrence or 1),
            field=int(match["field"]) if match["field"] else None,
            component=int(match["component"]) if match["component"] else None,
            subcomponent=int(match["sub"]) if match["sub"] else None,
        )
        if path.segment == "MSH" and path.field in (1, 2):
            raise PathError("MSH-1 and MSH-2 are the delimiters themselves and cannot be changed.")
        return path

    def __str__(self) -> str:
        text = self.segment + ("" if self.occurrence == 1 else f"[{self.occurrence}]")
        if self.field is not None:
            text += f"-{self.field}"
        for part in (self.component, self.subcomponent):
            if part is not None:
                text += f".{part}"
        return text


@dataclass(frozen=True)
class Delimiters:
    field: str
    component: str
    repetition: str
    escape: str
    subcomponent: str

    @classmethod
    def of(cls, message: str) -> Delimiters:
        if not message.startswith("MSH") or len(message) < 8:
            raise PathError("The message does not start with an MSH segment.")
        encoding = message[4:8]
        return cls(message[3], encoding[0], encoding[1], encoding[2], encoding[3])

    def escape_for(self, value: str, level: str) -> str:
        """`value` made safe for a field, component or subcomponent (HL7 escape sequences)."""
        table = [(self.escape, f"{self.escape}E{self.escape}"), (self.field, f"{self.escape}F{self.escape}")]
        if level != "field":
            table += [
                (self.component, f"{self.escape}S{self.escape}"),
                (self.repetition, f"{self.escape}R{self.escape}"),
            ]
        if level == "subcomponent":
            table.append((self.subcomponent, f"{self.escape}T{self.escape}"))
        out = value.replace("\r", " ").replace("\n", " ")
        if level == "field":
            # A whole field may carry its own structure (components, repetitions) but not a new field.
            return out.replace(self.field, f"{self.escape}F{self.escape}")
        for char, sequence in table:
            out = out.replace(char, sequence)
        return out


def _split(segments: list[str], path: Hl7Path) -> list[int]:
    indexes = [i for i, s in enumerate(segments) if s[:3] == path.segment]
    if path.occurrence == "*":
        return indexes
    return indexes[path.occurrence - 1 : path.occurrence]


def _field_index(path: Hl7Path) -> int:
    # In MSH the field separator itself is MSH-1, so MSH-n is the n-th piece after the segment name - 1.
    assert path.field is not None
    return path.field - 1 if path.segment == "MSH" else path.field


def get(message: str, path: Hl7Path) -> str | None:
    """The raw (escaped) value at `path` in its first matching segment, or None when absent/empty."""
    segments = message.split("\r")
    found = _split(segments, path)
    if not found:
        return None
    d = Delimiters.of(message)
    if path.field is None:
        return segments[found[0]]
    fields = segments[found[0]].split(d.field)
    index = _field_index(path)
    value = fields[index] if index < len(fields) else ""
    if path.component is not None:
        parts = value.split(d.repetition)[0].split(d.component)
        value = parts[path.component - 1] if path.component <= len(parts) else ""
        if path.subcomponent is not None:
            subs = value.split(d.subcomponent)
            value = subs[path.subcomponent - 1] if path.subcomponent <= len(subs) else ""
    return value or None


def _put(items: list[str], index: int, value: str) -> list[str]:
    items = items + [""] * (index + 1 - len(items))
    items[index] = value
    return items


def _trim(items: list[str]) -> list[str]:
    while len(items) > 1 and items[-1] == "":
        items.pop()
    return items


def _write(segment: str, path: Hl7Path, value: str | None, d: Delimiters) -> str:
    """`segment` with the value at `path` replaced (None: emptied)."""
    fields = segment.split(d.field)
    index = _field_index(path)
    if path.component is None:
        fields = _put(fields, index, "" if value is None else d.escape_for(value, "field"))
        return d.field.join(_trim(fields))
    current = fields[index] if index < len(fields) else ""
    repetitions = current.split(d.repetition)
    components = repetitions[0].split(d.component)
    if path.subcomponent is None:
        text = "" if value is None else d.escape_for(value, "component")
        components = _put(components, path.component - 1, text)
    else:
        existing = components[path.component - 1] if path.component <= len(components) else ""
        subs = existing.split(d.subcomponent)
        text = "" if value is None else d.escape_for(value, "subcomponent")
        subs = _put(subs, path.subcomponent - 1, text)
        components = _put(components, path.component - 1, d.subcomponent.join(_trim(subs)))
    repetitions[0] = d.component.join(_trim(components))
    fields = _put(fields, index, d.repetition.join(repetitions))
    return d.field.join(_trim(fields))


def set_value(message: str, path: Hl7Path, value: str | None) -> str:
    """`message` with `path` set to `value` (None: emptied). A missing segment is left missing."""
    if path.field is None:
        raise PathError(f"{path} names a segment; set and copy need a field such as {path.segment}-3.")
    segments = message.split("\r")
    d = Delimiters.of(message)
    for index in _split(segments, path):
        segments[index] = _write(segments[index], path, value, d)
    return "\r".join(segments)


def delete(message: str, path: Hl7Path) -> str:
    """Empty the field/component at `path`, or remove the segment(s) when `path` names only a segment."""
    if path.field is not None:
        return set_value(message, path, None)
    if path.segment == "MSH":
        raise PathError("MSH cannot be deleted.")
    segments = message.split("\r")
    drop = set(_split(segments, path))
    return "\r".join(s for i, s in enumerate(segments) if i not in drop)


def _unescape_raw(value: str, d: Delimiters) -> str:
    """A raw value read by `get` as plain text again, so `copy` can re-escape it for its new level."""
    for code, char in (("F", d.field), ("S", d.component), ("T", d.subcomponent), ("R", d.repetition)):
        value = value.replace(f"{d.escape}{code}{d.escape}", char)
    return value.replace(f"{d.escape}E{d.escape}", d.escape)


@dataclass(frozen=True)
class Operation:
    """One compiled transform step."""

    kind: Literal["set", "copy", "delete"]
    path: Hl7Path
    value: str | None = None
    to: Hl7Path | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Operation:
        kinds = [k for k in ("set", "copy", "delete") if k in raw]
        if len(kinds) != 1:
            raise PathError(
                'Each transform step is one of {"set": PATH, "value": …}, {"copy": PATH, "to": PATH}, {"delete": PATH}.'
            )
        kind = kinds[0]
        path = Hl7Path.parse(str(raw[kind]))
        if kind == "set":
            if path.field is None:
                raise PathError(f"set needs a field path such as {path.segment}-3, not {path}.")
            value = raw.get("value")
            if not isinstance(value, str):
                raise PathError(f"set {path} needs a string 'value'.")
            return cls("set", path, value=value)
        if kind == "copy":
            to = raw.get("to")
            if not isinstance(to, str):
                raise PathError(f"copy {path} needs a 'to' path.")
            target = Hl7Path.parse(to)
            if path.field is None or target.field is None:
                raise PathError("copy works on fields, components or subcomponents (e.g. PID-3.1 to PID-2).")
            return cls("copy", path, to=target)
        return cls("delete", path)

    def apply(self, message: str) -> str:
        if self.kind == "set":
            return set_value(message, self.path, self.value)
        if self.kind == "delete":
            return delete(message, self.path)
        assert self.to is not None
        found = get(message, self.path)
        if found is None:
            return set_value(message, self.to, None)
        return set_value(message, self.to, _unescape_raw(found, Delimiters.of(message)))


def apply_all(message: str, operations: list[Operation]) -> str:
    """Apply the steps in order; each sees the result of the one before."""
    for operation in operations:
        message = operation.apply(message)
    return message
