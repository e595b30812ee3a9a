"""Dialogue state: the things earlier turns and tool results talked about, and what "it" points at.

Each skill registers an extractor per tool operation family ("jira.", "emr.") that turns a tool result
into `Entity`s (an issue, a patient, a message). `DialogueState` keeps them in conversation order, and
`resolve` reads the user's own words for a reference: an ordinal ("the second one", "#3", "the last"),
a plural ("those", "them", "all of them", "which of those"), or a singular pronoun ("it", "he", "she",
"that one", "this ticket"). The answer is the entities it points at, from the latest list or focus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.offline.skill import ToolOutcome


@dataclass(frozen=True)
class Entity:
    kind: str  # "issue", "patient", "message", ...
    id: str  # the identifier a tool takes (issue key, patient id, control id)
    label: str = ""  # how to name it to the user ("SB-4", "Harold Quimby")
    integration: str | None = None  # the integration it came from
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Mention:
    """The entities one tool result brought into the conversation."""

    entities: tuple[Entity, ...]
    is_list: bool  # a search result (ordinals and "those" refer to it), not a single record


Extractor = Callable[[ToolOutcome], Mention | None]
_EXTRACTORS: dict[str, Extractor] = {}


def register_extractor(operation_prefix: str, extractor: Extractor) -> None:
    """Skills call this at import time: `register_extractor("jira.", jira_entities)`."""
    _EXTRACTORS[operation_prefix] = extractor


_ORDINAL_WORDS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4,
    "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6, "eighth": 7, "8th": 7, "ninth": 8, "9th": 8,
    "tenth": 9, "10th": 9, "last": -1, "latter": -1, "former": 0, "top": 0,
}  # fmt: skip
_ORDINAL = re.compile(
    r"\b(?:the\s+)?(" + "|".join(_ORDINAL_WORDS) + r")(?:\s+(?:one|issue|ticket|patient|result|message|item|row))?\b"
    r"|(?:^|\s)#(\d{1,2})\b|\b(?:number|no\.?)\s+(\d{1,2})\b"
)
_PLURAL = re.compile(
    r"\b(those|these|them|they|all of them|each of them|both|which of (?:those|these|them)|the ones?|the list)\b"
)
_SINGULAR = re.compile(
    r"\b(it|its|it's|that one|this one|that|this|he|she|him|her|his|hers|the patient|this patient|that patient|"
    r"the issue|this issue|that issue|the ticket|this ticket|that ticket|the message|that message|this message|"
    r"same one|the same)\b"
)


@dataclass(frozen=True)
class Reference:
    how: str  # "ordinal", "plural", "singular"
    entities: tuple[Entity, ...]


def ordinal_index(text: str) -> int | None:
    """ "the second one" -> 1, "#3" -> 2, "the last" -> -1; None when there is no ordinal."""
    match = _ORDINAL.search(text.lower())
    if not match:
        return None
    number = match.group(2) or match.group(3)
    return int(number) - 1 if number else _ORDINAL_WORDS[match.group(1)]


def refers_back(text: str) -> bool:
    lowered = text.lower()
    return bool(_SINGULAR.search(lowered) or _PLURAL.search(lowered) or ordinal_index(lowered) is not None)


class DialogueState:
    """Entity mentions in conversation order (earlier turns' tool results, then this turn's)."""

    def __init__(self, outcomes: Iterable[ToolOutcome]) -> None:
        self.mentions: list[Mention] = []
        for outcome in outcomes:
            mention = _mention(outcome)
            if mention is not None and mention.entities:
                self.mentions.append(mention)

    def latest(self, kind: str) -> Entity | None:
        """The entity of `kind` the conversation is about: the latest single record, else a one-item list."""
        for mention in reversed(self.mentions):
            of_kind = [e for e in mention.entities if e.kind == kind]
            if of_kind and (not mention.is_list or len(of_kind) == 1):
                return of_kind[0]
            if of_kind:  # a list of several: no single focus
                return None
        return None

    def latest_list(self, kind: str) -> tuple[Entity, ...]:
        for mention in reversed(self.mentions):
            of_kind = tuple(e for e in mention.entities if e.kind == kind)
            if of_kind and mention.is_list:
                return of_kind
        return ()

    def known(self, kind: str) -> list[Entity]:
        """Every distinct entity of `kind` seen, latest first."""
        seen: dict[str, Entity] = {}
        for mention in reversed(self.mentions):
            for entity in mention.entities:
                if entity.kind == kind and entity.id not in seen:
                    seen[entity.id] = entity
        return list(seen.values())

    def resolve(self, text: str, kind: str) -> Reference | None:
        """What the user's words point at among entities of `kind`, or None when they point at nothing."""
        lowered = text.lower()
        index = ordinal_index(lowered)
        if index is not None:
            items = self.latest_list(kind)
            if items and -len(items) <= index < len(items):
                return Reference("ordinal", (items[index],))
            return None
        if _PLURAL.search(lowered):
            items = self.latest_list(kind)
            if items:
                return Reference("plural", items)
        if _SINGULAR.search(lowered) or _PLURAL.search(lowered):
            focus = self.latest(kind)
            if focus is not None:
                return Reference("singular", (focus,))
        return None


def _mention(outcome: ToolOutcome) -> Mention | None:
    if not outcome.ok:
        return None
    operation = outcome.operation or ""
    for prefix, extractor in _EXTRACTORS.items():
        if operation.startswith(prefix):
            return extractor(outcome)
    return None
