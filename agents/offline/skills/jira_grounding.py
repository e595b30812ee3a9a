"""Jira arguments grounded in what Jira said exists: projects, an issue's transitions, and JQL scope.

A project becomes an argument only when it is a key or a name from `list_projects`; a target status
only when it is one of the issue's transitions (or a common word for one: "close" → Done). JQL gets the
negations people use ("not done", "without an owner", "other than OPS") as real clauses, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.offline.skill import ToolOutcome, Turn
from agents.offline.understanding import clean_span, ground, mentions

# Other words for the standard statuses; matched against the transitions an issue really has.
STATUS_ALIASES: dict[str, tuple[str, ...]] = {
    "done": ("done", "closed", "close", "resolved", "resolve", "complete", "completed", "finished", "finish",
             "fixed", "shipped", "over"),
    "in progress": ("in progress", "progress", "started", "start", "starting", "begin", "beginning", "working",
                    "working on", "wip", "doing", "underway", "ongoing", "active", "pick up", "picking up"),
    "in review": ("in review", "review", "code review", "qa", "testing", "under review", "for review"),
    "to do": ("to do", "todo", "backlog", "reopen", "reopened", "open again", "not started", "new"),
}  # fmt: skip


@dataclass(frozen=True)
class Project:
    key: str
    name: str


def projects_known(turn: Turn) -> list[Project] | None:
    """Projects from the latest list_projects result (this turn or earlier), or None if never listed."""
    outcome = turn.last_outcome("jira.list_projects")
    data = outcome.data if outcome is not None and outcome.ok else None
    if not isinstance(data, dict):
        return None
    return [Project(str(p.get("key")), str(p.get("name") or "")) for p in data.get("projects") or [] if p.get("key")]


_PROJECT_CUE = re.compile(
    r"\b(?:in|into|to|for|on|under|within|from)\s+(?:the\s+)?(?:project\s+)?([A-Za-z][\w-]{1,30})(?:\s+project)?\b",
    re.IGNORECASE,
)
_PROJECT_WORD = re.compile(r"\bproject\s*[:=]?\s*([A-Za-z][\w-]{1,30})\b", re.IGNORECASE)


def named_projects(words: str, projects: list[Project]) -> list[str]:
    """Keys of the projects named in the user's words (by key or name, any case)."""
    keys = [p.key for p in projects]
    aliases = {p.key: [p.name] for p in projects if p.name}
    found = mentions(words, keys, aliases=aliases)
    if found:
        return found
    for cue in (_PROJECT_WORD, _PROJECT_CUE):
        for match in cue.finditer(words):
            grounded = ground(clean_span(match.group(1)), keys, aliases=aliases)
            if grounded is not None and grounded.how in ("exact", "folded", "typo"):
                return [grounded.value]
    return []


def asked_project_span(words: str) -> str | None:
    """A project the user named explicitly ("in project Foo", "the Foo project"), as typed."""
    found = _PROJECT_WORD.search(words) or re.search(r"\bthe\s+([A-Za-z][\w-]{1,30})\s+project\b", words, re.I)
    return clean_span(found.group(1)) if found else None


def transitions_of(turn: Turn, key: str) -> list[dict[str, Any]] | None:
    """The transitions Jira listed for `key` (this turn or earlier), or None when not listed yet."""
    for outcome in reversed(turn.earlier_outcomes + turn.outcomes):
        if outcome.operation == "jira.list_transitions" and outcome.ok and str(outcome.args.get("key")) == key:
            data = outcome.data
            if isinstance(data, dict):
                return list(data.get("transitions") or [])
    return None


def ground_status(span: str, transitions: list[dict[str, Any]]) -> str | None:
    """The target status `span` names among `transitions` (their `to` status or transition name)."""
    targets = list(
        dict.fromkeys(str(t.get("to") or t.get("name")) for t in transitions if t.get("to") or t.get("name"))
    )
    cleaned = clean_span(span, keep_following=False)
    aliases: dict[str, list[str]] = {}
    for target in targets:
        names = [str(t.get("name")) for t in transitions if str(t.get("to")) == target and t.get("name")]
        names += list(STATUS_ALIASES.get(target.lower(), ()))
        aliases[target] = names
    match = ground(cleaned, targets, aliases=aliases)
    if match is not None:
        return match.value
    named = mentions(span, targets, aliases=aliases)
    return named[0] if len(named) == 1 else None


# ------------------------------------------------------------------------------------------ JQL scope

_NOT_DONE = re.compile(
    r"\b((?:not|isn'?t|aren'?t|is not|are not|not yet|never) (yet )?(done|finished|closed|resolved|complete)|"
    r"unfinished|unresolved|incomplete|still open|open|"
    r"outstanding|pending|remaining|active)\b"
)
_NOT_MINE = re.compile(
    r"\b(not (assigned to|owned by|on) me|(that )?(are|is)n'?t mine|not mine|someone else'?s|other people'?s)\b"
)
_NO_OWNER = re.compile(
    r"\b(unassigned|not assigned(?! to)|no assignee|without (an? )?(owner|assignee)|nobody('s| is)? (on|assigned|owns)|"
    r"no ?one('s| is)? (on|assigned|working)|unowned|no owner|ownerless|assigned to (nobody|no one)|"
    r"(don'?t|do not|doesn'?t|does not) have (anyone|anybody|an owner|an assignee)|nobody (on|owns) (it|them))\b"
)
_EXCEPT = re.compile(r"\b(?:other than|except(?: for)?|excluding|besides|apart from|not in|outside(?: of)?)\s+(.+)")
_NOT_STATUS = re.compile(r"\b(?:not|isn't|aren't|isnt|arent)\s+(?:in\s+)?(in progress|in review|to do|todo|done)\b")


_WORKING_ON = re.compile(r"\b([a-z][\w.'-]+)\s+(?:is|are)\s+(?:working on|doing|handling|on)\b")
_THIS_PERIOD = {
    "today": "updated >= startOfDay()",
    "this week": "updated >= startOfWeek()",
    "this month": "updated >= startOfMonth()",
    "yesterday": "updated >= -1d",
}


def scope_clauses(words: str, projects: list[Project] | None) -> tuple[list[str], str]:
    """JQL clauses for the negations, people and periods in `words`, and the words left for the rest."""
    lowered = words.lower()
    clauses: list[str] = []
    rest = lowered
    person = _WORKING_ON.search(rest)
    if person and person.group(1) not in ("i", "me", "we", "you", "who", "what", "it", "they", "anyone", "nobody"):
        clauses.append(f'assignee = "{person.group(1)}"')
        rest = rest.replace(person.group(0), " ")
    if re.search(r"\b(changed|updated|modified|touched|happened|new|moved)\b", rest):
        for phrase, clause in _THIS_PERIOD.items():
            if re.search(rf"\b{phrase}\b", rest):
                clauses.append(clause)
                rest = rest.replace(phrase, " ")
                break
    negated = _NOT_STATUS.search(rest)
    if negated:
        status = {"todo": "To Do", "to do": "To Do", "done": "Done"}.get(negated.group(1), negated.group(1).title())
        clauses.append("statusCategory != Done" if status == "Done" else f'status != "{status}"')
        rest = rest.replace(negated.group(0), " ")
    elif _NOT_DONE.search(rest):
        clauses.append("statusCategory != Done")
        rest = _NOT_DONE.sub(" ", rest)
    if _NOT_MINE.search(rest):
        clauses.append("(assignee != currentUser() OR assignee is EMPTY)")
        rest = _NOT_MINE.sub(" ", rest)
    if _NO_OWNER.search(rest):
        clauses.append("assignee is EMPTY")
        rest = _NO_OWNER.sub(" ", rest)
    excluded = _EXCEPT.search(rest)
    if excluded and projects:
        keys = named_projects(excluded.group(1), projects)
        if keys:
            clauses.append(f"project != {keys[0]}" if len(keys) == 1 else f"project NOT IN ({', '.join(keys)})")
            rest = rest[: excluded.start()]
    elif excluded and re.search(r"\bme\b|\bmine\b|\bmyself\b", excluded.group(1)):
        clauses.append("(assignee != currentUser() OR assignee is EMPTY)")
        rest = rest[: excluded.start()]
    return clauses, rest


def merge_jql(base: str | None, extra: list[str]) -> str | None:
    """`base` (may carry ORDER BY) with `extra` clauses added, without repeating one."""
    if not extra:
        return base
    where, _, order = (base or "").partition(" ORDER BY ")
    parts = [p for p in where.split(" AND ") if p.strip()] if where.strip() else []
    contradicted = {"statusCategory = Done"} if "statusCategory != Done" in extra else set()
    if any(c.startswith(("assignee", "(assignee")) for c in extra):
        contradicted |= {p for p in parts if p.startswith("assignee")}
    parts = [p for p in parts if p not in contradicted]
    parts += [c for c in extra if c not in parts]
    return " AND ".join(parts) + f" ORDER BY {order or 'updated DESC'}"


def jira_outcomes(outcomes: tuple[ToolOutcome, ...]) -> list[ToolOutcome]:
    return [o for o in outcomes if (o.operation or "").startswith("jira.")]
