"""The answers the understanding layer gives itself: a clarifying question, and "here is what I can do".

Both name only what the user has: their connected systems (by the integration names they chose) and the
operations those allow. No example identifier is invented (no issue key, no patient).
"""

from __future__ import annotations

from collections.abc import Sequence

from agents.offline.render import bullets
from agents.offline.skill import ToolInfo

CLARIFY_OPENING = "Just to be sure I do the right thing:"
FALLBACK_OPENING = "I can't do that yet, or I didn't understand it"
_TYPE_NAMES = {"jira": "Jira", "emr": "EMR (FHIR)", "hl7": "HL7 v2"}


def clarifying_question(first: str, second: str) -> str:
    """Names both readings, so one word ("the first", "Jira") settles it."""
    return f"{CLARIFY_OPENING} do you want me to **{first}**, or to **{second}**?"


def connected_systems(tools: Sequence[ToolInfo]) -> list[tuple[str, str]]:
    return sorted({(t.integration_name, t.integration_type or "") for t in tools if t.integration_name})


def fallback(tools: Sequence[ToolInfo], abilities: Sequence[str]) -> str:
    """A polite "here is what I can do", listing the user's connected systems."""
    systems = connected_systems(tools)
    if not systems:
        return (
            f"{FALLBACK_OPENING}, and you have no integrations connected yet. Connect Jira, an EMR (FHIR R4) or "
            "an HL7 v2 system under **Integrations**, and I can search and act there for you."
        )
    names = ", ".join(f"**{name}** ({_TYPE_NAMES.get(kind, kind)})" for name, kind in systems)
    lines = list(abilities) or [f"Work with {names}"]
    return (
        f"{FALLBACK_OPENING} — I only act through your connected systems ({names}) and I won't guess.\n\n"
        f"Here is what I can do:\n{bullets(lines)}\n\nTell me which of these you need, in your own words."
    )
