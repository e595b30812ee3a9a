"""Compact views of Jira's JSON for the model: the few fields a person asks about, and a link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from tools.jira.adf import as_text

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
    """A user object as the name people know them by."""
    if not isinstance(user, dict):
        return None
    return str(user.get("displayName") or user.get("name") or user.get("emailAddress") or user.get("accountId"))


def named(value: Any) -> str | None:
    return str(value["name"]) if isinstance(value, dict) and value.get("name") else None


def short_time(value: Any) -> str | None:
    """Jira's `2024-05-01T10:00:00.000+0000` as `2024-05-01 10:00 UTC`."""
    if not value:
        return None
    text = str(value)
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, pattern).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            continue
    return text


def summarize(raw: dict[str, Any], base_url: str) -> IssueSummary:
    fields: dict[str, Any] = raw.get("fields") or {}
    key = str(raw.get("key", ""))
    return IssueSummary(
        key=key,
        summary=str(fields.get("summary") or ""),
        status=named(fields.get("status")),
        assignee=person(fields.get("assignee")) or "Unassigned",
        priority=named(fields.get("priority")),
        type=named(fields.get("issuetype")),
        updated=short_time(fields.get("updated")),
        link=f"{base_url}/browse/{key}",
    )


def detail(raw: dict[str, Any], base_url: str) -> IssueDetail:
    fields: dict[str, Any] = raw.get("fields") or {}
    comment_block = fields.get("comment") or {}
    comments = [c for c in comment_block.get("comments") or [] if isinstance(c, dict)]
    description = as_text(fields.get("description")).strip()
    if len(description) > _DESCRIPTION_LIMIT:
        description = description[:_DESCRIPTION_LIMIT] + " …(truncated)"
    project = fields.get("project") or {}
    return IssueDetail(
        **summarize(raw, base_url).model_dump(),
        project=f"{project.get('name')} ({project.get('key')})" if project.get("key") else None,
        reporter=person(fields.get("reporter")),
        created=short_time(fields.get("created")),
        resolution=named(fields.get("resolution")) or "Unresolved",
        labels=[str(label) for label in fields.get("labels") or []],
        description=description or None,
        comments=[
            CommentView(
                author=person(c.get("author")), created=short_time(c.get("created")), body=as_text(c.get("body"))
            )
            for c in comments[-LATEST_COMMENTS:]
        ],
        comment_count=int(comment_block.get("total", len(comments)) or 0),
    )
