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
    asked_project_span,
    ground_status,
    merge_jql,
    named_projects,
    projects_known,
    scope_clauses,
    transitions_of,
)
from agents.offline.skills.jira_intents import Intent, assignee_of, comment_body, create_arguments, search_jql
from agents.offline.understanding.dialogue import Entity, Mention, register_extractor

_KINDS = {
    "jira.my_open": "my_open", "jira.search": "search", "jira.get": "get", "jira.create": "create",
    "jira.comment": "comment", "jira.transition": "transition", "jira.transitions": "transitions",
    "jira.assign": "assign", "jira.projects": "projects", "jira.whoami": "whoami",
}  # fmt: skip
_STOP = set(
    "a an the any anything some is are was were there do does did i me my we our you your it its of in on for to "
    "about with and or please can could would show find list get tell give search look see jira ticket tickets "
    "issue issues bug bugs task tasks what which who whats anyone something thing things have has that this those "
    "these all".split()
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


SEMANTIC_FLOOR = 0.45  # meaning alone (no Jira word, key or pattern) must be this close to act


def semantic_kind(turn: Turn, *, floor: float = SEMANTIC_FLOOR) -> str | None:
    """The Jira operation the words mean, when Jira is the best reading of them."""
    understanding = turn.understanding
    if understanding is None:
        return None
    best = understanding.ranking.best
    if best is None or not best[0].startswith("jira.") or best[1] < floor:
        return None
    return _KINDS.get(best[0])


def semantic_intent(turn: Turn, kind: str) -> Intent:
    """Arguments for an operation picked by meaning (the words matched no explicit pattern)."""
    original = turn.own_words
    if kind == "create":
        return Intent("create", args=create_arguments(original))
    if kind == "comment":
        return Intent("comment", args={"body": comment_body(original)})
    if kind == "assign":
        return Intent("assign", args={"assignee": assignee_of(original.lower(), original)})
    if kind == "search":
        jql = search_jql(original.lower(), original) or text_jql(original)
        return Intent("search", args={"jql": jql}) if jql else Intent("my_open")
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
    if intent.kind in ("create", "search"):
        step = _ground_project(turn, intent, words)
        if step is not None:
            return step
    if intent.kind == "search":
        projects = projects_known(turn)
        extra, _ = scope_clauses(words, projects)
        intent.args["jql"] = merge_jql(intent.args.get("jql"), extra)
    if intent.kind == "transition" and intent.key and intent.args.get("to"):
        return _ground_transition(turn, intent, tools_site)
    return None


def _ground_project(turn: Turn, intent: Intent, words: str) -> Step | None:
    asked = asked_project_span(words)
    current = intent.args.get("project") if intent.kind == "create" else _jql_project(intent.args.get("jql"))
    if not asked and not current:
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


def _jql_project(jql: Any) -> str | None:
    found = re.search(r"\bproject\s*=\s*([\w-]+)", str(jql or ""))
    return found.group(1) if found else None


def _replace_project(jql: Any, key: str) -> str:
    text = str(jql or "")
    if re.search(r"\bproject\s*=\s*[\w-]+", text):
        return re.sub(r"\bproject\s*=\s*[\w-]+", f"project = {key}", text, count=1)
    return merge_jql(text or None, [f"project = {key}"]) or f"project = {key}"


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
