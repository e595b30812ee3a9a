"""The event names the platform emits and subscription patterns (`*` wildcards) over them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

EVENT_NAMES: tuple[str, ...] = (
    "chat.message.completed",
    "approval.required",
    "integration.created",
    "integration.updated",
    "integration.deleted",
    "integration.tested",
    "integration.status_changed",
    "hl7.message.received",
    "hl7.message.delivered",
    "hl7.message.failed",
    "patient.created",
    "patient.updated",
    "encounter.admitted",
    "encounter.discharged",
    "lab.result.ready",
)
TEST_EVENT = "webhook.test"  # sent only by POST /webhooks/{id}/test
_PATTERN = re.compile(r"^[a-z0-9_*]+(\.[a-z0-9_*]+)*$")


def matches(event: str, patterns: Iterable[str]) -> bool:
    """`*` matches any run of characters, dots included: `hl7.*` covers every HL7 event."""
    return any(fnmatchcase(event, pattern) for pattern in patterns)


def pattern_problem(pattern: str) -> str | None:
    """Why a subscription pattern is unusable (bad syntax, matches no event), or None."""
    if len(pattern) > 64 or not _PATTERN.match(pattern):
        return f"{pattern!r} is not an event pattern (letters, digits, dots and * only)"
    if not matches_any(pattern):
        return f"{pattern!r} matches no event; known events: {', '.join(EVENT_NAMES)}"
    return None


def matches_any(pattern: str) -> bool:
    return any(fnmatchcase(name, pattern) for name in EVENT_NAMES)
