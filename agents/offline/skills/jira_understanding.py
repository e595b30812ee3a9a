"""The Jira skill's use of the understanding layer: meaning, dialogue and grounding before a call.

- `semantic_intent`: when no feature (issue key, JQL, an explicit verb pattern) decides, the best
  `jira.*` label of the ranking picks the operation.
- `resolve_key`: "it", "that one", "the second one" through the dialogue state.
- `grounded`: a project must be one the site lists, a target status one of the issue's transitions;
  the read calls that tell are made first, and a span that matches nothing is asked about.
"""

from __future__ import annotations

import re
from typing import Any

from agents.offline.skill import Call, Reply, Step, ToolOutcome, Turn
from agents.offline.skills.jira_grounding import (
    STATUS_ALIASES,
    asked_project_span,
    ground_status,
    merge_jql,
    named_projects,
    projects_known,
    scope_clauses,
    transitions_of,
)
from agents.offline.skills.jira_intents import (
    PLAIN_MINE,
    Intent,
    assignee_of,
    comment_body,
    create_arguments,
    issue_keys,
    search_jql,
    transition_target,
)
from agents.offline.understanding.dialogue import Entity, Mention, register_extractor

_KINDS = {
    "jira.my_open": "my_open", "jira.search": "search", "jira.get": "get", "jira.create": "create",
    "jira.comment": "comment", "jira.transition": "transition", "jira.transitions": "transitions",
    "jira.assign": "assign", "jira.projects": "projects", "jira.whoami": "whoami",
}  # fmt: skip
_STOP = set(
    [
        "a",
        "an",
        "the",
        "any",
        "anything",
        "some",
        "is",
        "are",
        "was",
        "were",
        "there",
        "do",
        "does",
        "did",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "it",
        "its",
        "of",
        "in",
        "on",
        "for",
        "to",
        "about",
        "with",
        "and",
        "or",
        "please",
        "can",
        "could",
        "would",
        "show",
        "find",
        "list",
        "get",
        "tell",
        "give",
        "search",
        "look",
        "see",
        "jira",
        "ticket",
        "tickets",
        "issue",
        "issues",
        "bug",
        "bugs",
        "task",
        "tasks",
        "what",
        "which",
        "who",
        "whats",
        "anyone",
        "something",
        "thing",
        "things",
        "have",
        "has",
        "that",
        "this",
        "those",
        "these",
        "all",
        "moment",
        "now",
        "currently",
        "right",
        "today",
        "please",
        "thanks",
        "something",
    ]
)


def jira_entities(outcome: ToolOutcome) -> Mention | None:
    data = outcome.data
    site = outcome.tool.integration_name if outcome.tool else None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("issues"), list):
        found = tuple(
            Entity("issue", str(i.get("key")), str(i.get("key")), site, i) for i in data["issues"] if i.get("key")
        )
        return Mention(found, is_list=True)
    if data.get("key") and outcome.operation != "jira.list_projects":
        return Mention((Entity("issue", str(data["key"]), str(data["key"]), site, data),), is_list=False)
    return None


register_extractor("jira.", jira_entities)


SEMANTIC_FLOOR = 0.40  # meaning alone (no Jira word, key or pattern) must be this close to act
WITHIN_FLOOR = 0.25  # once the request is Jira's (a key, a Jira word, a Jira follow-up), which operation
OVERRIDE_FLOOR = 0.40
_QUESTION = re.compile(
    r"^\s*(?:ok(?:ay)?,?\s+|so,?\s+|and\s+)?(?:what|whats|what's|who|whos|who's|which|when|where|why|how|is|are|"
    r"does|did|has|have|was|were|any)\b|\?\s*$",
    re.IGNORECASE,
)


# Words that ask to read: a request led by one never becomes a write by meaning alone.
_READ_VERB = re.compile(
    r"^\s*(?:(?:please|pls|can you|could you|would you|ok(?:ay)?,?|so,?)\s+)*"
    r"(?:search|find|look\s+(?:for|up|into)|list|show|pull\s+up|get\s+me|give\s+me|tell\s+me|check)\b",
    re.IGNORECASE,
)


def _asks(words: str) -> bool:
    """A question or a read verb reads; it never turns a shown issue into a write ("search jira for order
    flow", "what's the latest comment on …?")."""
    return bool(_QUESTION.search(words) or _READ_VERB.search(words))


# A key alone reads as "show it"; these operations, when meant, win over that default reading.
_OVERRIDES = {"comment", "transition", "assign", "transitions"}


def semantic_kind(turn: Turn, *, floor: float = SEMANTIC_FLOOR) -> str | None:
    """The Jira operation the words mean, when Jira is the best reading of them."""
    understanding = turn.understanding
    if understanding is None:
        return None
    best = understanding.ranking.best
    if best is None or not best[0].startswith("jira.") or best[1] < floor:
        return None
    return _KINDS.get(best[0])


def jira_kind(turn: Turn, *, floor: float = WITHIN_FLOOR) -> tuple[str, float] | None:
    """The best Jira operation for the words, once the request is known to be about Jira."""
    understanding = turn.understanding
    found = understanding.ranking.best_in("jira") if understanding is not None else None
    if found is None or found[1] < floor or found[0] not in _KINDS:
        return None
    return _KINDS[found[0]], found[1]


def refine(turn: Turn, intent: Intent | None) -> Intent | None:
    """The rules' reading, unless the meaning clearly says another operation (or the rules found none)."""
    meant = jira_kind(turn)
    if meant is None:
        return intent
    kind, score = meant
    if intent is not None and intent.kind == "create" and _asks(turn.own_words):
        return semantic_intent(turn, "search")  # "what's the latest on the export bug?" reads, never files
    if intent is None:
        return semantic_intent(turn, kind)
    if intent.kind == "search" and kind == "create" and score >= 0.45 and not _asks(turn.own_words):
        return semantic_intent(turn, kind)  # "draft a task in OPS to …" names no filter, it asks for a write
    if intent.kind == "get" and kind in _OVERRIDES and score >= OVERRIDE_FLOOR and not _asks(turn.own_words):
        ranking = turn.understanding.ranking if turn.understanding is not None else None
        current = ranking.score(f"jira.{intent.kind}") if ranking is not None else 0.0
        if score >= current + 0.03:
            replaced = semantic_intent(turn, kind)
            replaced.key = replaced.key or intent.key
            return replaced
    return intent


def semantic_intent(turn: Turn, kind: str) -> Intent:
    """Arguments for an operation picked by meaning (the words matched no explicit pattern)."""
    original = turn.own_words
    if kind == "create":
        return Intent("create", args=create_arguments(original))
    if kind == "comment":
        return Intent("comment", args={"body": comment_body(original)})
    if kind == "assign":
        return Intent("assign", args={"assignee": assignee_of(original.lower(), original)})
    if kind == "transition":
        return Intent("transition", args={"to": transition_target(original.lower()) or original})
    if kind in ("get", "whoami", "projects", "transitions") and not issue_keys(original):
        clauses, _ = scope_clauses(original, None)
        if clauses:  # "what changed this week", "stuff jordan is working on": a filter, so a search
            kind = "search"
    if kind in ("search", "my_open"):
        clauses, rest = scope_clauses(original, None)
        jql = search_jql(rest, rest) or (None if clauses else text_jql(rest))
        jql = merge_jql(jql, clauses)
        if jql is None or jql.split(" ORDER BY ")[0] in PLAIN_MINE:
            return Intent("my_open")
        return Intent("search", args={"jql": jql})
    return Intent(kind)


def text_jql(words: str) -> str | None:
    """A text search on the request's content words, when it names no filter at all."""
    content = [w for w in re.findall(r"[A-Za-z0-9][\w.-]*", words) if w.lower() not in _STOP and len(w) > 2]
    if not content:
        return None
    phrase = " ".join(content[:4]).replace('"', "")
    return f'text ~ "{phrase}" ORDER BY updated DESC'


def resolve_key(turn: Turn) -> str | None:
    """The issue "it" / "that one" / "the second one" points at."""
    understanding = turn.understanding
    if understanding is None:
        return None
    reference = understanding.dialogue.resolve(understanding.own_words, "issue")
    if reference is not None and len(reference.entities) == 1:
        return reference.entities[0].id
    return None


_JQL_SHAPE = re.compile(
    r"\b(project|assignee|status|statusCategory|labels|text|summary|priority|issuetype|reporter|updated|created)\s*"
    r"(=|!=|~|!~|>=|<=|>|<|\bin\b|\bnot in\b|\bis\b)",
    re.IGNORECASE,
)


def typed_jql(turn: Turn) -> str | None:
    """A JQL query the user typed between backticks (or after "jql:"): sent as typed, Jira judges it."""
    understanding = turn.understanding
    spans = understanding.pasted.inline_code if understanding is not None else ()
    for span in spans:
        if _JQL_SHAPE.search(span):
            return span.strip()
    return None


def explicit_jql(words: str) -> bool:
    return bool(re.search(r"\bjql\b", words, re.IGNORECASE) or re.match(r"^\s*" + _JQL_SHAPE.pattern, words, re.I))


def grounded(turn: Turn, intent: Intent, tools_site: str | None) -> Step | None:
    """Read calls needed before `intent` can be grounded, a question, or None (ground, then go on)."""
    words = turn.own_words
    if intent.kind == "search" and (explicit_jql(words) or typed_jql(turn)):
        return None
    if turn.understanding is not None and turn.understanding.hypothetical:
        _explained_only(intent)
        return None
    if intent.kind in ("create", "search"):
        step = _ground_project(turn, intent, words)
        if step is not None:
            return step
    if intent.kind == "search":
        projects = projects_known(turn)
        extra, _ = scope_clauses(words, projects)
        intent.args["jql"] = merge_jql(_narrowed(turn, intent.args.get("jql")), extra)
        if str(intent.args["jql"]).split(" ORDER BY ")[0] in PLAIN_MINE:
            intent.kind, intent.args = "my_open", {}  # the plain "my open issues", most important first
    if intent.kind == "transition" and intent.key and intent.args.get("to"):
        return _ground_transition(turn, intent, tools_site)
    return None


_NOT_A_PROJECT = (
    r"(?!(?:progress|review|jira|total|general|detail|details|it|them|this|that|my|our|the|a|an|find|show|list|get|"
    r"search|see|give|open|closed|all|any|new|old|high|low|urgent|which|what|some|those|these|other|unassigned|"
    r"assigned|more|recent|latest|done|finished|bug|task|story|incident|your|his|her|their|last|next)\b)"
)
_MAY_NAME_PROJECT = re.compile(
    r"\b(?:in|under|within|from|other than|except|excluding|besides)\s+(?:the\s+)?" + _NOT_A_PROJECT + r"[a-z]{3,}|"
    r"\b" + _NOT_A_PROJECT + r"[a-z]{3,}\s+(?:tickets|tasks|issues|bugs|incidents|stories)\b|"
    r"\b(?:project|board|team)s?\b",
    re.IGNORECASE,
)


_STANDARD = {"done": "Done", "in progress": "In Progress", "in review": "In Review", "to do": "To Do"}


def _explained_only(intent: Intent) -> None:
    """Nothing will be sent, so no lookups: name the standard status the words mean, if any."""
    if intent.kind == "transition" and intent.args.get("to"):
        standard: list[dict[str, Any]] = [{"to": _STANDARD[name]} for name in STATUS_ALIASES]
        intent.args["to"] = ground_status(str(intent.args["to"]), standard) or intent.args["to"]


def _ground_project(turn: Turn, intent: Intent, words: str) -> Step | None:
    asked = asked_project_span(words)
    current = intent.args.get("project") if intent.kind == "create" else _jql_project(intent.args.get("jql"))
    if not asked and not current:
        projects = projects_known(turn)
        may_name = _MAY_NAME_PROJECT.search(words) or (intent.kind == "create" and _FOR_NAME.search(words))
        if projects is None and may_name:
            tools = turn.tools_for("jira.list_projects")
            return [Call(tools[0].name, {})] if tools else None
        keys = named_projects(words, projects) if projects else []
        if keys and intent.kind == "create":
            intent.args["project"] = keys[0]
            named = next((p for p in projects or [] if p.key == keys[0]), None)
            summary = str(intent.args.get("summary") or "")
            if named is not None and summary:
                lead = rf"^(?:{re.escape(named.name)}|{re.escape(named.key)})\b\s*[-:,]\s*"
                intent.args["summary"] = re.sub(lead, "", summary, flags=re.IGNORECASE).capitalize() or summary
        elif keys and not _EXCLUDING.search(words):
            intent.args["jql"] = _replace_project(intent.args.get("jql"), keys[0])
        return None
    projects = projects_known(turn)
    if projects is None:
        tools = turn.tools_for("jira.list_projects")
        return [Call(tools[0].name, {})] if tools else None
    keys = named_projects(words, projects)
    if not keys and current and str(current).upper() in {p.key for p in projects}:
        keys = [str(current).upper()]
    if keys:
        if intent.kind == "create":
            intent.args["project"] = keys[0]
        else:
            intent.args["jql"] = _replace_project(intent.args.get("jql"), keys[0])
        return None
    span = asked or current
    listing = ", ".join(f"**{p.key}** ({p.name})" for p in projects)
    return Reply(
        f"A Jira project called “{span}” doesn't exist on this site (no such project among the ones you can "
        f"see: {listing}). Which one did you mean?"
    )


_FOR_NAME = re.compile(r"\b(?:for|to)\s+(?:the\s+)?" + _NOT_A_PROJECT + r"[a-z]{3,}\b", re.IGNORECASE)
_EXCLUDING = re.compile(r"\b(other than|except|excluding|besides|apart from|not in|outside)\b", re.IGNORECASE)


def _jql_project(jql: Any) -> str | None:
    found = re.search(r"\bproject\s*=\s*([\w-]+)", str(jql or ""))
    return found.group(1) if found else None


def _replace_project(jql: Any, key: str) -> str:
    text = str(jql or "")
    if re.search(r"\bproject\s*=\s*[\w-]+", text):
        return re.sub(r"\bproject\s*=\s*[\w-]+", f"project = {key}", text, count=1)
    return merge_jql(text or None, [f"project = {key}"]) or f"project = {key}"


def _narrowed(turn: Turn, jql: Any) -> Any:
    """ "which of those are unassigned?" filters the list just shown: its query AND the new clauses."""
    understanding = turn.understanding
    reference = understanding.dialogue.resolve(understanding.own_words, "issue") if understanding else None
    last = turn.last_outcome("jira.search_issues")
    if reference is None or reference.how != "plural" or last is None or not last.ok:
        return jql
    data = last.data if isinstance(last.data, dict) else {}
    earlier = str(data.get("jql") or last.args.get("jql") or "")
    where = earlier.split(" ORDER BY ")[0].strip()
    if not where:
        return jql
    new, _, order = str(jql or "").partition(" ORDER BY ")
    parts = [where, *[p for p in new.split(" AND ") if p.strip() and p.strip() not in where]]
    return " AND ".join(parts) + f" ORDER BY {order or 'updated DESC'}"


def _ground_transition(turn: Turn, intent: Intent, site: str | None) -> Step | None:
    key = str(intent.key)
    transitions = transitions_of(turn, key)
    if transitions is None:
        tools = [t for t in turn.tools_for("jira.list_transitions") if site is None or t.integration_name == site]
        return [Call(tools[0].name, {"key": key})] if tools else None
    wanted = str(intent.args["to"])
    status = ground_status(wanted, transitions) or ground_status(turn.own_words, transitions)
    if status is None:
        choices = ", ".join(f"**{t.get('to') or t.get('name')}**" for t in transitions)
        return Reply(f"{key} can't move to “{wanted}”. It can move to {choices}. Which one do you mean?")
    intent.args["to"] = status
    return None
