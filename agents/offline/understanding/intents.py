"""Intent by meaning: the user's own words against labelled example utterances, per operation.

Every skill lists the operations it understands as `Operation`s: a label (`"jira.search"`), a short
description a clarifying question can quote ("search Jira issues"), and paraphrases in many styles (terse,
polite, dictated, non-native, lay). The router embeds all of them once, on first use, and ranks a message
by the mean of its two closest examples per label. Rules stay as features in the skills (an issue key, a
JQL query, a pasted message); the ranking is what decides between operations when no feature is decisive.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.offline.understanding.embedder import Embedder, default_embedder, embed_one

if TYPE_CHECKING:
    from agents.offline.understanding.embedder import Vectors

# Calibrated on the dev cases and the private set (see docs/evals.md): below FLOOR nothing is close
# enough to act on; two labels of different domains closer than MARGIN are worth a question.
FLOOR = 0.30
MARGIN = 0.03
# Identifiers carry no meaning for the operation and dilute a short request's vector: "hand SB-16 over
# to alex" should read like "hand the ticket over to someone".
_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9_]{0,9}-\d+\b")
_NUMBER = re.compile(r"\b\d[\d/:.-]*\b")


def meaning_text(text: str) -> str:
    """The words as the router reads them: lower case, identifiers as "it", numbers dropped."""
    lowered = _IDENTIFIER.sub(" it ", text.strip().lower())
    return re.sub(r"\s+", " ", _NUMBER.sub(" ", lowered)).strip()


@dataclass(frozen=True)
class Operation:
    """Something a skill can do, with the ways people ask for it."""

    label: str  # "<domain>.<operation>", e.g. "jira.search"; the domain names the skill
    description: str  # completes "Do you want me to …?", e.g. "search Jira issues"
    examples: tuple[str, ...]
    needs: str | None = None  # tool operation prefix required; default "<domain>." ("" = always available)

    @property
    def domain(self) -> str:
        return self.label.split(".", 1)[0]

    @property
    def required_prefix(self) -> str:
        return f"{self.domain}." if self.needs is None else self.needs


@dataclass(frozen=True)
class Ranking:
    """Labels by similarity to the message, best first."""

    scores: tuple[tuple[str, float], ...]
    descriptions: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def best(self) -> tuple[str, float] | None:
        return self.scores[0] if self.scores else None

    def score(self, label: str) -> float:
        return next((s for name, s in self.scores if name == label), 0.0)

    def best_in(self, domain: str) -> tuple[str, float] | None:
        """The best label of one domain ("jira"), or None."""
        return next(((n, s) for n, s in self.scores if n.split(".", 1)[0] == domain), None)

    def domain_score(self, domain: str) -> float:
        found = self.best_in(domain)
        return found[1] if found else 0.0

    def runner_up_elsewhere(self) -> tuple[str, float] | None:
        """The best label of a different domain than the best one."""
        if not self.scores:
            return None
        first = self.scores[0][0].split(".", 1)[0]
        return next(((n, s) for n, s in self.scores[1:] if n.split(".", 1)[0] != first), None)

    def ambiguous(self, floor: float = FLOOR, margin: float = MARGIN) -> tuple[str, str] | None:
        """Two labels of different systems, both plausible and too close to pick one.

        `general` (help, greetings) is the fallback rather than a system, so it never takes part."""
        systems = Ranking(tuple(item for item in self.scores if not item[0].startswith("general.")))
        best, other = systems.best, systems.runner_up_elsewhere()
        if best is None or other is None or best[1] < floor or other[1] < floor:
            return None
        return (best[0], other[0]) if best[1] - other[1] < margin else None

    def describe(self, label: str) -> str:
        return self.descriptions.get(label, label)


class IntentRouter:
    """Ranks messages against every operation's examples; the examples are embedded once, lazily."""

    def __init__(self, operations: Iterable[Operation], embedder: Embedder | None = None) -> None:
        self.operations = tuple(operations)
        self._embedder = embedder
        self._lock = threading.Lock()
        self._matrix: Vectors | None = None
        self._rows: tuple[int, ...] = ()  # operation index of every example row
        self.descriptions = {op.label: op.description for op in self.operations}

    def _examples(self) -> tuple[Vectors, tuple[int, ...]]:
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    texts = [ex for op in self.operations for ex in op.examples]
                    rows = tuple(i for i, op in enumerate(self.operations) for _ in op.examples)
                    self._matrix = (self._embedder or default_embedder()).embed(texts)
                    self._rows = rows
        return self._matrix, self._rows

    def warm(self) -> None:
        """Embed the examples now (start-up), rather than on the first message."""
        self._examples()

    def _vector(self, text: str) -> Vectors:
        return self._embedder.embed([text])[0] if self._embedder is not None else embed_one(text)

    def rank(self, text: str, available: Sequence[str] | None = None) -> Ranking:
        """Labels by meaning; `available` lists the tool operations bound now (None = all labels)."""
        cleaned = meaning_text(text)
        if not cleaned or not self.operations:
            return Ranking((), self.descriptions)
        matrix, rows = self._examples()
        similarity = matrix @ self._vector(cleaned)
        per_label: dict[int, list[float]] = {}
        for row, value in zip(rows, similarity.tolist(), strict=True):
            per_label.setdefault(row, []).append(value)
        scores = []
        for index, values in per_label.items():
            operation = self.operations[index]
            prefix = operation.required_prefix
            if available is not None and prefix and not any(name.startswith(prefix) for name in available):
                continue  # no tool of that system is bound
            top = sorted(values, reverse=True)[:2]
            scores.append((operation.label, round(sum(top) / len(top), 4)))
        scores.sort(key=lambda item: -item[1])
        return Ranking(tuple(scores), self.descriptions)
