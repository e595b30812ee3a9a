"""Markdown building blocks the offline skills share, so every answer looks the same."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def escape_cell(value: Any) -> str:
    """A value safe inside a GFM table cell."""
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A GFM table; `columns` are (key in row, header)."""
    header = "| " + " | ".join(title for _, title in columns) + " |"
    rule = "|" + "|".join(" --- " for _ in columns) + "|"
    body = ["| " + " | ".join(escape_cell(row.get(key)) for key, _ in columns) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def fields(pairs: Iterable[tuple[str, Any]]) -> str:
    """`- **Label:** value` lines, skipping empty values."""
    return "\n".join(f"- **{label}:** {value}" for label, value in pairs if value not in (None, "", []))


def failure(content: str, doing: str, system: str) -> str:
    """What to tell the user when a tool call was refused or failed — never the text meant for the model.

    `doing` completes "I did not …" ("send the message"); `system` names where nothing changed.
    """
    if "rejected_by_user" in content:
        return f"OK — I did not {doing}: you rejected it. Nothing changed in {system}."
    if "denied_by_policy" in content:
        return f"I could not {doing}: an administrator's policy does not allow it. Ask an admin if you need it."
    code, message = error_parts(content)
    if code == "tool_failed":  # Switchboard's own connector failed: the system said nothing
        return f"I could not {doing}: {message}"
    return f"I could not {doing}. {system} said: {message}"


def error_parts(content: str) -> tuple[str | None, str]:
    """An error tool result (`Error [code]: text`) as its code and its text for a person."""
    match = re.match(r"^Error \[([\w.]+)\]:\s*", content)
    if match is None:
        return None, content.strip()
    return match.group(1), content[match.end() :].strip()
