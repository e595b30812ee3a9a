"""LangChain tools for one Jira integration: typed arguments, compact results, writes marked `write`.

Operation ids (stable; the offline model and the approval policy key on them): `jira.whoami`,
`jira.list_projects`, `jira.my_open_issues`, `jira.search_issues`, `jira.get_issue`,
`jira.list_transitions` (reads); `jira.create_issue`, `jira.add_comment`, `jira.transition_issue`,
`jira.assign_issue` (writes: they ask for approval by default).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from langchain_core.tools import BaseTool
from pydantic import AfterValidator, BaseModel, Field

from tools.base import IntegrationContext, ToolAccess
from tools.jira.client import JiraClient
from tools.jira.config import JiraConfig, JiraCredentials
from tools.jira.operations import JiraOperations
from tools.tooling import Summarizer, make_tool, quoted

_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,9}-[1-9][0-9]{0,8}$")


def _issue_key(value: str) -> str:
    key = value.strip().upper()
    if not _KEY.match(key):
        raise ValueError("must be an issue key such as OPS-12")
    return key


IssueKey = Annotated[
    str, Field(min_length=3, max_length=24, description="Issue key, e.g. OPS-12"), AfterValidator(_issue_key)
]


class NoArgs(BaseModel):
    pass


class PageArgs(BaseModel):
    max_results: int = Field(default=20, ge=1, le=50, description="How many issues to return (1-50)")
    page_token: str | None = Field(default=None, max_length=500, description="next_page_token of the previous page")


class SearchArgs(PageArgs):
    jql: str | None = Field(
        default=None,
        max_length=2000,
        description="A JQL query, e.g. project = OPS AND statusCategory != Done ORDER BY updated DESC. "
        "When given, the other filters are ignored.",
    )
    text: str | None = Field(
        default=None, max_length=200, description="Words to find in summary, description, comments"
    )
    project: str | None = Field(default=None, max_length=10, description="Project key, e.g. OPS")
    status: str | None = Field(default=None, max_length=60, description='Status name, e.g. "In Progress"')
    assignee: str | None = Field(default=None, max_length=120, description='"me", "unassigned", or a person')
    labels: list[str] | None = Field(default=None, max_length=10, description="Issues carrying all these labels")
    open_only: bool = Field(default=False, description="Only issues that are not done")


class IssueArgs(BaseModel):
    key: IssueKey


class CreateArgs(BaseModel):
    summary: str = Field(min_length=1, max_length=255, description="One-line title of the issue")
    project: str | None = Field(default=None, max_length=10, description="Project key; the site's default when omitted")
    issue_type: str | None = Field(default=None, max_length=60, description="Task, Bug, Story... (Task by default)")
    description: str | None = Field(default=None, max_length=20_000, description="Details, in markdown")
    priority: str | None = Field(default=None, max_length=60, description="Highest, High, Medium, Low or Lowest")
    labels: list[str] | None = Field(default=None, max_length=20, description="Labels (no spaces)")
    assignee: str | None = Field(default=None, max_length=120, description='"me" or a person\'s name or email')
    fields: dict[str, str] | None = Field(
        default=None,
        max_length=20,
        description='Other fields the project requires, by name, e.g. {"Component/s": "Database"}',
    )


class CommentArgs(BaseModel):
    key: IssueKey
    body: str = Field(min_length=1, max_length=20_000, description="The comment, in markdown")


class TransitionArgs(BaseModel):
    key: IssueKey
    to: str = Field(min_length=1, max_length=60, description='Target status or transition, e.g. "Done", "In Progress"')
    comment: str | None = Field(default=None, max_length=20_000, description="Optional comment to add with the move")


class AssignArgs(BaseModel):
    key: IssueKey
    assignee: str = Field(min_length=1, max_length=120, description='"me", "unassigned", or a person\'s name or email')


def _summarize_create(args: dict[str, Any]) -> str:
    kind = str(args.get("issue_type") or "Task")
    project = str(args.get("project") or "the default project").upper()
    return f"Create a {kind} in {project} \u2014 {quoted(args['summary'])}"


def _summarize_comment(args: dict[str, Any]) -> str:
    return f"Comment on {str(args['key']).upper()} \u2014 {quoted(args['body'], 60)}"


def _summarize_transition(args: dict[str, Any]) -> str:
    extra = " with a comment" if args.get("comment") else ""
    return f"Move {str(args['key']).upper()} to {args['to']}{extra}"


def _summarize_assign(args: dict[str, Any]) -> str:
    key, who = str(args["key"]).upper(), str(args["assignee"]).strip()
    if who.lower() == "unassigned":
        return f"Unassign {key}"
    return f"Assign {key} to {'you' if who.lower() == 'me' else who}"


def operations_for(ctx: IntegrationContext) -> JiraOperations:
    assert isinstance(ctx.config, JiraConfig) and isinstance(ctx.credentials, JiraCredentials)
    return JiraOperations(JiraClient(ctx.config, ctx.credentials, outbound=ctx.outbound))


def build_jira_tools(ctx: IntegrationContext) -> list[BaseTool]:
    ops = operations_for(ctx)

    def tool(
        func: Callable[..., Awaitable[Any]],
        operation: str,
        schema: type[BaseModel],
        access: ToolAccess,
        description: str,
        summarize: Summarizer | None = None,
    ) -> BaseTool:
        return make_tool(
            func,
            operation=operation,
            description=description,
            args_schema=schema,
            access=access,
            # Reads need the API-key scope jira:read, every change jira:write.
            scope="jira:read" if access == "read" else "jira:write",
            integration_id=ctx.id,
            integration_name=ctx.name,
            integration_type="jira",
            summarize=summarize,
        )

    return [
        tool(ops.my_open_issues, "jira.my_open_issues", PageArgs, "read",
             "List the Jira issues assigned to the signed-in user that are not done, most important first."),
        tool(ops.search_issues, "jira.search_issues", SearchArgs, "read",
             "Search Jira issues with JQL, or by text, project, status, assignee and labels. Returns key, "
             "summary, status, assignee, priority, updated and a link for each, plus next_page_token."),
        tool(ops.get_issue, "jira.get_issue", IssueArgs, "read",
             "Show one Jira issue: summary, status, priority, assignee, reporter, description, labels and "
             "the latest comments."),
        tool(ops.list_transitions, "jira.list_transitions", IssueArgs, "read",
             "List the statuses a Jira issue can move to now (its workflow transitions)."),
        tool(ops.list_projects, "jira.list_projects", NoArgs, "read", "List the Jira projects this account can see."),
        tool(ops.whoami, "jira.whoami", NoArgs, "read",
             "Who the assistant is signed in as on this Jira site, and the site's version and deployment."),
        tool(ops.create_issue, "jira.create_issue", CreateArgs, "write",
             "Create a Jira issue. Reads the project's required fields first; if some are missing it returns "
             "created=false with the missing fields and their allowed values instead of creating anything.",
             _summarize_create),
        tool(ops.add_comment, "jira.add_comment", CommentArgs, "write", "Add a comment to a Jira issue.",
             _summarize_comment),
        tool(ops.transition_issue, "jira.transition_issue", TransitionArgs, "write",
             "Move a Jira issue to another status (e.g. Done, In Progress), optionally with a comment.",
             _summarize_transition),
        tool(ops.assign_issue, "jira.assign_issue", AssignArgs, "write",
             'Assign a Jira issue to "me", to a person (name or email), or to nobody ("unassigned").',
             _summarize_assign),
    ]  # fmt: skip
