"""Compact views of Jira's JSON for the model: the few fields a person asks about, and a link.

Read tolerantly (see `tools.tolerant`): the v2 and v3 schemas, Cloud and Data Center, allow nearly
every field to be missing or `null`; an issue's `comment` is a page `{comments, total}` in the REST
answer but a bare list in Atlassian's own published examples; a date may be an epoch number. What
cannot be read is "unknown", never an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from tools.jira.adf import as_text
from tools.tolerant import UNKNOWN, as_int, as_items, as_object, as_str, as_strings, first_text

# What a list of issues needs; asking Jira for only these keeps search responses small.
SUMMARY_FIELDS = ["summary", "status", "assignee", "priority", "updated", "issuetype"]
DETAIL_FIELDS = [
    *SUMMARY_FIELDS,
    "project",
    "reporter",
    "created",
    "labels",
    "description",
    "comment",
    "resolution",
]
LATEST_COMMENTS = 5
_DESCRIPTION_LIMIT = 4000


class IssueSummary(BaseModel):
    key: str
    summary: str
    status: str | None = None
    assignee: str | None = None
    priority: str | None = None
    type: str | None = None
    updated: str | None = None
    link: str


class CommentView(BaseModel):
    author: str | None = None
    created: str | None = None
    body: str


class IssueDetail(IssueSummary):
    project: str | None = None
    reporter: str | None = None
    created: str | None = None
    resolution: str | None = None
    labels: list[str] = []
    description: str | None = None
    comments: list[CommentView] = []
    comment_count: int = 0


def person(user: Any) -> str | None:
    """A user object as the name people know them by (Data Center may send just the user name)."""
    if isinstance(user, str):
        return user.strip() or None
    return first_text(user, "displayName", "name", "emailAddress", "accountId", "key")


def named(value: Any) -> str | None:
    """A status, priority, type... as its name: an object's `name` (or `value`, `id`), or plain text."""
    if isinstance(value, dict):
        name = first_text(value, "name", "value", "id")
        return name if name else (UNKNOWN if value else None)
    if value is None:
        return None
    return as_str(value) or UNKNOWN


def short_time(value: Any) -> str | None:
    """Jira's `2024-05-01T10:00:00.000+0000` (or epoch milliseconds) as `2024-05-01 10:00 UTC`."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = value / 1000 if abs(value) > 10**11 else value
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
        except (OverflowError, OSError, ValueError):
            return UNKNOWN
    text = as_str(value)
    if text is None:
        return UNKNOWN
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, pattern).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            continue
    return text[:40]


def issue_key(raw: dict[str, Any]) -> str:
    return as_str(raw.get("key")) or as_str(raw.get("id")) or UNKNOWN


def summarize(raw: Any, base_url: str) -> IssueSummary:
    """One issue of a search (or the head of a detail), whatever shape its fields came in."""
    issue = as_object(raw)
    fields = as_object(issue.get("fields"))
    key = issue_key(issue)
    summary = fields.get("summary")
    return IssueSummary(
        key=key,
        summary=summary.strip() if isinstance(summary, str) else "" if summary is None else as_str(summary) or UNKNOWN,
        status=named(fields.get("status")),
        assignee=person(fields.get("assignee")) or "Unassigned",
        priority=named(fields.get("priority")),
        type=named(fields.get("issuetype")),
        updated=short_time(fields.get("updated")),
        link=f"{base_url}/browse/{key}",
    )


def comments_of(value: Any) -> tuple[list[dict[str, Any]], int]:
    """The comments and their total: a page `{comments, total}` (the REST shape), a bare list, or one."""
    comments = as_items(value, "comments")
    if isinstance(value, list):
        comments = as_items(value)
    total = as_int(as_object(value).get("total"))
    return comments, total if total is not None and total >= len(comments) else len(comments)


def comment_view(comment: dict[str, Any]) -> CommentView:
    return CommentView(
        author=person(comment.get("author")),
        created=short_time(comment.get("created")),
        body=as_text(comment.get("body")),
    )


def detail(raw: Any, base_url: str) -> IssueDetail:
    issue = as_object(raw)
    fields = as_object(issue.get("fields"))
    comments, total = comments_of(fields.get("comment"))
    description = as_text(fields.get("description")).strip()
    if len(description) > _DESCRIPTION_LIMIT:
        description = description[:_DESCRIPTION_LIMIT] + " …(truncated)"
    project = fields.get("project")
    project_key = first_text(project, "key")
    project_name = first_text(project, "name")
    return IssueDetail(
        **summarize(issue, base_url).model_dump(),
        project=f"{project_name} ({project_key})" if project_key and project_name else project_key or project_name,
        reporter=person(fields.get("reporter")),
        created=short_time(fields.get("created")),
        resolution=named(fields.get("resolution")) or "Unresolved",
        labels=as_strings(fields.get("labels"), "name", "value"),
        description=description or None,
        comments=[comment_view(c) for c in comments[-LATEST_COMMENTS:]],
        comment_count=total,
    )
