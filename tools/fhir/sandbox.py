"""A FHIR R4 server subset for the demo, the tests and the benchmark (FastAPI, in-memory, read-only).

Serves `/metadata`, `.well-known/smart-configuration`, a SMART Backend Services token endpoint and
search/read for Patient, Observation, MedicationRequest, AllergyIntolerance, Condition and Encounter
over the synthetic data in `tools.fhir.seed`. Searches page with `_count` and `link[next]`; errors are
OperationOutcomes. Two knobs for tests and the bench: `latency_ms` (added to every request) and
`fail_next(status, times)` (answer the next requests with 429/503 to exercise retries).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jose import JWTError, jwt

from tools.fhir.seed import Dataset, build_dataset

FHIR_JSON = "application/fhir+json"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SEARCH_PARAMS: dict[str, tuple[str, ...]] = {
    "Patient": ("name", "family", "given", "birthdate", "gender", "identifier", "_id"),
    "Observation": ("patient", "subject", "category", "code", "date", "_sort"),
    "MedicationRequest": ("patient", "subject", "status"),
    "AllergyIntolerance": ("patient", "clinical-status"),
    "Condition": ("patient", "subject", "clinical-status"),
    "Encounter": ("patient", "subject", "date", "status"),
}
MAX_COUNT = 100


class TokenRefused(Exception):
    """The token endpoint refuses a client: `error` is the OAuth error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics


def outcome(code: str, diagnostics: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    }


@dataclass
class SandboxState:
    """What one sandbox instance serves and remembers (tokens, used assertion ids, injected faults)."""

    name: str
    resources: dict[str, list[dict[str, Any]]]
    software: str
    latency_ms: float = 0.0
    clients: dict[str, str] = field(default_factory=dict)  # client id -> public key PEM; empty = open
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    used_jti: set[str] = field(default_factory=set)
    faults: list[int] = field(default_factory=list)
    tokens_issued: int = 0
    requests: int = 0

    @property
    def requires_auth(self) -> bool:
        return bool(self.clients)

    def fail_next(self, status: int, times: int = 1) -> None:
        self.faults.extend([status] * times)


def _patient_ref(resource: dict[str, Any]) -> str | None:
    ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
    return ref.split("/", 1)[1] if ref.startswith("Patient/") else None


def _codes(concept: dict[str, Any] | None) -> set[str]:
    codings = (concept or {}).get("coding") or []
    return {c.get("code", "") for c in codings} | {f"{c.get('system')}|{c.get('code')}" for c in codings}


def _instant(raw: str, criterion: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(400, "invalid", f"Invalid date parameter {criterion!r}.") from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date_matches(value: str | None, criteria: list[str]) -> bool:
    """FHIR date search: `eq|ge|gt|le|lt` prefixes; a bare day compares whole days."""
    for criterion in criteria:
        has_prefix = criterion[:2] in ("ge", "le", "gt", "lt", "eq")
        prefix, raw = (criterion[:2], criterion[2:]) if has_prefix else ("eq", criterion)
        bound = _instant(raw, criterion)
        if value is None:
            return False
        if len(raw) <= 10:  # day precision
            left, right = value[:10], bound.date().isoformat()
        else:
            left, right = _instant(value, criterion).isoformat(), bound.isoformat()
        ok = {"eq": left == right, "ge": left >= right, "gt": left > right, "le": left <= right, "lt": left < right}
        if not ok[prefix]:
            return False
    return True


def _text_match(needle: str, *values: str | None) -> bool:
    needle = needle.lower()
    return any(v and v.lower().startswith(needle) for v in values)


def _status_matches(name: str, resource: dict[str, Any], value: str) -> bool:
    wanted = set(value.split(","))
    if name == "status":
        return resource.get("status") in wanted
    return bool(wanted & _codes(resource.get("clinicalStatus")))


def _matches(kind: str, resource: dict[str, Any], params: dict[str, list[str]]) -> bool:
    for name, values in params.items():
        value = values[0]
        if name in ("patient", "subject"):
            if _patient_ref(resource) != value.removeprefix("Patient/"):
                return False
        elif name == "_id" and resource["id"] != value:
            return False
        elif kind == "Patient" and name in ("name", "family", "given"):
            names = resource.get("name") or []
            families = [n.get("family") for n in names]
            givens = [g for n in names for g in n.get("given") or []]
            pool = {"name": families + givens, "family": families, "given": givens}[name]
            if not all(any(_text_match(word, p) for p in pool) for word in value.replace(",", " ").split()):
                return False
        elif name == "birthdate" and not _date_matches(resource.get("birthDate"), values):
            return False
        elif name == "gender":
            if value not in ("male", "female", "other", "unknown"):
                raise FhirError(400, "invalid", f"Unknown gender {value!r}.")
            if resource.get("gender") != value:
                return False
        elif name == "identifier":
            system, _, code = value.rpartition("|")
            ids = resource.get("identifier") or []
            if not any(i.get("value") == code and (not system or i.get("system") == system) for i in ids):
                return False
        elif name == "category":
            if not any(value in _codes(c) for c in resource.get("category") or []):
                return False
        elif name == "code" and not set(value.split(",")) & _codes(resource.get("code")):
            return False
        elif name == "date":
            when = resource.get("effectiveDateTime") or (resource.get("period") or {}).get("start")
            if not _date_matches(when, values):
                return False
        elif name in ("status", "clinical-status") and not _status_matches(name, resource, value):
            return False
    return True


def create_sandbox_app(state: SandboxState) -> FastAPI:
    """The FastAPI app serving `state`."""
    app = FastAPI(title=f"FHIR sandbox: {state.name}", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def latency_faults_and_auth(request: Request, call_next: Any) -> Any:
        state.requests += 1
        if state.latency_ms:
            await asyncio.sleep(state.latency_ms / 1000)
        if state.faults:
            status = state.faults.pop(0)
            return JSONResponse(outcome("throttled", "Injected fault"), status, headers={"Retry-After": "0"})
        open_paths = ("/metadata", "/.well-known/smart-configuration", "/auth/token")
        if state.requires_auth and request.url.path not in open_paths:
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if state.tokens.get(token, 0) < time.time():
                return JSONResponse(outcome("login", "Missing or expired access token."), 401, media_type=FHIR_JSON)
        return await call_next(request)

    @app.exception_handler(FhirError)
    async def fhir_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FhirError)
        return JSONResponse(outcome(exc.code, exc.diagnostics), exc.status, media_type=FHIR_JSON)

    @app.get("/metadata")
    async def metadata() -> JSONResponse:
        resources = [
            {
                "type": kind,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": [{"name": p, "type": "string"} for p in params],
            }
            for kind, params in SEARCH_PARAMS.items()
        ]
        body = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2025-06-01",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "software": {"name": state.software, "version": "1.0"},
            "rest": [{"mode": "server", "resource": resources}],
        }
        return JSONResponse(body, media_type=FHIR_JSON)

    @app.get("/.well-known/smart-configuration")
    async def smart_configuration(request: Request) -> dict[str, Any]:
        return {
            "token_endpoint": str(request.url_for("token")),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": ["system/*.read"],
            "capabilities": ["client-confidential-asymmetric"],
        }

    @app.post("/auth/token", name="token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        try:
            _, scope = verify_assertion(state, {k: str(v) for k, v in form.items()}, str(request.url))
        except TokenRefused as exc:
            status = 401 if exc.error == "invalid_client" else 400
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status)
        access = secrets.token_urlsafe(24)
        state.tokens[access] = time.time() + 300
        state.tokens_issued += 1
        return JSONResponse({"access_token": access, "token_type": "bearer", "expires_in": 300, "scope": scope})

    @app.get("/{resource_type}")
    async def search(resource_type: str, request: Request) -> JSONResponse:
        if resource_type not in SEARCH_PARAMS:
            raise FhirError(404, "not-supported", f"Resource type {resource_type!r} is not supported.")
        params: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        count = _int_param(params.pop("_count", ["20"])[0], "_count", 1, MAX_COUNT)
        offset = _int_param(params.pop("_offset", ["0"])[0], "_offset", 0, 1_000_000)
        unknown = set(params) - set(SEARCH_PARAMS[resource_type])
        if unknown:
            raise FhirError(400, "not-supported", f"Unknown search parameter(s): {', '.join(sorted(unknown))}.")
        sort = params.pop("_sort", [""])[0]
        found = [r for r in state.resources[resource_type] if _matches(resource_type, r, params)]
        if sort.lstrip("-") == "date":
            found.sort(key=lambda r: r.get("effectiveDateTime") or "", reverse=sort.startswith("-"))
        page = found[offset : offset + count]
        base = str(request.url.remove_query_params(["_offset"]))
        links = [{"relation": "self", "url": str(request.url)}]
        if offset + count < len(found):
            links.append(
                {
                    "relation": "next",
                    "url": f"{base}{'&' if '?' in base else '?'}{urlencode({'_offset': offset + count})}",
                }
            )
        body = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": links,
            "entry": [
                {"fullUrl": f"{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in page
            ],
        }
        return JSONResponse(body, media_type=FHIR_JSON)

    @app.get("/{resource_type}/{resource_id}")
    async def read(resource_type: str, resource_id: str) -> JSONResponse:
        if resource_type not in SEARCH_PARAMS:
            raise FhirError(404, "not-supported", f"Resource type {resource_type!r} is not supported.")
        for resource in state.resources[resource_type]:
            if resource["id"] == resource_id:
                return JSONResponse(resource, media_type=FHIR_JSON)
        raise FhirError(404, "not-found", f"Resource {resource_type}/{resource_id} is not known.")

    return app


def _int_param(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise FhirError(400, "invalid", f"{name} must be an integer.") from None
    return max(low, min(value, high))


def verify_assertion(state: SandboxState, form: dict[str, str], token_url: str) -> tuple[str, str]:
    """Check a SMART backend client assertion; returns (client id, scope) or raises TokenRefused."""
    if form.get("grant_type") != "client_credentials":
        raise TokenRefused("unsupported_grant_type", "only client_credentials is supported")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        raise TokenRefused("invalid_client", "a jwt-bearer client_assertion is required")
    assertion = form["client_assertion"]
    try:
        unverified = jwt.get_unverified_claims(assertion)
    except JWTError:
        raise TokenRefused("invalid_client", "the client assertion is not a JWT") from None
    client_id = str(unverified.get("iss", ""))
    public_key = state.clients.get(client_id)
    if public_key is None:
        raise TokenRefused("invalid_client", f"client {client_id!r} is not registered")
    try:
        claims = jwt.decode(assertion, public_key, algorithms=["RS384", "ES384"], audience=token_url)
    except jwt.ExpiredSignatureError:
        raise TokenRefused("invalid_client", "the client assertion has expired") from None
    except jwt.JWTClaimsError as exc:
        raise TokenRefused("invalid_client", f"{exc} (expected aud {token_url})") from None
    except JWTError:
        raise TokenRefused("invalid_client", "the signature does not match the registered public key") from None
    if claims.get("sub") != client_id:
        raise TokenRefused("invalid_client", "iss and sub must both be the client id")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp > time.time() + 300:
        raise TokenRefused("invalid_client", "exp must be at most five minutes ahead")
    jti = str(claims.get("jti") or "")
    if not jti or jti in state.used_jti:
        raise TokenRefused("invalid_client", "jti is missing or was already used")
    state.used_jti.add(jti)
    return client_id, form.get("scope", "system/*.read")


def sandbox_state(dataset: Dataset, name: str, **options: Any) -> SandboxState:
    """A fresh state over one of the seed datasets (`epic` or `cerner`)."""
    software = {"epic": "Epic-like FHIR sandbox", "cerner": "Cerner-like FHIR sandbox"}[dataset]
    return SandboxState(name=name, resources=build_dataset(dataset), software=software, **options)
