"""Authorization for FHIR calls: static headers, OAuth client credentials and SMART Backend Services.

SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): we sign a short
JWT client assertion (RS384/ES384, `iss` = `sub` = client id, `aud` = token URL, unique `jti`) and
trade it for an access token. Tokens are cached per client until shortly before they expire, because
EMRs rate-limit their token endpoints and a mint costs a round trip per tool call otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from jose import jwt

from tools.errors import ConnectorAuthError, ConnectorProtocolError
from tools.fhir.config import EmrConfig, EmrCredentials

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 240  # the spec allows at most five minutes
REFRESH_MARGIN_S = 60  # mint a new token this long before the old one expires

INVALID_CLIENT_CAUSES = (
    "Usual causes of invalid_client: the assertion's `aud` is not exactly the token URL, the assertion "
    "expired (check this server's clock), the public key / key id is not registered for this client id, "
    "or the client id is wrong."
)


@dataclass
class CachedToken:
    access_token: str
    expires_at: float


class TokenCache:
    """Access tokens by (token URL, client id, key fingerprint); one mint at a time per entry."""

    def __init__(self) -> None:
        self._tokens: dict[str, CachedToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        # Token endpoints found by SMART discovery, by FHIR base URL: discovery is per server, not per call.
        self.token_urls: dict[str, str] = {}

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def get(self, key: str) -> str | None:
        cached = self._tokens.get(key)
        if cached is None or cached.expires_at - REFRESH_MARGIN_S <= time.time():
            return None
        return cached.access_token

    def put(self, key: str, token: str, expires_in: float) -> None:
        self._tokens[key] = CachedToken(token, time.time() + expires_in)

    def forget(self, key: str) -> None:
        self._tokens.pop(key, None)


TOKENS = TokenCache()


def client_assertion(config: EmrConfig, credentials: EmrCredentials, token_url: str) -> str:
    """The signed JWT a SMART backend client authenticates with."""
    now = int(time.time())
    claims = {
        "iss": config.client_id,
        "sub": config.client_id,
        "aud": token_url,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_S,
    }
    headers = {"typ": "JWT", **({"kid": credentials.key_id} if credentials.key_id else {})}
    return str(jwt.encode(claims, credentials.private_key_pem or "", algorithm=config.jwt_algorithm, headers=headers))


def cache_key(config: EmrConfig, credentials: EmrCredentials, token_url: str) -> str:
    secret = credentials.private_key_pem or credentials.client_secret or ""
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()[:16]
    return f"{token_url}|{config.client_id}|{config.scope}|{fingerprint}"


async def mint_token(
    http: httpx.AsyncClient, config: EmrConfig, credentials: EmrCredentials, token_url: str
) -> tuple[str, float]:
    """POST to the token endpoint; returns (access token, lifetime in seconds) or raises ConnectorAuthError."""
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if config.scope:
        form["scope"] = config.scope
    headers = {"Accept": "application/json"}
    if config.auth == "smart_backend":
        form["client_assertion_type"] = ASSERTION_TYPE
        # RSA signing costs tens of milliseconds of CPU: keep it off the event loop.
        form["client_assertion"] = await asyncio.to_thread(client_assertion, config, credentials, token_url)
    else:
        raw = f"{config.client_id}:{credentials.client_secret or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    response = await http.post(token_url, data=form, headers=headers)
    body = _json_or_empty(response)
    if response.status_code >= 400:
        error = str(body.get("error") or f"HTTP {response.status_code}")
        description = str(body.get("error_description") or "").strip()
        message = f"The token endpoint refused the client: {error}" + (f" ({description})" if description else "")
        remediation = (
            INVALID_CLIENT_CAUSES
            if error == "invalid_client" or config.auth == "smart_backend"
            else "Check the client id, client secret and scopes registered with the EMR."
        )
        raise ConnectorAuthError(message + ".", remediation=remediation, upstream_status=response.status_code)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ConnectorProtocolError(
            "The token endpoint answered without an access_token.", remediation="Check the token URL."
        )
    expires_in = body.get("expires_in")
    return token, float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 300.0


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
