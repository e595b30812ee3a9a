"""What a Jira integration stores: the site (config) and how we sign in (credentials)."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from tools.errors import ConnectorConfigError

Deployment = Literal["cloud", "datacenter"]

# Paths people paste from the browser's address bar; the REST API lives at the site root (Cloud).
_CLOUD_UI_PATH = re.compile(r"/(browse|jira|secure|projects|issues)(/.*)?$")
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")


class JiraConfig(BaseModel):
    """The Jira site."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        min_length=8,
        max_length=500,
        description="Site address, e.g. https://your-team.atlassian.net or https://jira.example.com/jira",
    )
    deployment: Deployment = Field(
        default="cloud",
        description="cloud: Atlassian Cloud (email + API token); "
        "datacenter: Server/Data Center (personal access token)",
    )
    default_project: str | None = Field(
        default=None, max_length=10, description="Project key used when a request names none, e.g. OPS"
    )
    timeout_s: float = Field(default=15.0, ge=0.5, le=120, description="Per-request timeout in seconds")

    @field_validator("base_url")
    @classmethod
    def _site_root(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) address such as https://your-team.atlassian.net")
        if parts.query or parts.fragment or parts.username:
            raise ValueError("must be the site address only, without a query, fragment or user name")
        path = parts.path.rstrip("/")
        if parts.hostname.endswith(".atlassian.net"):
            path = _CLOUD_UI_PATH.sub("", path)
        return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))

    @field_validator("default_project")
    @classmethod
    def _project_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        key = value.strip().upper()
        if not _PROJECT_KEY.match(key):
            raise ValueError("must be a project key such as OPS (letters and digits, starting with a letter)")
        return key


# Stored encrypted by the backend and never returned; the UI renders these as password inputs.
_SECRET: JsonDict = {"writeOnly": True, "format": "password"}


class JiraCredentials(BaseModel):
    """Cloud: `email` + `api_token` (basic auth). Data Center: `personal_access_token` (bearer)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "description": "Jira Cloud: your Atlassian account email and an API token "
            "(id.atlassian.com → Security → API tokens). Data Center: a personal access token "
            "(profile → Personal Access Tokens)."
        },
    )

    email: str | None = Field(default=None, max_length=254, description="Cloud only: the Atlassian account email")
    api_token: str | None = Field(
        default=None, max_length=500, description="Cloud only: an Atlassian API token", json_schema_extra=_SECRET
    )
    personal_access_token: str | None = Field(
        default=None, max_length=500, description="Data Center only: a personal access token", json_schema_extra=_SECRET
    )

    @field_validator("email", "api_token", "personal_access_token")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        # Forms send "" for the fields of the other deployment; that means "not given".
        return value.strip() or None if value is not None else None


def check_pair(config: JiraConfig, credentials: JiraCredentials | None) -> None:
    """Refuse credentials that do not fit the deployment, with a sentence that says what to change."""
    if credentials is None:
        raise ConnectorConfigError("Jira needs credentials: an email and API token (Cloud) or a personal access token.")
    if config.deployment == "cloud":
        if credentials.personal_access_token is not None:
            raise ConnectorConfigError(
                "Jira Cloud signs in with an email and API token, not a personal access token.",
                remediation="Set deployment to datacenter, or give email and api_token.",
            )
        if not credentials.email or not credentials.api_token:
            raise ConnectorConfigError("Jira Cloud needs both the account email and an API token.")
        if "@" not in credentials.email:
            raise ConnectorConfigError("The Jira Cloud email must be an email address.")
        return
    if credentials.api_token is not None or credentials.email:
        raise ConnectorConfigError(
            "Jira Data Center signs in with a personal access token, not an email and API token.",
            remediation="Set deployment to cloud, or give personal_access_token.",
        )
    if not credentials.personal_access_token:
        raise ConnectorConfigError("Jira Data Center needs a personal access token.")
