"""The Jira sandbox's in-memory site: users, projects, issues, and their JSON in Jira's REST shapes.

Descriptions and comment bodies are stored as ADF (like Jira Cloud) and rendered per API version:
ADF on v3, markdown text on v2. User objects follow the deployment: `accountId` on Cloud,
`name`/`key` on Data Center. Shapes follow Atlassian's OpenAPI document (IssueBean, User, Project,
StatusDetails, FieldCreateMetadata...).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tools.jira.adf import as_text, markdown_to_adf
from tools.jira.sandbox_jql import JqlContext
from tools.jira.sandbox_seed import (
    COMPONENTS,
    ISSUE_TYPES,
    ISSUES,
    PRIORITIES,
    PROJECTS,
    SITE_TITLE,
    STATUSES,
    USERS,
    SeedProject,
    SeedUser,
)

Flavour = Literal["cloud", "datacenter"]


def jira_time(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000") if moment else None


@dataclass
class StoredComment:
    id: str
    author: str
    body: dict[str, Any]
    created: datetime


@dataclass
class StoredIssue:
    id: str
    key: str
    project: str
    type: str
    summary: str
    description: dict[str, Any] | None
    status: str
    priority: str
    assignee: str | None
    reporter: str
    labels: list[str]
    components: list[str]
    created: datetime
    updated: datetime
    resolved: datetime | None = None
    comments: list[StoredComment] = field(default_factory=list)

    @property
    def resolution(self) -> str | None:
        return "Done" if self.status == "Done" else None

    def jql_value(self, name: str) -> Any:
        """The value a JQL clause on `name` compares against."""
        comments = " ".join(as_text(c.body) for c in self.comments)
        description = as_text(self.description)
        values: dict[str, Any] = {
            "project": self.project,
            "key": self.key,
            "assignee": self.assignee,
            "reporter": self.reporter,
            "status": self.status,
            "statusCategory": STATUSES[self.status][3],
            "resolution": self.resolution,
            "priority": self.priority,
            "issuetype": self.type,
            "labels": self.labels,
            "component": self.components,
            "summary": self.summary,
            "description": description,
            "comment": comments,
            "text": " ".join((self.summary, description, comments)),
            "created": self.created,
            "updated": self.updated,
            "resolved": self.resolved,
        }
        return values[name]


@dataclass
class Fault:
    """Answer the next `count` matching requests with `status` (and/or after `delay_s`)."""

    count: int
    status: int | None = None
    retry_after: str | None = None
    delay_s: float = 0.0
    path: str = "/rest/"


class JiraState:
    """One sandbox site. Not thread-safe: the app serves it from one event loop."""

    def __init__(self, base_url: str, flavour: Flavour = "cloud", anchor: datetime | None = None) -> None:
        self.base_url = base_url
        self.flavour: Flavour = flavour
        self.anchor = (anchor or datetime.now(UTC)).replace(second=0, microsecond=0)
        self.users: dict[str, SeedUser] = {u.username: u for u in USERS}
        self.projects: dict[str, SeedProject] = {p.key: p for p in PROJECTS}
        self.issues: dict[str, StoredIssue] = {}
        self.faults: list[Fault] = []
        self.requests: list[str] = []  # "GET /rest/api/3/myself", for tests that count retries
        # Guards the /_sandbox controls; generated per start, handed only to whoever started the sandbox.
        self.control_secret = secrets.token_urlsafe(32)
        self._next_comment = 10000
        self.seed()

    # ----------------------------------------------------------------- seeding

    def seed(self) -> None:
        self.issues.clear()
        for number, seed in enumerate(ISSUES):
            created = self.anchor - timedelta(days=seed.created_days, minutes=number)
            updated = self.anchor - timedelta(days=seed.updated_days, minutes=number)
            issue = StoredIssue(
                id=str(10001 + number),
                key=seed.key,
                project=seed.key.split("-")[0],
                type=seed.type,
                summary=seed.summary,
                description=markdown_to_adf(seed.description) if seed.description else None,
                status=seed.status,
                priority=seed.priority,
                assignee=seed.assignee,
                reporter=seed.reporter,
                labels=list(seed.labels),
                components=list(seed.components),
                created=created,
                updated=updated,
                resolved=updated if seed.status == "Done" else None,
            )
            for offset, (author, text) in enumerate(seed.comments):
                issue.comments.append(
                    StoredComment(
                        self.comment_id(), author, markdown_to_adf(text), created + timedelta(hours=offset + 1)
                    )
                )
            self.issues[seed.key] = issue

    def issue_id(self) -> str:
        return str(10001 + max((int(i.id) - 10001 for i in self.issues.values()), default=-1) + 1)

    def comment_id(self) -> str:
        self._next_comment += 1
        return str(self._next_comment)

    def next_key(self, project: str) -> str:
        numbers = [int(k.split("-")[1]) for k in self.issues if k.startswith(project + "-")]
        return f"{project}-{max(numbers, default=0) + 1}"

    # ----------------------------------------------------------------- lookups

    def authenticate_basic(self, login: str, secret: str) -> SeedUser | None:
        for user in self.users.values():
            if login.lower() in (user.email, user.username) and secret in (user.api_token, user.pat):
                return user
        return None

    def authenticate_bearer(self, token: str) -> SeedUser | None:
        return next((u for u in self.users.values() if token == u.pat), None)

    def find_user(self, spelling: str | None) -> SeedUser | None:
        if not spelling:
            return None
        wanted = spelling.lower()
        for user in self.users.values():
            if wanted in (user.account_id, user.username, user.email, user.display_name.lower()):
                return user
        return None

    def visible(self, viewer: SeedUser) -> list[StoredIssue]:
        return list(self.issues.values()) if viewer.browse else []

    def jql_context(self, viewer: SeedUser) -> JqlContext:
        def user_ids(spelling: str) -> set[str]:
            user = self.find_user(spelling)
            return {user.username} if user else {spelling.lower()}

        statuses = {s.lower() for s in STATUSES}
        return JqlContext(
            current_user=viewer.username,
            now=datetime.now(UTC),
            user_ids=user_ids,
            known={
                "project": {k.lower() for k in self.projects} | {p.name.lower() for p in self.projects.values()},
                "status": statuses,
                "statusCategory": {"to do", "in progress", "done", "new", "indeterminate"},
                "priority": {p.lower() for p in PRIORITIES},
                "issuetype": {t.lower() for t in ISSUE_TYPES},
                "resolution": {"done", "unresolved"},
            },
            priority_rank={p.lower(): rank for rank, p in enumerate(PRIORITIES)},
            project_rank={key.lower(): rank for rank, key in enumerate(self.projects)},
        )

    # ----------------------------------------------------------------- JSON

    def api(self, version: str) -> str:
        return f"{self.base_url}/rest/api/{version}"

    def user_json(self, user: SeedUser | None, version: str) -> dict[str, Any] | None:
        if user is None:
            return None
        shaped: dict[str, Any] = {
            "displayName": user.display_name,
            "emailAddress": user.email,
            "active": user.product_access,
            "timeZone": "UTC",
            "avatarUrls": {size: f"{self.base_url}/avatar/{user.username}?s={size}" for size in ("16x16", "48x48")},
        }
        if self.flavour == "cloud":
            shaped |= {"self": f"{self.api(version)}/user?accountId={user.account_id}", "accountId": user.account_id}
            shaped["accountType"] = "atlassian"
        else:
            shaped |= {"self": f"{self.api(version)}/user?username={user.username}", "name": user.username}
            shaped["key"] = user.username
        return shaped

    def status_json(self, name: str, version: str) -> dict[str, Any]:
        status_id, category_key, category_id, category_name, colour = STATUSES[name]
        return {
            "self": f"{self.api(version)}/status/{status_id}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": name,
            "id": status_id,
            "statusCategory": {
                "self": f"{self.api(version)}/statuscategory/{category_id}",
                "id": category_id,
                "key": category_key,
                "colorName": colour,
                "name": category_name,
            },
        }

    def priority_json(self, name: str, version: str) -> dict[str, Any]:
        number = str(PRIORITIES.index(name) + 1)
        icon = f"{self.base_url}/images/icons/priorities/{name.lower()}.svg"
        return {"self": f"{self.api(version)}/priority/{number}", "iconUrl": icon, "name": name, "id": number}

    def issue_type_json(self, name: str, version: str) -> dict[str, Any]:
        type_id, subtask, description = ISSUE_TYPES[name]
        return {
            "self": f"{self.api(version)}/issuetype/{type_id}",
            "id": type_id,
            "description": description,
            "iconUrl": f"{self.base_url}/images/icons/issuetypes/{name.lower()}.svg",
            "name": name,
            "subtask": subtask,
            "hierarchyLevel": -1 if subtask else 0,
        }

    def project_json(self, project: SeedProject, version: str, *, full: bool = False) -> dict[str, Any]:
        shaped: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.api(version)}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": project.type_key,
            "simplified": False,
            "style": "classic",
            "isPrivate": False,
            "avatarUrls": {"48x48": f"{self.base_url}/avatar/project/{project.key}"},
        }
        if full:
            shaped["description"] = project.description
            shaped["lead"] = self.user_json(self.users[project.lead], version)
            shaped["issueTypes"] = [self.issue_type_json(t, version) for t in project.issue_types]
        return shaped

    def body(self, document: dict[str, Any] | None, version: str) -> Any:
        if document is None:
            return None
        return document if version == "3" else as_text(document)

    def comment_json(self, issue: StoredIssue, comment: StoredComment, version: str) -> dict[str, Any]:
        author = self.user_json(self.users.get(comment.author), version)
        return {
            "self": f"{self.api(version)}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": author,
            "body": self.body(comment.body, version),
            "updateAuthor": author,
            "created": jira_time(comment.created),
            "updated": jira_time(comment.created),
            "jsdPublic": True,
        }

    def issue_json(self, issue: StoredIssue, version: str, fields: set[str] | None) -> dict[str, Any]:
        everything: dict[str, Any] = {
            "summary": issue.summary,
            "status": self.status_json(issue.status, version),
            "priority": self.priority_json(issue.priority, version),
            "assignee": self.user_json(self.users.get(issue.assignee or ""), version),
            "reporter": self.user_json(self.users.get(issue.reporter), version),
            "creator": self.user_json(self.users.get(issue.reporter), version),
            "issuetype": self.issue_type_json(issue.type, version),
            "project": self.project_json(self.projects[issue.project], version),
            "labels": list(issue.labels),
            "components": [{"name": c, "self": f"{self.api(version)}/component/{c}"} for c in issue.components],
            "created": jira_time(issue.created),
            "updated": jira_time(issue.updated),
            "resolution": {"self": f"{self.api(version)}/resolution/10000", "id": "10000", "name": "Done",
                           "description": "Work has been completed on this issue."} if issue.resolution else None,
            "resolutiondate": jira_time(issue.resolved),
            "description": self.body(issue.description, version),
            "comment": {
                "comments": [self.comment_json(issue, c, version) for c in issue.comments],
                "self": f"{self.api(version)}/issue/{issue.id}/comment",
                "maxResults": len(issue.comments),
                "total": len(issue.comments),
                "startAt": 0,
            },
        }  # fmt: skip
        chosen = everything if fields is None else {k: v for k, v in everything.items() if k in fields}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id,
            "self": f"{self.api(version)}/issue/{issue.id}",
            "key": issue.key,
            "fields": chosen,
        }

    def create_fields(self, project: SeedProject, type_name: str, version: str) -> list[dict[str, Any]]:
        """FieldCreateMetadata for a project and issue type; OPS Incidents require priority and components."""
        strict = project.key == "OPS" and type_name == "Incident"

        def meta(key: str, name: str, schema: dict[str, Any], required: bool, **extra: Any) -> dict[str, Any]:
            return {"required": required, "schema": schema, "name": name, "key": key, "fieldId": key,
                    "hasDefaultValue": extra.pop("default", False), "operations": ["set"], **extra}  # fmt: skip

        fields = [
            meta("summary", "Summary", {"type": "string", "system": "summary"}, True),
            meta("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}, True,
                 allowedValues=[self.issue_type_json(type_name, version)]),
            meta("project", "Project", {"type": "project", "system": "project"}, True,
                 allowedValues=[self.project_json(project, version)]),
            meta("description", "Description", {"type": "string", "system": "description"}, False),
            meta("priority", "Priority", {"type": "priority", "system": "priority"}, strict, default=not strict,
                 allowedValues=[self.priority_json(p, version) for p in PRIORITIES]),
            meta("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}, False),
            meta("assignee", "Assignee", {"type": "user", "system": "assignee"}, False),
            meta("reporter", "Reporter", {"type": "user", "system": "reporter"}, True, default=True),
        ]  # fmt: skip
        if project.key in COMPONENTS:
            fields.append(
                meta("components", "Component/s", {"type": "array", "items": "component", "system": "components"},
                     strict, allowedValues=[{"id": str(i), "name": c} for i, c in enumerate(COMPONENTS[project.key])])
            )  # fmt: skip
        return fields

    def server_info(self) -> dict[str, Any]:
        cloud = self.flavour == "cloud"
        return {
            "baseUrl": self.base_url,
            "displayUrl": self.base_url,
            "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.2",
            "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 2],
            "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": 100281 if cloud else 9120002,
            "buildDate": "2026-01-15T00:00:00.000+0000",
            "serverTime": jira_time(datetime.now(UTC)),
            "scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71",
            "serverTitle": SITE_TITLE,
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }
