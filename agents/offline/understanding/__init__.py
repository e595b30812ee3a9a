"""The offline model's understanding layer, shared by every skill.

Per turn the planner builds one `Understanding` of the user's message:
- `own_words`: what the user wrote, pasted HL7/code/JSON taken out (`pasted.py`); only these are read
  for intent, verbs and arguments, and the pasted blocks go on to tools byte for byte;
- `ranking`: every operation of every skill ranked by meaning (`intents.py`, sentence embeddings);
- `dialogue`: entities from earlier turns and tool results, to resolve "it", "those", "the second one";
- `hypothetical`: "what would happen if …" / "don't do it yet" (`requests.py`): writes become explanations;
- `steps`: a compound request's ordered parts (the planner runs them one after another).
Skills read `turn.understanding`; `grounding.py` checks argument spans against what tools returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.offline.understanding.dialogue import DialogueState, Entity, Reference, register_extractor
from agents.offline.understanding.grounding import Match, clean_span, ground, mentions
from agents.offline.understanding.intents import FLOOR, MARGIN, IntentRouter, Operation, Ranking
from agents.offline.understanding.pasted import Pasted, split_pasted


@dataclass(frozen=True)
class Understanding:
    own_words: str  # this step's words (the whole message when it asks one thing)
    pasted: Pasted
    ranking: Ranking
    dialogue: DialogueState
    hypothetical: bool = False
    steps: tuple[str, ...] = ()  # every step's words, in order
    step: int = 0  # which of `steps` this is
    carried: tuple[str, ...] = field(default=())  # the answers of earlier steps of this turn

    def score(self, domain: str) -> float:
        """How well the best operation of `domain` ("jira") matches the words."""
        return self.ranking.domain_score(domain)

    def top(self, domain: str) -> str | None:
        """The best-matching operation label of `domain`, e.g. "jira.search"."""
        found = self.ranking.best_in(domain)
        return found[0] if found else None


__all__ = [
    "FLOOR",
    "MARGIN",
    "DialogueState",
    "Entity",
    "IntentRouter",
    "Match",
    "Operation",
    "Pasted",
    "Ranking",
    "Reference",
    "Understanding",
    "clean_span",
    "ground",
    "mentions",
    "register_extractor",
    "split_pasted",
]
