"""The `emr` integration's config and credentials, and the rules that tie them together."""

from __future__ import annotations

import hashlib
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.errors import ConnectorConfigError

Vendor = Literal["epic", "cerner", "generic"]
AuthKind = Literal["none", "basic", "bearer", "smart_backend", "client_credentials"]
JwtAlgorithm = Literal["RS384", "ES384"]

_SECRET: dict[str, Any] = {"writeOnly": True, "format": "password"}


def _http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    return value.strip().rstrip("/")


class EmrConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(max_length=2000, description="FHIR R4 base URL, e.g. https://fhir.example.org/api/FHIR/R4")
    vendor: Vendor = Field(default="generic", description="Epic, Cerner (Oracle Health) or any FHIR R4 server")
    auth: AuthKind = Field(default="none", description="How Switchboard authenticates to the FHIR server")
    token_url: str | None = Field(
        default=None, max_length=2000, description="OAuth token endpoint (found by SMART discovery when empty)"
    )
    client_id: str | None = Field(default=None, max_length=255, description="OAuth client id (smart_backend, ...)")
    scope: str | None = Field(default="system/*.read", max_length=2000, description="OAuth scopes to request")
    username: str | None = Field(default=None, max_length=255, description="User name (basic auth)")
    jwt_algorithm: JwtAlgorithm = Field(default="RS384", description="Signing algorithm of the client assertion")
    timeout_s: float = Field(default=15.0, ge=1, le=120, description="Per-request timeout in seconds")
    max_pages: int = Field(default=10, ge=1, le=50, description="Bundle pages followed per search at most")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        checked = _http_url(value)
        if checked is None:
            raise ValueError("is required")
        return checked

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        return _http_url(value)


class EmrCredentials(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "description": "basic: password · bearer: token · client_credentials: client_secret · "
            "smart_backend: private_key_pem + key_id"
        },
    )

    password: str | None = Field(default=None, max_length=1000, json_schema_extra=_SECRET)
    token: str | None = Field(default=None, max_length=20_000, json_schema_extra=_SECRET)
    client_secret: str | None = Field(default=None, max_length=2000, json_schema_extra=_SECRET)
    private_key_pem: str | None = Field(
        default=None, max_length=20_000, json_schema_extra={**_SECRET, "description": "PEM private key (RSA or EC)"}
    )
    key_id: str | None = Field(default=None, max_length=255, description="`kid` of the registered public key")


def check_combination(config: EmrConfig, credentials: EmrCredentials | None) -> None:
    """Refuse a config whose auth method lacks what it needs (`ConnectorConfigError`)."""
    creds = credentials or EmrCredentials()
    missing: list[str] = []
    if config.auth == "basic":
        missing += [n for n, v in (("username", config.username), ("password", creds.password)) if not v]
    elif config.auth == "bearer":
        missing += [] if creds.token else ["token"]
    elif config.auth == "client_credentials":
        missing += [n for n, v in (("client_id", config.client_id), ("client_secret", creds.client_secret)) if not v]
    elif config.auth == "smart_backend":
        missing += [
            n for n, v in (("client_id", config.client_id), ("private_key_pem", creds.private_key_pem)) if not v
        ]
    if missing:
        raise ConnectorConfigError(
            f"Authentication {config.auth!r} needs {', '.join(missing)}.",
            remediation="Fill in the missing fields of the integration.",
        )
    if config.auth == "smart_backend" and creds.private_key_pem:
        check_private_key(creds.private_key_pem, config.jwt_algorithm)


# Digests of keys that passed `check_private_key`: loading an RSA key validates it (~60 ms of CPU),
# and every chat turn re-validates the stored integrations it builds tools from. Only a digest is
# kept, never the key itself.
_CHECKED_KEYS: set[tuple[str, str]] = set()


def check_private_key(pem: str, algorithm: JwtAlgorithm) -> None:
    """The key must load and fit the algorithm: RSA for RS384, EC P-384 for ES384."""
    digest = (hashlib.sha256(pem.encode()).hexdigest(), algorithm)
    if digest in _CHECKED_KEYS:
        return
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConnectorConfigError(
            "The private key is not a readable, unencrypted PEM key.",
            remediation="Paste the PEM private key (-----BEGIN PRIVATE KEY-----) without a passphrase.",
        ) from exc
    if algorithm == "RS384" and not isinstance(key, rsa.RSAPrivateKey):
        raise ConnectorConfigError("RS384 needs an RSA private key.", remediation="Use an RSA key or choose ES384.")
    if algorithm == "ES384" and not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"):
        raise ConnectorConfigError("ES384 needs an EC (P-384) private key.", remediation="Use an EC key or RS384.")
    if len(_CHECKED_KEYS) > 4096:  # bounded: a few keys per integration is the real-world size
        _CHECKED_KEYS.clear()
    _CHECKED_KEYS.add(digest)
