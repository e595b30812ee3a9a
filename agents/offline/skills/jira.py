"""Jira requests: my open issues, search (text or JQL), show an issue, create, comment, move, assign.

Follow-ups use the conversation: "assign it to me" acts on the issue of the latest Jira result; an
answer to "Which Jira site…?" or to a create that lacked required fields resumes the earlier request.
Reads run on every connected Jira site unless one is named; writes with two sites and no name ask
which one. Answers quote tool results only (see `jira_render`).
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage

from agents.offline.skill import Call, Reply, Step, ToolInfo, ToolOutcome, Turn, normalize
from agents.offline.skills import jira_render as render
from agents.offline.skills.jira_compose import carry_results, summary_from_rest
from agents.offline.skills.jira_examples import OPERATIONS
from agents.offline.skills.jira_intents import (
    DETAIL_QUESTION,
    FIELDS_QUESTION,
    SITE_QUESTION,
    Intent,
    issue_keys,
    looks_like_jira,
    ordinal,
    parse_intent,
    refers_back,
)
from agents.offline.skills.jira_understanding import (
    grounded,
    jira_kind,
    refine,
    resolve_key,
    semantic_kind,
    typed_jql,
)

_OPERATION = {
    "my_open": "jira.my_open_issues",
    "search": "jira.search_issues",
    "get": "jira.get_issue",
    "create": "jira.create_issue",
    "comment": "jira.add_comment",
    "transition": "jira.transition_issue",
    "transitions": "jira.list_transitions",
    "assign": "jira.assign_issue",
    "projects": "jira.list_projects",
    "whoami": "jira.whoami",
}
_WRITES = {"create", "comment", "transition", "assign"}
_GROUNDING = {"jira.list_projects", "jira.list_transitions"}  # reads made to ground another request
_CLINICAL = re.compile(r"\b(patients?|mrn|dob|allerg\w*|medications?|labs?|vitals?|diagnos\w*)\b")
_ACTION_WORDS = re.compile(r"\b(assign|unassign|move|mark|close|resolve|reopen|start|comment|transition|take)\b")


class JiraSkill:
    name = "jira"
    operations = OPERATIONS

    def score(self, turn: Turn) -> float:
        if not turn.has_operation("jira."):
            return 0.0
        if any((o.operation or "").startswith("jira.") for o in turn.outcomes):
            return 0.95
        if turn.understanding is not None and turn.understanding.pasted.hl7_messages:
            return 0.0  # a pasted HL7 message, whatever words surround it
        rules = self._rule_score(turn)
        meaning = 0.7 if semantic_kind(turn) is not None else 0.0
        if resolve_key(turn) is not None and jira_kind(turn) is not None:
            meaning = max(meaning, 0.75)  # "I'm starting on it now" right after an issue was shown
        return max(rules, meaning)

    def _rule_score(self, turn: Turn) -> float:
        text = normalize(turn.own_words)
        if "msh|" in text:
            return 0.0
        if _pending(turn):
            return 0.9
        if looks_like_jira(text):
            # "this patient's issues" belongs to the EMR skill unless Jira is named.
            clinical = _CLINICAL.search(text) and "jira" not in text and not issue_keys(turn.own_words)
            return 0.6 if clinical else 0.85
        earlier = turn.last_outcome("jira.") is not None
        follow_up = refers_back(text) or ordinal(text) is not None
        if earlier and follow_up and (_ACTION_WORDS.search(text) or DETAIL_QUESTION.search(text)):
            return 0.8  # "assign it to me", "who's on it?", "tell me more about the first one"
        intent = parse_intent(text, turn.own_words)
        if intent is not None and intent.kind == "create":  # "create a task: ..." names no Jira word
            return 0.8
        if intent is not None and intent.kind in _WRITES and resolve_key(turn) is not None:
            return 0.85  # "leave a note on the third one: …" right after a list of issues
        if intent is not None and intent.kind == "search" and "project = " in str(intent.args.get("jql")):
            return 0.75  # "what's in progress in OPS?"
        if intent is not None and turn.last_outcome("jira.") is not None:
            return 0.5
        return 0.0

    def step(self, turn: Turn) -> Step:
        mine = [o for o in turn.outcomes if (o.operation or "").startswith("jira.")]
        sites = _sites(turn)
        intent, chosen_site = self._intent(turn, sites)
        answered = [o for o in mine if o.operation not in _GROUNDING]
        grounding_only = bool(mine) and not answered and intent is not None
        if mine and not (grounding_only and intent is not None and intent.kind not in ("projects", "transitions")):
            return Reply(self._reply(turn, answered or mine))
        if intent is None:
            return Reply(
                "I'm not sure what to do in Jira. Try *my open issues*, *search tickets about backups*, "
                "*create a bug: …*, or name an issue by its key and say what to do with it (show, move, assign, "
                "comment)."
            )
        return self._calls(turn, intent, sites, chosen_site)

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        sites = sorted({t.integration_name for t in tools if t.operation.startswith("jira.") and t.integration_name})
        if not sites:
            return []
        where = ", ".join(sites)
        return [
            f"Show your open Jira issues, search by text or JQL, and open an issue by key ({where})",
            f"Create Jira issues, comment on them, move and assign them ({where}; after your approval)",
        ]

    # ----------------------------------------------------------------- understanding

    def _intent(self, turn: Turn, sites: list[str]) -> tuple[Intent | None, str | None]:
        intent, named = self._read(turn, sites)
        if intent is not None and intent.kind == "get" and not intent.key and not resolve_key(turn):
            intent = None  # no issue named or pointed at: let the meaning decide (often a search)
        if not _pending(turn):
            intent = refine(turn, intent)
        if intent is not None and intent.kind == "create" and not intent.args.get("summary"):
            summary = summary_from_rest(turn.own_words)
            if summary:
                intent.args["summary"] = summary
        if intent is not None:
            carry_results(turn, intent)
        if intent is not None and intent.kind in _WRITES | {"get", "transitions"} and intent.key is None:
            intent.key = resolve_key(turn) or _key_from_context(turn)
        return intent, named

    def _read(self, turn: Turn, sites: list[str]) -> tuple[Intent | None, str | None]:
        original = turn.own_words
        text = normalize(original)
        named = _named_site(text, sites)
        pending = _pending(turn)
        if pending == SITE_QUESTION and named:
            earlier = _previous_request(turn)
            if earlier:
                return parse_intent(normalize(earlier), earlier), named
        if pending == FIELDS_QUESTION:
            resumed = _resume_create(turn)
            if resumed is not None:
                return resumed, _site_of(turn.last_outcome("jira.create_issue"))
        typed = typed_jql(turn)
        intent = Intent("search", args={"jql": typed}) if typed else parse_intent(text, original)
        picked = _picked_from_list(turn, text)
        about_earlier = refers_back(text) or ordinal(text) is not None
        if (intent is None or intent.kind == "search") and about_earlier and DETAIL_QUESTION.search(text):
            key = picked or _key_from_context(turn)
            if key:
                return Intent("get", key=key), named or _site_of_key(turn, key)
        if intent is not None and intent.kind in _WRITES | {"get", "transitions"} and intent.key is None:
            intent.key = picked or _key_from_context(turn)
        return intent, named

    def _calls(self, turn: Turn, intent: Intent, sites: list[str], named: str | None) -> Step:
        if intent.kind == "more":
            return self._more(turn)
        if intent.kind == "unsupported":
            return Reply(
                "I can't delete or archive Jira issues or projects: none of my Jira tools does that, so I won't "
                "try. You can do it in Jira itself if your account has the permission. I can search, show, "
                "create, comment on, move and assign issues."
            )
        question = _missing(intent)
        if question:
            return Reply(question)
        site = named or (_site_of_key(turn, intent.key) if intent.key else None)
        before = grounded(turn, intent, site)
        if before is not None:
            return before
        operation = _OPERATION[intent.kind]
        tools = turn.tools_for(operation)
        if not tools:
            return Reply("Your Jira integration does not offer that here.")
        args = _arguments(intent)
        if named:
            tools = [t for t in tools if t.integration_name == named] or tools
        elif len(tools) > 1:
            known = _site_of_key(turn, intent.key) if intent.key else None
            if known:
                tools = [t for t in tools if t.integration_name == known] or tools
            elif intent.kind in _WRITES:
                names = " or ".join(f"**{t.integration_name}**" for t in tools)
                return Reply(f"{SITE_QUESTION} should I use: {names}?")
        return [Call(t.name, args) for t in tools]

    def _more(self, turn: Turn) -> Step:
        last = turn.last_outcome("jira.search_issues") or turn.last_outcome("jira.my_open_issues")
        data = last.data if last is not None and last.ok else None
        token = data.get("next_page_token") if isinstance(data, dict) else None
        if last is None or not token:
            return Reply("There is no earlier Jira list with more results to show.")
        return [Call(last.tool_name, {**last.args, "page_token": token})]

    # ----------------------------------------------------------------- answering

    def _reply(self, turn: Turn, outcomes: list[ToolOutcome]) -> str:
        multi = len({o.tool.integration_name for o in outcomes if o.tool}) > 1
        operation = outcomes[0].operation
        if operation == "jira.get_issue" and multi:
            found = [o for o in outcomes if o.ok] or outcomes[:1]
            return "\n\n".join(render.issue_reply(o, o.args.get("key")) for o in found)
        parts = []
        for outcome in outcomes:
            site = outcome.tool.integration_name if outcome.tool else None
            op = outcome.operation
            if op in ("jira.my_open_issues", "jira.search_issues"):
                mine = op == "jira.my_open_issues"
                parts.append(render.search_reply(outcome, site, mine=mine, multi=multi, question=turn.own_words))
            elif op == "jira.get_issue":
                parts.append(render.issue_reply(outcome, outcome.args.get("key")))
            elif op == "jira.create_issue":
                parts.append(render.create_reply(outcome))
            elif op == "jira.list_transitions":
                parts.append(render.transitions_reply(outcome))
            elif op == "jira.list_projects":
                parts.append(render.projects_reply(outcome, site, multi))
            elif op == "jira.whoami":
                parts.append(render.whoami_reply(outcome, site))
            else:
                doing = {
                    "jira.add_comment": "add the comment",
                    "jira.transition_issue": f"move {outcome.args.get('key')}",
                    "jira.assign_issue": f"assign {outcome.args.get('key')}",
                }.get(op or "", "do that")
                parts.append(render.write_reply(outcome, doing))
        return "\n\n".join(parts)


# --------------------------------------------------------------------------- helpers


def _sites(turn: Turn) -> list[str]:
    return list(
        dict.fromkeys(
            t.integration_name for t in turn.tools if t.operation == "jira.search_issues" and t.integration_name
        )
    )


def _named_site(text: str, sites: list[str]) -> str | None:
    for site in sites:
        if site.lower() in text:
            return site
    firsts = [
        s
        for s in sites
        if s.split()[0].lower() not in ("jira", "the") and re.search(rf"\b{re.escape(s.split()[0].lower())}\b", text)
    ]
    return firsts[0] if len(firsts) == 1 else None


def _site_of(outcome: ToolOutcome | None) -> str | None:
    return outcome.tool.integration_name if outcome is not None and outcome.tool else None


def _last_ai_text(turn: Turn) -> str:
    for message in reversed(turn.history):
        if isinstance(message, AIMessage) and message.content and not message.tool_calls:
            return str(message.content)
        if isinstance(message, HumanMessage):
            return ""
    return ""


def _pending(turn: Turn) -> str | None:
    """The question our previous answer asked, if the user is now answering it."""
    last = _last_ai_text(turn)
    for question in (SITE_QUESTION, FIELDS_QUESTION):
        if last.startswith(question):
            return question
    return None


def _previous_request(turn: Turn) -> str | None:
    humans = turn.previous_user_texts()
    return humans[-1] if humans else None


def _key_from_context(turn: Turn) -> str | None:
    """The issue the conversation is about: the latest single issue in a Jira result, else in the text."""
    for outcome in reversed(turn.earlier_outcomes + turn.outcomes):
        if not (outcome.operation or "").startswith("jira.") or not outcome.ok:
            continue
        data = outcome.data
        if isinstance(data, dict):
            if data.get("key"):
                return str(data["key"])
            issues = data.get("issues") or []
            if len(issues) == 1:
                return str(issues[0].get("key"))
    for message in reversed(turn.history):
        if not isinstance(message, AIMessage | HumanMessage):
            continue
        keys = list(dict.fromkeys(issue_keys(str(message.content))))
        if isinstance(message, HumanMessage) and keys:
            return keys[0]
        if keys:  # our own answer: only a single issue is unambiguous
            return keys[0] if len(keys) == 1 else None
    return None


def _picked_from_list(turn: Turn, text: str) -> str | None:
    """ "the second one" in the latest list of issues we showed."""
    index = ordinal(text)
    if index is None:
        return None
    for outcome in reversed(turn.earlier_outcomes):
        data = outcome.data
        if outcome.operation in ("jira.my_open_issues", "jira.search_issues") and isinstance(data, dict):
            issues = data.get("issues") or []
            if -len(issues) <= index < len(issues):
                return str(issues[index].get("key"))
            return None
    return None


def _site_of_key(turn: Turn, key: str | None) -> str | None:
    for outcome in reversed(turn.earlier_outcomes):
        jira_result = (outcome.operation or "").startswith("jira.") and outcome.ok and outcome.tool
        if key and jira_result and key in outcome.content and outcome.tool:
            return outcome.tool.integration_name
    return None


def _resume_create(turn: Turn) -> Intent | None:
    """Fill the fields a previous create lacked from this message ("priority high, component database")."""
    last = turn.last_outcome("jira.create_issue")
    data = last.data if last is not None else None
    if last is None or not isinstance(data, dict) or data.get("created") is not False:
        return None
    args: dict[str, Any] = dict(last.args)
    extra: dict[str, str] = dict(args.get("fields") or {})
    text = turn.own_words
    for item in data.get("missing") or []:
        allowed = [str(a) for a in item.get("allowed") or []]
        # Longest first, so "Highest" wins over "High".
        match = next(
            (a for a in sorted(allowed, key=len, reverse=True) if re.search(rf"\b{re.escape(a)}\b", text, re.I)), None
        )
        if match is None and not allowed:
            said = re.search(rf"\b{re.escape(str(item.get('name', '')))}\s*[:=]?\s*(.+?)(?:,|;|$)", text, re.I)
            match = said.group(1).strip() if said else None
        if match is None:
            continue
        field = str(item.get("field"))
        if field == "project":
            args["project"] = match
        elif field == "priority":
            args["priority"] = match
        elif field == "issuetype":
            args["issue_type"] = match
        else:
            extra[str(item.get("name") or field)] = match
    if extra:
        args["fields"] = extra
    if args == dict(last.args):
        return None
    return Intent("create", args=args)


def _missing(intent: Intent) -> str | None:
    if intent.kind in ("get", "comment", "transition", "transitions", "assign") and not intent.key:
        return "Which issue? Tell me its key (the project's letters, a dash and the number)."
    if intent.kind == "create" and not intent.args.get("summary"):
        return (
            "What should the new issue say? For example: *create a bug: Login page crashes on Safari* "
            '(add the project, "high priority" or "assign it to me" if you like).'
        )
    if intent.kind == "comment" and not intent.args.get("body"):
        return f"What should the comment on {intent.key} say? For example: *comment on {intent.key}: deployed*."
    if intent.kind == "assign" and not intent.args.get("assignee"):
        return f"Assign {intent.key} to whom? Say *to me*, a person's name, or *unassign*."
    if intent.kind == "transition" and not intent.args.get("to"):
        return f"Move {intent.key} to which status?"
    return None


def _arguments(intent: Intent) -> dict[str, Any]:
    args = {k: v for k, v in intent.args.items() if v not in (None, "", [], {})}
    if intent.key and intent.kind in ("get", "comment", "transition", "transitions", "assign"):
        args["key"] = intent.key
    if intent.kind == "search":
        args.setdefault("max_results", 20)
    return args


SKILL = JiraSkill()
