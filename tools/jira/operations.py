"""What the Jira tools do, on top of the client: JQL for common asks, create metadata, name resolution.

Results are compact dicts for the model (see `shapes`). A create request that lacks a field the
project requires comes back as `created: false` with the `missing` fields and their allowed values,
so the assistant can ask for them instead of showing Jira's raw 400.
"""

from __future__ import annotations

import re
from typing import Any

from tools.errors import ConnectorBadRequest, ConnectorNotFound
from tools.jira.client import JiraClient
from tools.jira.shapes import DETAIL_FIELDS, SUMMARY_FIELDS, detail, named, person, summarize
from tools.tolerant import as_object, first_text

MY_OPEN_JQL = "assignee = currentUser() AND statusCategory != Done ORDER BY priority DESC, updated DESC"
_ME = {"me", "myself", "i", "currentuser()", "current user", "self"}
_NOBODY = {"unassigned", "none", "nobody", "no one", "noone", "unassign", "-"}
# What people say for a status, mapped to Jira's status categories (new / indeterminate / done).
_CATEGORY_WORDS = {
    "done": "done",
    "closed": "done",
    "close": "done",
    "resolved": "done",
    "resolve": "done",
    "complete": "done",
    "completed": "done",
    "finished": "done",
    "inprogress": "indeterminate",
    "started": "indeterminate",
    "start": "indeterminate",
    "doing": "indeterminate",
    "todo": "new",
    "open": "new",
    "reopen": "new",
    "reopened": "new",
    "backlog": "new",
}


def jql_string(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class JiraOperations:
    """The operations behind the tools, for one integration."""

    def __init__(self, client: JiraClient) -> None:
        self.client = client
        self.site = client.config.base_url

    # ----------------------------------------------------------------- reads

    async def whoami(self) -> dict[str, Any]:
        me = await self.client.myself()
        info = await self.client.server_info()
        return {
            "user": person(me),
            "email": me.get("emailAddress"),
            "account_id": me.get("accountId") or me.get("name"),
            "site": self.site,
            "server_title": info.get("serverTitle"),
            "version": info.get("version"),
            "deployment": deployment_of(info) or self.client.config.deployment,
        }

    async def list_projects(self) -> dict[str, Any]:
        projects = await self.client.projects()
        return {
            "projects": [
                {
                    "key": p.get("key"),
                    "name": p.get("name"),
                    "type": p.get("projectTypeKey"),
                    "lead": person(p.get("lead")),
                }
                for p in projects
            ]
        }

    async def search_issues(
        self,
        *,
        jql: str | None = None,
        text: str | None = None,
        project: str | None = None,
        status: str | None = None,
        assignee: str | None = None,
        labels: list[str] | None = None,
        open_only: bool = False,
        max_results: int = 20,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        query = (
            jql.strip() if jql and jql.strip() else self.build_jql(text, project, status, assignee, labels, open_only)
        )
        page = await self.client.search(query, fields=SUMMARY_FIELDS, max_results=max_results, page=page_token)
        result: dict[str, Any] = {
            "jql": query,
            "count": len(page.issues),
            "issues": [summarize(raw, self.site) for raw in page.issues],
            "next_page_token": page.next_page,
        }
        if page.total is not None:
            result["total"] = page.total
        return result

    def build_jql(
        self,
        text: str | None,
        project: str | None,
        status: str | None,
        assignee: str | None,
        labels: list[str] | None,
        open_only: bool,
    ) -> str:
        clauses = []
        if project:
            clauses.append(f"project = {jql_string(project.upper())}")
        if text:
            clauses.append(f"text ~ {jql_string(text)}")
        if status:
            clauses.append(f"status = {jql_string(status)}")
        if assignee:
            who = assignee.strip().lower()
            if who in _ME:
                clauses.append("assignee = currentUser()")
            elif who in _NOBODY:
                clauses.append("assignee is EMPTY")
            else:
                clauses.append(f"assignee = {jql_string(assignee)}")
        for label in labels or []:
            clauses.append(f"labels = {jql_string(label)}")
        if open_only:
            clauses.append("statusCategory != Done")
        where = " AND ".join(clauses)
        return (where + " " if where else "") + "ORDER BY updated DESC"

    async def my_open_issues(self, max_results: int = 20, page_token: str | None = None) -> dict[str, Any]:
        return await self.search_issues(jql=MY_OPEN_JQL, max_results=max_results, page_token=page_token)

    async def get_issue(self, key: str) -> dict[str, Any]:
        return detail(await self.client.issue(key, DETAIL_FIELDS), self.site).model_dump()

    async def list_transitions(self, key: str) -> dict[str, Any]:
        transitions = await self.client.transitions(key)
        return {
            "key": key,
            "transitions": [
                {"id": str(t.get("id")), "name": t.get("name"), "to": named_status(t)} for t in transitions
            ],
        }

    # ----------------------------------------------------------------- writes

    async def add_comment(self, key: str, body: str) -> dict[str, Any]:
        created = await self.client.add_comment(key, body)
        return {
            "key": key,
            "comment_id": created.get("id"),
            "author": person(created.get("author")),
            "link": f"{self.client.browse_url(key)}?focusedCommentId={created.get('id')}",
        }

    async def transition_issue(self, key: str, to: str, comment: str | None = None) -> dict[str, Any]:
        before = await self.client.issue(key, ["status"])
        previous = named(as_object(before.get("fields")).get("status"))
        transitions = await self.client.transitions(key)
        chosen = pick_transition(transitions, to)
        if chosen is None:
            options = ", ".join(f"{t.get('name')} → {named_status(t)}" for t in transitions) or "none"
            raise ConnectorBadRequest(
                f"{key} cannot move to {to!r} from {previous or 'its current status'}. Available: {options}."
            )
        await self.client.transition(key, str(chosen.get("id")))
        if comment:
            await self.client.add_comment(key, comment)
        return {
            "key": key,
            "previous_status": previous,
            "status": named_status(chosen),
            "link": self.client.browse_url(key),
        }

    async def assign_issue(self, key: str, assignee: str) -> dict[str, Any]:
        user = await self.resolve_user(assignee)
        await self.client.assign(key, user)
        return {"key": key, "assignee": person(user) or "Unassigned", "link": self.client.browse_url(key)}

    async def resolve_user(self, who: str) -> dict[str, Any] | None:
        """`me`, `unassigned`, or a name / email / account id that matches exactly one person."""
        wanted = who.strip()
        if wanted.lower() in _ME:
            return await self.client.myself()
        if wanted.lower() in _NOBODY:
            return None
        found = await self.client.find_users(wanted)
        exact = [
            u
            for u in found
            if wanted.lower()
            in {str(u.get(k, "")).lower() for k in ("displayName", "emailAddress", "accountId", "name", "key")}
        ]
        matches = exact or found
        if not matches:
            raise ConnectorNotFound(f"No Jira user matches {wanted!r}.")
        if len(matches) > 1:
            names = ", ".join(filter(None, (person(u) for u in matches[:8])))
            raise ConnectorBadRequest(f"Several Jira users match {wanted!r}: {names}. Say which one.")
        return matches[0]

    async def create_issue(
        self,
        *,
        summary: str,
        project: str | None = None,
        issue_type: str | None = None,
        description: str | None = None,
        priority: str | None = None,
        labels: list[str] | None = None,
        assignee: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        key = (project or self.client.config.default_project or "").strip().upper()
        if not key:
            projects = (await self.list_projects())["projects"]
            return {
                "created": False,
                "missing": [{"field": "project", "name": "Project", "allowed": [p["key"] for p in projects]}],
                "message": "Which project should the issue go to?",
            }
        types = [t for t in await self.client.create_meta_issue_types(key) if not t.get("subtask")]
        if not types:
            raise ConnectorBadRequest(f"This account cannot create issues in project {key}.")
        wanted_type = (issue_type or "Task").strip().lower()
        chosen = next((t for t in types if str(t.get("name", "")).lower() == wanted_type), None)
        if chosen is None and issue_type is None:
            chosen = types[0]
        if chosen is None:
            return {
                "created": False,
                "project": key,
                "missing": [{"field": "issuetype", "name": "Issue Type", "allowed": [t.get("name") for t in types]}],
                "message": f"Project {key} has no issue type {issue_type!r}.",
            }
        meta = await self.client.create_meta_fields(key, str(chosen.get("id")))
        payload: dict[str, Any] = {
            "project": {"key": key},
            "issuetype": {"id": str(chosen.get("id"))},
            "summary": summary,
        }
        if description:
            payload["description"] = self.client.body(description)
        if labels:
            payload["labels"] = [re.sub(r"\s+", "-", label.strip()) for label in labels if label.strip()]
        if priority:
            payload["priority"] = {"name": allowed_name(_field(meta, "priority"), priority, "priority")}
        if assignee:
            user = await self.resolve_user(assignee)
            if user is not None:
                payload["assignee"] = (
                    {"accountId": user.get("accountId")} if self.client.is_cloud else {"name": user.get("name")}
                )
        for name, value in (fields or {}).items():
            field = _field(meta, name)
            if field is None:
                raise ConnectorBadRequest(f"Project {key} has no field {name!r} for {chosen.get('name')} issues.")
            payload[str(field.get("key") or field.get("fieldId"))] = field_value(field, value)
        missing = []
        for field in meta:
            field_key = str(field.get("key") or field.get("fieldId"))
            if not field.get("required") or field.get("hasDefaultValue") or field_key in payload:
                continue
            allowed = [_option_name(v) for v in _allowed(field)]
            if len(allowed) == 1:  # only one possible value: fill it rather than ask
                payload[field_key] = field_value(field, allowed[0])
            elif field_key == "reporter":  # the person asking reports it
                me = await self.client.myself()
                payload["reporter"] = (
                    {"accountId": me.get("accountId")} if self.client.is_cloud else {"name": me.get("name")}
                )
            else:
                missing.append({"field": field_key, "name": field.get("name"), "allowed": allowed[:25]})
        if missing:
            names = ", ".join(str(m["name"]) for m in missing)
            return {
                "created": False,
                "project": key,
                "issue_type": chosen.get("name"),
                "missing": missing,
                "message": f"Jira requires {names} for {chosen.get('name')} issues in {key}.",
            }
        created = await self.client.create_issue(payload)
        new_key = str(created.get("key"))
        return {
            "created": True,
            "key": new_key,
            "summary": summary,
            "project": key,
            "issue_type": chosen.get("name"),
            "link": self.client.browse_url(new_key),
        }


def deployment_of(info: dict[str, Any]) -> str | None:
    """`cloud` / `datacenter` from serverInfo's optional `deploymentType`; None when absent or unknown."""
    kind = str(info.get("deploymentType") or "").strip().lower()
    if kind == "cloud":
        return "cloud"
    if kind in ("server", "datacenter", "data center"):
        return "datacenter"
    return None


def named_status(transition: dict[str, Any]) -> str | None:
    return named(transition.get("to"))


def pick_transition(transitions: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """By id, transition name or target status; then by status category (`done`, `start`...)."""
    squashed = _squash(wanted)
    for transition in transitions:
        if squashed in (str(transition.get("id")), _squash(str(transition.get("name", "")))):
            return transition
    for transition in transitions:
        if _squash(named_status(transition) or "") == squashed:
            return transition
    category = _CATEGORY_WORDS.get(squashed)
    if category is None:
        return None
    for transition in transitions:
        target = as_object(transition.get("to"))
        if first_text(target.get("statusCategory"), "key") == category:
            return transition
    return None


def _field(meta: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    wanted = _squash(name)
    for field in meta:
        if wanted in {_squash(str(field.get(k, ""))) for k in ("key", "fieldId", "name")}:
            return field
    if wanted.endswith("s"):  # "components" vs "Component/s"
        return _field(meta, wanted[:-1]) if len(wanted) > 1 else None
    return None


def _allowed(field: dict[str, Any]) -> list[Any]:
    values = field.get("allowedValues")
    return values if isinstance(values, list) else []


def _option_name(option: Any) -> str:
    if isinstance(option, dict):
        return str(option.get("name") or option.get("value") or option.get("id"))
    return str(option)


def allowed_name(field: dict[str, Any] | None, value: str, label: str) -> str:
    """The allowed value matching `value` case-insensitively, or a clear refusal listing the options."""
    options = [_option_name(v) for v in _allowed(field or {})]
    if not options:
        return value
    for option in options:
        if option.lower() == value.strip().lower():
            return option
    raise ConnectorBadRequest(f"{value!r} is not a valid {label}. Choose one of: {', '.join(options)}.")


def field_value(field: dict[str, Any], value: str) -> Any:
    """Shape a plain value for a create-metadata field by its schema."""
    schema = as_object(field.get("schema"))
    kind, items = schema.get("type"), schema.get("items")
    name = str(field.get("name") or field.get("key"))
    if kind == "array":
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if items in ("component", "version", "option"):
            wrapper = "value" if items == "option" else "name"
            return [{wrapper: allowed_name(field, p, name)} for p in parts]
        return parts
    if kind in ("priority", "component", "version", "resolution"):
        return {"name": allowed_name(field, value, name)}
    if kind == "option":
        return {"value": allowed_name(field, value, name)}
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise ConnectorBadRequest(f"{name} must be a number, not {value!r}.") from None
    return value
