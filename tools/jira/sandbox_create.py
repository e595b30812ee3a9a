"""How the Jira sandbox validates a create request and a body, with Jira's field errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tools.jira.adf import markdown_to_adf
from tools.jira.sandbox_errors import JiraFailure
from tools.jira.sandbox_seed import ISSUE_TYPES, PRIORITIES, SeedUser
from tools.jira.sandbox_state import JiraState, StoredIssue


def document(value: Any, version: str, field: str) -> dict[str, Any] | None:
    """A v3 body must be an ADF document; v2 takes wiki text (stored as ADF here)."""
    if value is None or value == "":
        return None
    if version == "3":
        if not isinstance(value, dict) or value.get("type") != "doc" or not isinstance(value.get("content"), list):
            raise JiraFailure(
                400, [], {field: "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}
            )
        return value
    if not isinstance(value, str):
        raise JiraFailure(400, [], {field: "Operation value must be a string"})
    return markdown_to_adf(value)


def new_issue(state: JiraState, user: SeedUser, version: str, fields: Any) -> StoredIssue:
    """Validate a create request like Jira does: field errors keyed by field id."""
    if not isinstance(fields, dict):
        raise JiraFailure(400, ["Field 'fields' is required."])
    errors: dict[str, str] = {}
    project_ref = fields.get("project") or {}
    project_key = str(project_ref.get("key") or project_ref.get("id") or "") if isinstance(project_ref, dict) else ""
    project = state.projects.get(project_key.upper()) or next(
        (p for p in state.projects.values() if p.id == project_key), None
    )
    if project is None or not user.browse:
        raise JiraFailure(400, [], {"project": "Specify a valid project ID or key"})
    type_ref = fields.get("issuetype") or {}
    type_name = None
    if isinstance(type_ref, dict):
        type_name = next(
            (n for n in project.issue_types if type_ref.get("id") == ISSUE_TYPES[n][0] or type_ref.get("name") == n),
            None,
        )
    if type_name is None:
        raise JiraFailure(400, [], {"issuetype": "Specify a valid issue type"})
    summary = fields.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "You must specify a summary of the issue."
    elif len(summary) > 255:
        errors["summary"] = "Summary must be less than 255 characters."
    priority = "Medium"
    if fields.get("priority") is not None:
        ref = fields["priority"]
        wanted = ref.get("name") or ref.get("id") if isinstance(ref, dict) else None
        match = next((p for i, p in enumerate(PRIORITIES) if wanted in (p, str(i + 1))), None)
        if match is None:
            errors["priority"] = f"The priority selected is invalid: {wanted!r}."
        else:
            priority = match
    labels = fields.get("labels") or []
    if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
        errors["labels"] = "Labels must be a list of words without spaces."
    components = [c.get("name") for c in fields.get("components") or [] if isinstance(c, dict)]
    for meta in state.create_fields(project, type_name, version):
        key = meta["key"]
        if meta["required"] and not meta["hasDefaultValue"] and not fields.get(key) and key not in errors:
            errors[key] = f"{meta['name']} is required."
    assignee = None
    if fields.get("assignee"):
        ref = fields["assignee"]
        spelling = (ref.get("accountId") or ref.get("name")) if isinstance(ref, dict) else None
        found = state.find_user(spelling)
        if found is None:
            errors["assignee"] = f"User '{spelling}' does not exist."
        else:
            assignee = found.username
    description = None
    try:
        description = document(fields.get("description"), version, "description")
    except JiraFailure as exc:
        errors.update(exc.errors)
    if errors:
        raise JiraFailure(400, [], errors)
    now = datetime.now(UTC)
    return StoredIssue(
        id=state.issue_id(),
        key=state.next_key(project.key),
        project=project.key,
        type=type_name,
        summary=str(summary).strip(),
        description=description,
        status="To Do",
        priority=priority,
        assignee=assignee,
        reporter=user.username,
        labels=list(labels),
        components=[str(c) for c in components],
        created=now,
        updated=now,
    )
