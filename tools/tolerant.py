"""Tolerant reading of other systems' JSON: every shape a vendor's schema allows, never an exception.

Real systems send what our sandboxes never do: a field missing or `null`, an object where a list is
usual (and the reverse), a number as a string, an enum value added after we wrote the code. These
helpers read a value as the shape we need or give an empty / `None` answer; callers say "unknown"
in a summary rather than raise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

UNKNOWN = "unknown"


def as_object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else `{}`."""
    return value if isinstance(value, dict) else {}


def as_items(value: Any, *keys: str) -> list[dict[str, Any]]:
    """The objects of a list, whether it came bare, as a page (`{keys[i]: [...]}`) or as one object.

    With `keys`, a dict is searched for the first key holding a list (`{"comments": [...]}`), and a
    dict without any of them counts as a single item only when no keys were given.
    """
    if isinstance(value, dict):
        for key in keys:
            inner = value.get(key)
            if isinstance(inner, list):
                return [item for item in inner if isinstance(item, dict)]
            if isinstance(inner, dict):  # a single object where a list is usual
                return [inner]
        return [] if keys else [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def as_int(value: Any) -> int | None:
    """An integer from a number or a numeric string (`"12"`, `"12.0"`); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return int(number) if math.isfinite(number) else None
    return None


def as_str(value: Any) -> str | None:
    """A scalar as text (strings, numbers); None for missing, empty, objects and lists."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(value)
    return None


def as_strings(value: Any, *keys: str) -> list[str]:
    """Text values from a list, a single value, or objects carrying one of `keys` (`name`, `value`...)."""
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        text = as_str(item)
        if text is None and isinstance(item, dict):
            text = next((t for t in (as_str(item.get(k)) for k in keys) if t), None)
        if text is not None:
            found.append(text)
    return found


def first_text(value: Any, *keys: str) -> str | None:
    """The first non-empty text under `keys` of an object, or the value itself when it is text."""
    if isinstance(value, dict):
        for key in keys:
            text = as_str(value.get(key))
            if text:
                return text
        return None
    return as_str(value)
