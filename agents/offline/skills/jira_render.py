"""Markdown answers for Jira tool results. Every sentence quotes a tool result; nothing is invented."""

from __future__ import annotations

import re
from typing import Any

from agents.offline.render import bullets, fields, table
from agents.offline.render import failure as render_failure
from agents.offline.skill import ToolOutcome
from agents.offline.skills.jira_intents import FIELDS_QUESTION

_ISSUE_COLUMNS = [("key", "Key"), ("summary", "Summary"), ("status", "Status"), ("priority", "Priority")]


def link(item: dict[str, Any]) -> str:
    key = str(item.get("key", "?"))
    return f"[{key}]({item['link']})" if item.get("link") else key


def failure(outcome: ToolOutcome, doing: str) -> str:
    return render_failure(outcome.content, doing, "Jira")


def issues_table(data: dict[str, Any], *, mine: bool) -> str:
    rows = [{**issue, "key": link(issue)} for issue in data.get("issues") or []]
    columns = list(_ISSUE_COLUMNS)
    if not mine:
        columns.append(("assignee", "Assignee"))
    columns.append(("updated", "Updated"))
    return table(rows, columns)


_YES_NO = re.compile(r"^\s*(is|are|was|were|do|does|did|has|have|any|anything|can|could|am)\b", re.IGNORECASE)
_HOW_MANY = re.compile(r"\bhow many\b|\bcount\b|\bnumber of\b", re.IGNORECASE)


def answer_first(question: str, count: int, total: int | None) -> str:
    """The sentence that answers a yes/no or how-many question before the table; "" for other requests."""
    found = total if isinstance(total, int) else count
    noun = "issue" if found == 1 else "issues"
    if _HOW_MANY.search(question):
        return f"**{found}** {noun} match." if found else "None — no issue matches."
    if _YES_NO.search(question):
        return f"Yes — **{found}** {noun} match." if found else "No — no issue matches."
    return ""


def search_reply(outcome: ToolOutcome, site: str | None, *, mine: bool, multi: bool, question: str = "") -> str:
    answer = _search_reply(outcome, site, mine=mine, multi=multi)
    data = outcome.data if outcome.ok and isinstance(outcome.data, dict) else None
    if data is None:
        return answer
    first = answer_first(question, len(data.get("issues") or []), data.get("total"))
    return f"{first} {answer}" if first else answer


def _search_reply(outcome: ToolOutcome, site: str | None, *, mine: bool, multi: bool) -> str:
    where = f" on **{site}**" if site and multi else ""
    if not outcome.ok:
        return failure(outcome, f"search Jira{where}")
    data = outcome.data if isinstance(outcome.data, dict) else {}
    issues = data.get("issues") or []
    jql = data.get("jql", "")
    if not issues:
        if mine:
            return f"You have no open Jira issues assigned to you{where}."
        return f"No Jira issues match `{jql}`{where}."
    count = len(issues)
    if mine:
        heading = f"You have **{count}** open Jira issue{'s' if count != 1 else ''} assigned to you{where}"
        heading += ", most important first:" if count > 1 else ":"
    else:
        total = data.get("total")
        found = f"**{total}**" if isinstance(total, int) else f"**{count}**"
        heading = f"Found {found} issue{'s' if (total or count) != 1 else ''}{where} for `{jql}`:"
    parts = [heading, issues_table(data, mine=mine)]
    if data.get("next_page_token"):
        parts.append(f"Showing the first {count}. Say **show more** for the next page.")
    return "\n\n".join(parts)


def issue_reply(outcome: ToolOutcome, key: str | None) -> str:
    if not outcome.ok:
        return failure(outcome, f"open {key or 'that issue'}")
    data = outcome.data if isinstance(outcome.data, dict) else {}
    parts = [f"**{link(data)}: {data.get('summary', '')}**"]
    parts.append(
        fields(
            [
                ("Type", data.get("type")),
                ("Status", data.get("status")),
                ("Priority", data.get("priority")),
                ("Assignee", data.get("assignee")),
                ("Reporter", data.get("reporter")),
                ("Project", data.get("project")),
                ("Labels", ", ".join(data.get("labels") or [])),
                ("Created", data.get("created")),
                ("Updated", data.get("updated")),
                ("Resolution", data.get("resolution")),
            ]
        )
    )
    if data.get("description"):
        parts.append("**Description**\n\n" + str(data["description"]))
    comments = data.get("comments") or []
    if comments:
        total = data.get("comment_count", len(comments))
        title = f"**Latest comments** ({len(comments)} of {total})" if total > len(comments) else "**Comments**"
        parts.append(
            title + "\n\n" + bullets(f"**{c.get('author')}** ({c.get('created')}): {c.get('body')}" for c in comments)
        )
    return "\n\n".join(parts)


def create_reply(outcome: ToolOutcome) -> str:
    if not outcome.ok:
        return failure(outcome, "create the issue")
    data = outcome.data if isinstance(outcome.data, dict) else {}
    if data.get("created"):
        return f"Created **{link(data)}**: {data.get('summary')} ({data.get('issue_type')} in {data.get('project')})."
    missing = data.get("missing") or []
    lines = []
    for item in missing:
        allowed = item.get("allowed") or []
        choices = f": one of {', '.join(str(a) for a in allowed)}" if allowed else ""
        lines.append(f"**{item.get('name')}**{choices}")
    where = f" this **{data.get('issue_type')}** in **{data.get('project')}**" if data.get("project") else " it"
    example = ", ".join(
        f"{str(item.get('name', '')).split('/')[0].lower()} {(item.get('allowed') or ['…'])[0]}" for item in missing
    )
    return (
        f"{FIELDS_QUESTION} I can create{where}. {data.get('message', '')}\n\n{bullets(lines)}\n\n"
        f"Tell me the values (for example: *{example}*) and I'll try again. Nothing was created yet."
    )


def write_reply(outcome: ToolOutcome, doing: str) -> str:
    if not outcome.ok:
        return failure(outcome, doing)
    data = outcome.data if isinstance(outcome.data, dict) else {}
    operation = outcome.operation
    if operation == "jira.add_comment":
        return f"Added your comment to **{link(data)}**."
    if operation == "jira.transition_issue":
        before = f" from **{data['previous_status']}**" if data.get("previous_status") else ""
        return f"Moved **{link(data)}**{before} to **{data.get('status')}**."
    if operation == "jira.assign_issue":
        return f"Assigned **{link(data)}** to **{data.get('assignee')}**."
    return "Done."


def transitions_reply(outcome: ToolOutcome) -> str:
    if not outcome.ok:
        return failure(outcome, "read the transitions")
    data = outcome.data if isinstance(outcome.data, dict) else {}
    moves = data.get("transitions") or []
    if not moves:
        return f"**{data.get('key')}** has no transitions available to you right now."
    return f"**{data.get('key')}** can move to:\n\n" + bullets(
        f"**{m.get('to')}** (transition “{m.get('name')}”)" for m in moves
    )


def projects_reply(outcome: ToolOutcome, site: str | None, multi: bool) -> str:
    where = f" on **{site}**" if site and multi else ""
    if not outcome.ok:
        return failure(outcome, f"list the projects{where}")
    projects = (outcome.data or {}).get("projects") or []
    if not projects:
        return f"This Jira account can see no projects{where}."
    columns = [("key", "Key"), ("name", "Name"), ("type", "Type"), ("lead", "Lead")]
    return f"You can see **{len(projects)}** project{'s' if len(projects) != 1 else ''}{where}:\n\n" + table(
        projects, columns
    )


def whoami_reply(outcome: ToolOutcome, site: str | None) -> str:
    if not outcome.ok:
        return failure(outcome, f"check the account on {site or 'Jira'}")
    data = outcome.data if isinstance(outcome.data, dict) else {}
    email = f" ({data['email']})" if data.get("email") else ""
    server = f"{data.get('server_title') or 'Jira'}, Jira {data.get('deployment')} {data.get('version')}"
    return f"On **{site}** ({server}) you are signed in as **{data.get('user')}**{email}."
