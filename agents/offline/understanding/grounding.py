"""Grounding: a span of the user's words becomes an argument only when the system recognises it.

`clean_span` strips what greedy slot filling used to keep (politeness, possessives, titles, articles,
the clause that follows); `ground` matches the cleaned span against what a tool said exists (project
keys and names, an issue's transitions, the user's integrations, patients found) allowing case,
a one-letter typo, a prefix, or a unique given name. No match means the skill asks; it never sends the
span as it was typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_POLITE = re.compile(
    r"\b(please|pls|plz|kindly|thanks|thank you|thx|cheers|if you (can|could|would|don't mind)|for me|asap|"
    r"right now|now|real quick|quickly|when you get a chance|would you|could you|can you)\b",
    re.IGNORECASE,
)
_TITLES = re.compile(r"\b(mr|mrs|ms|miss|mx|dr|doctor|prof|professor|sir|madam|nurse)\b\.?", re.IGNORECASE)
_ARTICLES = re.compile(r"^(?:the|a|an|my|our|this|that|its|their|to|into)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s?\b")
# Where the argument ends: the next clause, a conjunction, a reason, a time.
_FOLLOWING = re.compile(
    r"\s*(?:[,;.!?]|\s(?:and|then|but|so|because|since|as|with|without|when|if|which|that|who|after|before|"
    r"by|from|on|at|in|into|to|for)\s).*$",
    re.IGNORECASE | re.DOTALL,
)
_SPACE = re.compile(r"\s+")


def clean_span(span: str, *, keep_following: bool = False) -> str:
    """The argument inside `span`: no politeness, possessive, title, leading article or following clause."""
    text = span.strip()
    text = _POLITE.sub(" ", text)
    text = _TITLES.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    text = _strip_articles(text)
    if not keep_following:
        first = re.match(r"\S+", text)  # the argument is at least its first word
        if first is not None:
            text = text[: first.end()] + _FOLLOWING.sub("", text[first.end() :])
    text = _strip_articles(_POSSESSIVE.sub("", text.strip()))
    return text.strip(" \"'\u201c\u201d\u2018\u2019`:-,.;!?")


def _strip_articles(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _ARTICLES.sub("", text).strip()
    return text


@dataclass(frozen=True)
class Match:
    value: str  # the candidate as the system spells it
    how: str  # "exact", "folded", "typo", "prefix", "word"


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def one_edit_apart(a: str, b: str) -> bool:
    """True for one substitution, insertion, deletion or swap of neighbours (a one-letter typo)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def ground(span: str, candidates: Iterable[str], *, aliases: Mapping[str, Sequence[str]] | None = None) -> Match | None:
    """The one candidate `span` names, or None (nothing, or more than one equally good).

    `aliases` maps a candidate to other names for it (a project's key and its name, a status's synonyms)."""
    wanted = _fold(span)
    if not wanted:
        return None
    names: list[tuple[str, str]] = []  # (folded name, candidate)
    for candidate in candidates:
        names.append((_fold(candidate), candidate))
        for alias in (aliases or {}).get(candidate, ()):
            names.append((_fold(alias), candidate))
    for how, test in (
        ("exact", lambda name: name == wanted),
        ("typo", lambda name: len(wanted) >= 4 and one_edit_apart(name, wanted)),
        ("prefix", lambda name: len(wanted) >= 3 and name.startswith(wanted)),
        ("word", lambda name: len(wanted) >= 3 and wanted in name.split()),
        ("typo", lambda name: len(wanted) >= 5 and any(one_edit_apart(w, wanted) for w in name.split())),
    ):
        found = list(dict.fromkeys(candidate for name, candidate in names if name and test(name)))
        if len(found) == 1:
            return Match(found[0], "folded" if how == "exact" and span.strip() != found[0] else how)
        if len(found) > 1:
            return None  # ambiguous: the caller asks which one
    return None


def mentions(text: str, candidates: Iterable[str], *, aliases: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    """Candidates (or their aliases) named anywhere in `text` as whole words, in candidate order."""
    folded = f" {_fold(text)} "
    found = []
    for candidate in candidates:
        names = [candidate, *((aliases or {}).get(candidate, ()))]
        if any(f" {_fold(name)} " in folded for name in names if _fold(name)):
            found.append(candidate)
    return found
