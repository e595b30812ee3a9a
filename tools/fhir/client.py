"""An async FHIR R4 REST client: auth, timeouts, bounded retries, Bundle paging, OperationOutcome errors.

One client serves one integration for one operation (a tool call, a request); access tokens outlive
it in `auth.TOKENS`. Every URL is checked against the outbound guard before it is called, next links
included, because a server could point them anywhere.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import ssl
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

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
from tools.fhir.auth import TOKENS, TokenCache, cache_key, mint_token
from tools.fhir.config import EmrConfig, EmrCredentials
from tools.fhir.values import concept_text
from tools.net import OutboundPolicy
from tools.pinning import guarded_async_client
from tools.tolerant import as_int, as_items, as_str

FHIR_JSON = "application/fhir+json"
MAX_ATTEMPTS = 3
MAX_RETRY_WAIT_S = 2.0
# A page of 100 resources is well under 1 MB; an answer past this is refused, never read into memory.
MAX_BODY_BYTES = 16 * 1024 * 1024
Params = Mapping[str, str | Sequence[str]]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verified TLS context for every client: loading the CA bundle takes ~50 ms of CPU, too much
    to repeat for each tool call on the event loop."""
    return httpx.create_ssl_context()  # the same trust store httpx uses by default


def operation_outcome_text(body: Any) -> str | None:
    """The diagnostics of an OperationOutcome, joined; None when `body` is not one."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return None
    texts = []
    for issue in as_items(body.get("issue")):
        text = as_str(issue.get("diagnostics")) or concept_text(issue.get("details")) or as_str(issue.get("code"))
        if text:
            texts.append(text[:300])
    return "; ".join(dict.fromkeys(texts))[:600] or "unspecified error"


class FhirClient:
    """`async with FhirClient(config, credentials, outbound=...) as fhir: await fhir.search(...)`."""

    def __init__(
        self,
        config: EmrConfig,
        credentials: EmrCredentials | None,
        *,
        outbound: OutboundPolicy,
        tokens: TokenCache = TOKENS,
    ) -> None:
        self.config = config
        self.credentials = credentials or EmrCredentials()
        self.outbound = outbound
        self.tokens = tokens
        self.token_url = config.token_url
        self._checked_hosts: set[str] = set()
        # Every connection (token endpoint and next-link hosts included) goes to the address the guard
        # checked at connect time: no second DNS lookup to rebind.
        self._http = guarded_async_client(
            outbound, verify=tls_context(), timeout=httpx.Timeout(config.timeout_s), follow_redirects=False
        )

    async def __aenter__(self) -> FhirClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # ----------------------------------------------------------------- plumbing

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.config.base_url}/{path.lstrip('/')}"

    async def _guard(self, url: str) -> None:
        host = urlsplit(url).netloc
        if host not in self._checked_hosts:
            await self.outbound.check_url(url)
            self._checked_hosts.add(host)

    async def smart_configuration(self) -> dict[str, Any]:
        """`.well-known/smart-configuration`; remembers the token endpoint when none is configured."""
        body = await self._send("GET", self.url(".well-known/smart-configuration"), authorize=False)
        if not isinstance(body, dict) or not body.get("token_endpoint"):
            raise ConnectorProtocolError(
                "The SMART configuration has no token_endpoint.",
                remediation="Set the token URL explicitly in the integration.",
            )
        self.token_url = self.token_url or str(body["token_endpoint"])
        self.tokens.token_urls[self.config.base_url] = str(body["token_endpoint"])
        return body

    async def access_token(self) -> str:
        """A cached or freshly minted OAuth token (smart_backend, client_credentials)."""
        if self.token_url is None:
            self.token_url = self.tokens.token_urls.get(self.config.base_url)
        if self.token_url is None:
            await self.smart_configuration()
        assert self.token_url is not None
        await self._guard(self.token_url)
        key = cache_key(self.config, self.credentials, self.token_url)
        async with self.tokens.lock(key):
            token = self.tokens.get(key)
            if token is None:
                try:
                    token, lifetime = await mint_token(self._http, self.config, self.credentials, self.token_url)
                except httpx.TimeoutException as exc:
                    raise ConnectorTimeout("The token endpoint did not answer in time.") from exc
                except httpx.TransportError as exc:
                    raise ConnectorUnreachable(
                        f"The token endpoint could not be reached ({type(exc).__name__})."
                    ) from exc
                self.tokens.put(key, token, lifetime)
            return token

    def forget_token(self) -> None:
        if self.token_url:
            self.tokens.forget(cache_key(self.config, self.credentials, self.token_url))

    async def _auth_headers(self) -> dict[str, str]:
        auth = self.config.auth
        if auth == "basic":
            raw = f"{self.config.username or ''}:{self.credentials.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if auth == "bearer":
            return {"Authorization": f"Bearer {self.credentials.token or ''}"}
        if auth in ("smart_backend", "client_credentials"):
            return {"Authorization": f"Bearer {await self.access_token()}"}
        return {}

    async def _send(self, method: str, url: str, *, params: Params | None = None, authorize: bool = True) -> Any:
        await self._guard(url)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            # Credentials go to the integration's own origin only: a `link[next]` (or any URL a server
            # hands us) naming another host is fetched without them, never with our Authorization.
            credentialed = authorize and same_origin(url, self.config.base_url)
            headers = {"Accept": FHIR_JSON, **(await self._auth_headers() if credentialed else {})}
            try:
                status, response, content = await self._exchange(method, url, params, headers)
            except httpx.TimeoutException as exc:
                raise ConnectorTimeout(
                    f"The FHIR server did not answer within {self.config.timeout_s:g} s.",
                    remediation="Raise the timeout or check the server's health.",
                ) from exc
            except httpx.TransportError as exc:
                raise ConnectorUnreachable(
                    f"The FHIR server at {urlsplit(url).netloc} could not be reached ({type(exc).__name__}).",
                    remediation="Check the base URL, the network path and that the server is running.",
                ) from exc
            if status in (429, 503) and attempt < MAX_ATTEMPTS:
                await asyncio.sleep(_retry_wait(response, attempt))
                continue
            if (
                status == 401
                and credentialed
                and not refreshed
                and self.config.auth
                in (
                    "smart_backend",
                    "client_credentials",
                )
            ):
                refreshed = True  # the cached token may have been revoked early: mint once more
                self.forget_token()
                continue
            return _parse(status, content)

    async def _exchange(
        self, method: str, url: str, params: Params | None, headers: dict[str, str]
    ) -> tuple[int, httpx.Response, bytes]:
        """One request; the body read up to `MAX_BODY_BYTES` (a declared or streamed excess is refused)."""
        async with self._http.stream(method, url, params=params, headers=headers) as response:
            declared = as_int(response.headers.get("Content-Length"))
            if declared is not None and declared > MAX_BODY_BYTES:
                raise _too_large()
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _too_large()
                chunks.append(chunk)
        return response.status_code, response, b"".join(chunks)

    # ----------------------------------------------------------------- FHIR interactions

    async def get(self, path: str, params: Params | None = None) -> Any:
        return await self._send("GET", self.url(path), params=params)

    async def capabilities(self) -> dict[str, Any]:
        body = await self.get("metadata")
        if not isinstance(body, dict) or body.get("resourceType") != "CapabilityStatement":
            raise ConnectorProtocolError(
                "The server's /metadata is not a FHIR CapabilityStatement.",
                remediation="Check that the base URL points at the FHIR R4 endpoint.",
            )
        return body

    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        body = await self.get(f"{resource_type}/{resource_id}")
        if not isinstance(body, dict) or body.get("resourceType") != resource_type:
            raise ConnectorProtocolError(f"The server did not return a {resource_type}.")
        return body

    async def search(self, resource_type: str, params: Params, *, limit: int = 200) -> list[dict[str, Any]]:
        """Resources of `resource_type` matching `params`, following `link[next]` up to `max_pages`."""
        found: list[dict[str, Any]] = []
        url: str | None = self.url(resource_type)
        query: Params | None = params
        pages = 0
        while url and pages < self.config.max_pages and len(found) < limit:
            bundle = await self._send("GET", url, params=query)
            pages += 1
            if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
                raise ConnectorProtocolError(f"The {resource_type} search did not return a Bundle.")
            for entry in as_items(bundle.get("entry")):
                resource = entry.get("resource")
                if isinstance(resource, dict) and resource.get("resourceType") == resource_type:
                    found.append(resource)
            following = next_link(bundle)
            # A relative next link (some servers send one) is relative to the page it came from.
            url = urljoin(url, following) if following else None
            query = None  # the next link carries the whole query
        return found[:limit]


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").rstrip("."), parts.port or (443 if scheme == "https" else 80)


def same_origin(url: str, base_url: str) -> bool:
    return origin(url) == origin(base_url)


def next_link(bundle: dict[str, Any]) -> str | None:
    for link in as_items(bundle.get("link")):
        if link.get("relation") == "next" and (url := as_str(link.get("url"))):
            return url
    return None


def _too_large() -> ConnectorProtocolError:
    return ConnectorProtocolError(
        f"The FHIR server answered with more than {MAX_BODY_BYTES // (1024 * 1024)} MB; Switchboard stopped reading.",
        remediation="Ask for less (a narrower search), or check that the base URL is the FHIR endpoint.",
    )


def _retry_wait(response: httpx.Response, attempt: int) -> float:
    try:
        wait = float(response.headers.get("Retry-After", ""))
    except ValueError:
        wait = 0.2 * 2 ** (attempt - 1)
    return max(0.0, min(wait, MAX_RETRY_WAIT_S))


def _parse(status: int, content: bytes) -> Any:
    try:
        body = json.loads(content.decode("utf-8-sig")) if content.strip() else None
    except ValueError:
        body = None
    if status < 400:
        if body is None:
            raise ConnectorProtocolError(
                f"The server answered HTTP {status} without FHIR JSON.",
                remediation="Check that the base URL points at a FHIR R4 endpoint.",
            )
        return body
    outcome = operation_outcome_text(body)
    reason = f": {outcome}" if outcome else ""
    error_type: type[ConnectorError]
    remediation = None
    if status == 401:
        error_type, remediation = ConnectorAuthError, "Check the credentials or the OAuth client registration."
    elif status == 403:
        error_type, remediation = ConnectorPermissionError, "Ask the EMR team to grant the scopes this needs."
    elif status in (404, 410):
        error_type = ConnectorNotFound
    elif status in (400, 422):
        error_type = ConnectorBadRequest
    elif status in (429, 503):
        error_type, remediation = ConnectorRateLimited, "Wait a moment and try again."
    else:
        error_type = ConnectorError
    raise error_type(
        f"The FHIR server answered HTTP {status}{reason}.", remediation=remediation, upstream_status=status
    )
