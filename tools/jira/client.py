"""An async Jira client: the synchronous `jira` library in a worker thread, with our error tree.

Every call has a timeout (the config's, for connect and read), runs the outbound guard first (DNS can
change between save and call), and is retried a bounded number of times when Jira answers 429 or
503 — after the `Retry-After` it asks for, when that is short enough. The library's own retry loop is
off: it sleeps in the worker thread for tens of seconds on connection errors, which would hold a
chat turn hostage. Cloud speaks REST v3 (ADF bodies, `/search/jql` with `nextPageToken`); Data
Center speaks v2 (plain-text bodies, `/search` with `startAt`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from tools.errors import (
    ConnectorAuthError,
    ConnectorBadRequest,
    ConnectorError,
    ConnectorNotFound,
    ConnectorPermissionError,
    ConnectorProtocolError,
    ConnectorRateLimited,
    ConnectorTimeout,
    ConnectorUnreachable,
)
from tools.jira.adf import markdown_to_adf
from tools.jira.config import JiraConfig, JiraCredentials
from tools.jira.wire import as_int, as_items, as_object, jira_error_text, parse_json, read_capped
from tools.net import OutboundPolicy
from tools.pinning import AddressPins, mount_pinned

T = TypeVar("T")

# Enough for the model to page through; small enough that one answer stays readable.
MAX_PAGE = 50


@dataclass(frozen=True)
class SearchPage:
    issues: list[dict[str, Any]]
    next_page: str | None  # opaque: Cloud's nextPageToken, or "start:<n>" on Data Center
    total: int | None  # Data Center reports it; Cloud's /search/jql does not


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    max_wait_s: float = 10.0  # a longer Retry-After fails fast with "try again in N s"
    base_backoff_s: float = 0.5


class JiraClient:
    """One Jira site with one set of credentials."""

    def __init__(
        self,
        config: JiraConfig,
        credentials: JiraCredentials,
        *,
        outbound: OutboundPolicy | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.outbound = outbound or OutboundPolicy()
        self.retry = retry or RetryPolicy()
        self._library: JIRA | None = None
        self._pins = AddressPins()  # the library's connections go to the address `call` just checked
        self.calls = 0  # HTTP attempts made, retries included (tests and diagnostics)

    @property
    def is_cloud(self) -> bool:
        return self.config.deployment == "cloud"

    def browse_url(self, key: str) -> str:
        return f"{self.config.base_url}/browse/{key}"

    def body(self, markdown: str) -> Any:
        """A description or comment body in this deployment's format (ADF on Cloud v3)."""
        return markdown_to_adf(markdown) if self.is_cloud else markdown

    # ----------------------------------------------------------------- plumbing

    def _jira(self) -> JIRA:
        if self._library is None:
            timeout = (min(self.config.timeout_s, 10.0), self.config.timeout_s)
            auth: dict[str, Any] = (
                {"basic_auth": (self.credentials.email or "", self.credentials.api_token or "")}
                if self.is_cloud
                else {"token_auth": self.credentials.personal_access_token or ""}
            )
            library = JIRA(
                server=self.config.base_url,
                options={"rest_api_version": "3" if self.is_cloud else "2", "check_update": False},
                get_server_info=False,  # we know the deployment; test_connection checks it
                max_retries=0,
                timeout=timeout,
                logging=False,
                **auth,
            )
            library.deploymentType = "Cloud" if self.is_cloud else "Server"
            # requests follows redirects by default, and a redirect's target never passed the outbound
            # guard (a site could bounce us to 169.254.169.254): refuse every redirect instead.
            library._session.max_redirects = 0
            mount_pinned(library._session, self._pins)
            self._library = library
        return self._library

    async def call(self, operation: Callable[[JIRA], T], what: str) -> T:
        """Run `operation(jira)` in a worker thread; retries 429/503, maps every failure to ConnectorError."""
        await self._pins.check_url(self.outbound, self.config.base_url)
        attempt = 0
        while True:
            self.calls += 1
            try:
                return await asyncio.to_thread(lambda: operation(self._jira()))
            except JIRAError as exc:
                status = exc.status_code or 0
                if status in (429, 503):
                    wait = self._retry_wait(exc, attempt)
                    if wait is not None:
                        attempt += 1
                        await asyncio.sleep(wait)
                        continue
                raise self.translate(exc, what) from None
            except ValueError as exc:  # a 2xx answer that is not JSON (requests' JSONDecodeError too)
                raise ConnectorProtocolError(
                    f"{self.config.base_url} answered {what} with something that is not Jira's JSON.",
                    remediation="Check the site address: it should be the Jira base URL, not a login or proxy page.",
                ) from exc
            except requests.RequestException as exc:
                raise self.translate(exc, what) from None

    def _retry_wait(self, exc: JIRAError, attempt: int) -> float | None:
        if attempt >= self.retry.max_retries:
            return None
        header = exc.response.headers.get("Retry-After") if exc.response is not None else None
        wait = retry_after_seconds(header)
        if wait is None:
            wait = self.retry.base_backoff_s * (2**attempt) * random.uniform(0.8, 1.2)
        return wait if wait <= self.retry.max_wait_s else None

    async def request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        """One REST call: the parsed JSON answer (None for an empty body), or a ConnectorError.

        Our own request on the library's authenticated session, not the library's methods: they
        index answers by keys the vendor's schema marks optional (a `KeyError` on a Jira that omits
        one) and parse error bodies assuming one shape. Bodies are read up to `MAX_BODY_BYTES`.
        """

        def run(jira: JIRA) -> Any:
            session = jira._session
            # requests.Session.request, not ResilientSession's override: the status is ours to read.
            response = requests.Session.request(
                session, method, jira._get_url(path), params=params, json=json, timeout=session.timeout, stream=True
            )
            with response:
                body = read_capped(response, what=f"{method} {path}", site=self.config.base_url)
            if not response.ok:
                raise JIRAError(
                    jira_error_text(body),
                    status_code=response.status_code,
                    url=response.url,
                    response=response,
                )
            return parse_json(body)

        return await self.call(run, f"{method} {path}")

    def translate(self, exc: Exception, what: str) -> ConnectorError:
        """The human sentence and remediation for a failed call."""
        site = self.config.base_url
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return ConnectorProtocolError(
                f"{site} answered {what} with a redirect; Switchboard does not follow redirects.",
                remediation="Use the site's final address (the one the redirect points to) as the base URL.",
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return ConnectorUnreachable(
                f"The TLS handshake with {site} failed: {_reason(exc)}.",
                remediation="Check that the address uses the right scheme (https/http) and that the certificate "
                "is valid and issued by a trusted authority.",
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return ConnectorTimeout(
                f"Jira at {site} did not answer {what} within {self.config.timeout_s:g} s.",
                remediation="Check that the site is up and reachable from this server, or raise timeout_s.",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            return ConnectorUnreachable(
                f"Could not connect to {site}: {_reason(exc)}.",
                remediation="Check the address and port, and that a firewall or proxy is not blocking it.",
            )
        if isinstance(exc, requests.RequestException):
            return ConnectorUnreachable(f"The request to {site} failed: {_reason(exc)}.")
        assert isinstance(exc, JIRAError)
        status = exc.status_code or 0
        said = _jira_says(exc)
        if status == 401:
            fix = (
                "Check the account email and API token (create one at id.atlassian.com → Security → API tokens)."
                if self.is_cloud
                else "Check the personal access token; it may have expired or been revoked."
            )
            return ConnectorAuthError(
                f"Jira rejected the credentials (401){said}", remediation=fix, upstream_status=401
            )
        if status == 403:
            return ConnectorPermissionError(
                f"Jira refused {what} for this account (403){said}",
                remediation="Ask a Jira admin for product access and the needed project permissions.",
                upstream_status=403,
            )
        if status == 404:
            return ConnectorNotFound(f"Jira found nothing for {what} (404){said}", upstream_status=404)
        if status in (429, 503):
            header = exc.response.headers.get("Retry-After") if exc.response is not None else None
            later = f" Jira asks to retry after {header} s." if header else ""
            return ConnectorRateLimited(
                f"Jira is rate limiting or unavailable ({status}) after {self.retry.max_retries} retries.{later}",
                remediation="Wait a little and try again.",
                upstream_status=status,
            )
        if 400 <= status < 500:
            return ConnectorBadRequest(f"Jira refused {what} ({status}){said}", upstream_status=status)
        return ConnectorError(f"Jira failed on {what} ({status or 'no status'}){said}", upstream_status=status)

    # ----------------------------------------------------------------- operations

    async def server_info(self) -> dict[str, Any]:
        return as_object(await self.request("GET", "serverInfo"))

    async def myself(self) -> dict[str, Any]:
        return as_object(await self.request("GET", "myself"))

    async def projects(self) -> list[dict[str, Any]]:
        # A list on both deployments; a page ({values: [...]}) from proxies that serve /project/search.
        return as_items(await self.request("GET", "project"), "values", "projects")

    async def search(
        self, jql: str, *, fields: list[str], max_results: int = 20, page: str | None = None
    ) -> SearchPage:
        """One page of a JQL search; pass `next_page` back for the following one."""
        size = max(1, min(max_results, MAX_PAGE))
        # POST: long JQL does not fit in a URL. Not the library's search methods: they first download
        # every field definition (GET /field, hundreds of KB on big sites) to translate field names.
        if self.is_cloud:
            body: dict[str, Any] = {"jql": jql, "maxResults": size, "fields": list(fields)}
            if page:
                body["nextPageToken"] = page
            raw = as_object(await self.request("POST", "search/jql", json=body))
            token = raw.get("nextPageToken")
            # isLast is optional: without it, a token means there is more.
            more = isinstance(token, str) and token and raw.get("isLast") is not True
            return SearchPage(as_items(raw, "issues"), token if more else None, None)
        start = 0
        if page:
            number = page.removeprefix("start:")
            if not page.startswith("start:") or not number.isdigit():
                raise ConnectorBadRequest("That page token is not valid; search again without it.")
            start = int(number)
        body = {"jql": jql, "startAt": start, "maxResults": size, "fields": list(fields)}
        raw = as_object(await self.request("POST", "search", json=body))
        issues = as_items(raw, "issues")
        total = as_int(raw.get("total"))
        if total is None:
            total = start + len(issues)
        following = start + len(issues)
        return SearchPage(issues, f"start:{following}" if issues and following < total else None, total)

    async def issue(self, key: str, fields: list[str] | None = None) -> dict[str, Any]:
        params = {"fields": ",".join(fields)} if fields else None
        return as_object(await self.request("GET", f"issue/{key}", params=params))

    async def create_meta_issue_types(self, project: str) -> list[dict[str, Any]]:
        raw = await self.request("GET", f"issue/createmeta/{project}/issuetypes", params={"maxResults": 100})
        return as_items(raw, "issueTypes", "values", "createMetaIssueType")

    async def create_meta_fields(self, project: str, issue_type_id: str) -> list[dict[str, Any]]:
        path = f"issue/createmeta/{project}/issuetypes/{issue_type_id}"
        raw = await self.request("GET", path, params={"maxResults": 200})
        return as_items(raw, "fields", "values", "results")

    async def create_issue(self, fields: dict[str, Any]) -> dict[str, Any]:
        return as_object(await self.request("POST", "issue", json={"fields": fields}))

    async def add_comment(self, key: str, markdown: str) -> dict[str, Any]:
        return as_object(await self.request("POST", f"issue/{key}/comment", json={"body": self.body(markdown)}))

    async def transitions(self, key: str) -> list[dict[str, Any]]:
        return as_items(await self.request("GET", f"issue/{key}/transitions"), "transitions")

    async def transition(self, key: str, transition_id: str) -> None:
        await self.request("POST", f"issue/{key}/transitions", json={"transition": {"id": transition_id}})

    async def assign(self, key: str, user: dict[str, Any] | None) -> None:
        """`user` as returned by myself/user search, or None to unassign."""
        if self.is_cloud:
            payload = {"accountId": user.get("accountId") if user else None}
        else:
            payload = {"name": user.get("name") if user else None}
        await self.request("PUT", f"issue/{key}/assignee", json=payload)

    async def find_users(self, query: str) -> list[dict[str, Any]]:
        params = {"query": query} if self.is_cloud else {"username": query}
        found = await self.request("GET", "user/search", params={**params, "maxResults": 10})
        return as_items(found, "values", "users")


def retry_after_seconds(header: str | None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _jira_says(exc: JIRAError) -> str:
    text = (exc.text or "").strip()
    if not text or text.lstrip().startswith("<"):
        return "."
    return f": {text[:400]}"


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Caused by ", "] "):
        if marker in text:
            text = text.split(marker)[-1]
    return text.strip(" ()'\"")[:300] or exc.__class__.__name__
