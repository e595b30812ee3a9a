"""How a request is meant, beyond what it asks for: hypothetical or real, one step or several.

"What would happen if I moved SB-4 to Done?" and "don't send it yet" ask for an explanation, never a
write. "Find Harold's glucose and open a ticket with it" is two ordered steps; the second uses what the
first found. Both are read from the user's own words only (never from pasted content).
"""

from __future__ import annotations

import re

_HYPOTHETICAL = re.compile(
    r"\b(what (would|will|could) happen|what happens|what would (you|it) do|would (it|that|this) (work|break|fail)|"
    r"hypothetically|in theory|dry[- ]run|just (tell|show|explain) (me )?(what|how)|"
    r"(don'?t|do not|dont|never|without) (actually )?(do|send|create|move|change|write|submit|post|file|assign|"
    r"comment|transition|make|run|touch)\w*\b.{0,30}\b(yet|now|anything|it|them)|"
    r"(don'?t|do not) (do|send|create|change) (it|anything|that) (yet|now)|not yet|before (you|i) (do|send)|"
    r"how would (you|i)|what would (be )?(sent|created|changed))"
)
_CONFIRM = re.compile(
    r"^(ok(ay)?[, ]*)?(yes|yep|yeah|sure|go ahead|do it|please do|proceed|go for it|confirmed?|send it|create it|"
    r"make it so|sounds good,? do it|ok do it|alright,? do it)\b[\s\w,!.]{0,30}$"
)

# Where a request continues with another one. The second part must start with a new verb phrase.
_STEP_BREAK = re.compile(
    r"(?:\s*[;.]\s+|\s*,?\s+(?:and\s+then|then|after that|afterwards|and also|and)\s+)"
    r"(?=(?:please\s+)?(?:also\s+)?(?:create|file|open|raise|log|make|add|comment|post|write|send|forward|route|"
    r"transmit|push|assign|move|close|mark|put|notify|tell|check|validate|explain|look up|find|search|show|list|"
    r"get|pull|fetch)\b)",
    re.IGNORECASE,
)


_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|greetings)(?:\s+there)?\b[\s,!.:-]*",
    re.IGNORECASE,
)


def without_greeting(own_words: str) -> str:
    """ "hey, anything still with me?" asks the question; the greeting alone stays a greeting."""
    rest = _GREETING.sub("", own_words, count=1)
    return rest if rest != own_words and len(rest.split()) >= 4 else own_words


def is_hypothetical(own_words: str) -> bool:
    """The user wants to know what would happen, not to make it happen."""
    return bool(_HYPOTHETICAL.search(own_words.lower()))


_HOLD_CLAUSE = re.compile(
    r"[\s,;]*(?:\bbut\s+|\band\s+)?\b(?:(?:please\s+)?(?:don'?t|do not|dont)\s+(?:actually\s+)?\w+\s+"
    r"(?:it|them|that|this|anything)?\s*(?:yet|now|for now)|just (?:tell|show|explain) me(?: what would happen)?|"
    r"(?:as )?a dry[- ]run|hypothetically|in theory)\b[\s.!?]*",
    re.IGNORECASE,
)
_WHAT_IF = re.compile(
    r"^\s*(?:so\s+)?(?:what (?:would|will|could) happen|what happens|what would you do|how would you)"
    r"\s+(?:if|when)?\s*(?:i|we|you)?\s*(?:asked you to\s+|told you to\s+|wanted to\s+)?",
    re.IGNORECASE,
)


def without_hold(own_words: str) -> str:
    """The request inside a hypothetical one: "what would happen if I moved X to Done" -> "moved X to Done"."""
    text = _WHAT_IF.sub("", own_words)
    text = _HOLD_CLAUSE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" ,;?") or own_words


def is_confirmation(own_words: str) -> bool:
    """A short "yes, go ahead" to a plan we described."""
    return bool(_CONFIRM.match(own_words.strip().lower()))


def split_steps(own_words: str) -> list[str]:
    """The request's ordered parts; one part when it asks for one thing."""
    parts = [p.strip(" ,") for p in _STEP_BREAK.split(own_words) if p and p.strip(" ,")]
    return parts or [own_words]
