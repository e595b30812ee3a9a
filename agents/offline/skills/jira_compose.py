"""What a Jira create or comment says when no pattern named it: the rest of the request, or the
finding of an earlier step of the same request (never invented text)."""

from __future__ import annotations

import re

from agents.offline.skill import Turn
from agents.offline.skills.jira_intents import Intent

_CREATE_PHRASE = re.compile(
    r"^\s*(?:(?:please|pls|can you|could you|would you|kindly)\s+)*(?:(?:create|file|raise|log|make|add|open|"
    r"submit|write up|put in|new)\s+)+(?:(?:a|an|new|the)\s+)*(?:jira\s+)?(?:ticket|issue|bug|task|story|"
    r"incident|sub-?task)\b",
    re.IGNORECASE,
)
_WHERE_PHRASE = re.compile(
    r"^\s*(?:in|for|under|into|on)\s+(?:the\s+)?(?:project\s+)?[\w-]+(?:\s+project)?\b", re.IGNORECASE
)
_PRIORITY_PHRASE = re.compile(
    r"[,;]?\s*(?:with\s+)?(?:a\s+)?\b(?:highest|high|medium|low|lowest|urgent|critical)[ -]priority\b|"
    r"[,;]?\s*\bpriority\s*(?:is|of|:|=)?\s*(?:highest|high|medium|low|lowest)\b",
    re.IGNORECASE,
)


def summary_from_rest(words: str) -> str | None:
    """A create's summary when no pattern named one: the request minus its verb, place and priority."""
    text = _CREATE_PHRASE.sub("", words, count=1)
    if text == words:
        return None
    text = _WHERE_PHRASE.sub("", text, count=1)
    text = _PRIORITY_PHRASE.sub("", text)
    text = re.sub(r"^\s*(?:[,:;-]\s*)?(?:to|about|for|that|saying|where|because|re)?\s*", "", text, flags=re.I)
    text = re.sub(r"[\s,;.!]*(?:please|pls|thanks|thank you|thx|cheers)?[\s.!]*$", "", text, flags=re.I)
    text = re.sub(r"^(the|a|an)\s+", "", text.strip(" ,;.-"), flags=re.I)
    return (text[:1].upper() + text[1:])[:255] if len(text) >= 3 else None


_REFERS_TO_RESULT = re.compile(
    r"\b(with (it|that|this|the (result|value|finding|details?|numbers?))|about (it|that|this)|for (it|that|this)|"
    r"the (result|value|finding)s?|what you found|that (value|result|number|reading))\b",
    re.IGNORECASE,
)


def carry_results(turn: Turn, intent: Intent) -> None:
    """A create that follows an earlier step of the same request takes what that step found.

    "Find Harold's glucose and open a ticket with it": the summary names the finding, the description
    quotes the earlier answer (grounded in its tool results), so nothing is invented on the way."""
    understanding = turn.understanding
    if understanding is None or not understanding.carried or intent.kind not in ("create", "comment"):
        return
    found = "\n\n".join(understanding.carried).strip()
    if not found:
        return
    headline = _headline(found)
    if intent.kind == "comment":
        if not intent.args.get("body") or _REFERS_TO_RESULT.search(str(intent.args.get("body"))):
            intent.args["body"] = found[:20_000]
        return
    summary = str(intent.args.get("summary") or "")
    if not summary or _REFERS_TO_RESULT.search(summary) or _REFERS_TO_RESULT.search(turn.own_words):
        cleaned = _REFERS_TO_RESULT.sub("", summary).strip(" ,.;:-")
        intent.args["summary"] = (f"{cleaned}: {headline}" if len(cleaned) > 3 else headline)[:255]
    description = str(intent.args.get("description") or "")
    intent.args["description"] = (description + "\n\n" if description else "") + found[:19_000]


def _headline(markdown: str) -> str:
    """The first sentence of an answer, as plain text (no markdown emphasis, links or tables)."""
    first = next((line for line in markdown.splitlines() if line.strip() and not line.startswith("|")), markdown)
    plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", first)
    plain = re.sub(r"[*_`#>]+", "", plain).strip()
    sentence = re.split(r"(?<=[.!?])\s", plain, maxsplit=1)[0]
    return sentence[:200].rstrip(" .:")
