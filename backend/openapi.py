"""The OpenAPI document, corrected to describe the errors we really send.

FastAPI documents 422 as its own `HTTPValidationError` (`detail` always a list). Our handlers answer
every error with the contract's `{detail, code}`, where `detail` is a string or a list, so the
generated document is rewritten once: clients and schema-driven tools (schemathesis, SDK
generators) then see the shape they will get.

It also documents, in one place, the error statuses that cross-cutting layers add to routes — the
auth dependency, rate limiting, the body cap, validation, lookups by id — so a new route is
described truthfully without listing them itself (`common_errors`). Statuses a route raises itself
(409 on a conflict, 502 from an upstream...) go in its `responses=`; CI's schemathesis run fails on
any status a route returns without documenting it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorResponse",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {
            "title": "Detail",
            "description": "What went wrong: a sentence, or a list of problems (validation errors).",
            "anyOf": [{"type": "string"}, {"type": "array", "items": {}}],
        },
        "code": {"title": "Code", "type": "string", "description": "Stable machine-readable snake_case code."},
    },
}


ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_BODY_METHODS = {"post", "put", "patch"}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds until a retry may succeed", "schema": {"type": "integer"}}}


def common_errors(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    """The error statuses every route of this kind can answer, whatever its own code does."""
    errors: dict[str, str] = {}
    if not path.startswith("/api/"):
        return errors
    errors["400"] = "The request is malformed."
    errors["422"] = "A parameter or the body is invalid (`detail` lists the problems)."
    errors["429"] = "Rate limited, or too many failed sign-ins (`Retry-After` says when to retry)."
    errors["503"] = "A component this needs (the database, Redis) is not available right now."
    if operation.get("security") or path.startswith("/api/v1/auth/"):
        errors["401"] = "Not signed in, or the credentials are invalid, expired or revoked."
        errors["403"] = "Signed in, but not allowed: the role, the API key's scopes, or the resource's owner."
    if "{" in path:
        errors["404"] = "Nothing with this id exists, or it is not yours to see."
    if method in _BODY_METHODS:
        errors["408"] = "The request body did not arrive in time (`REQUEST_BODY_TIMEOUT_S`)."
        errors["409"] = "The request conflicts with the current state (`code` says how)."
        errors["413"] = "The request body is over this route's cap (`MAX_REQUEST_BODY_BYTES` and per-route caps)."
    return errors


# Bodies whose content is checked beyond what JSON Schema can say: a schema-valid body may still be
# refused with 422 (the `code` says why). Marked `x-validated-beyond-schema` in the document, so
# clients know, and so schemathesis does not expect every schema-valid body to be accepted there.
VALIDATED_BEYOND_SCHEMA: dict[tuple[str, str], str] = {
    ("post", "/api/v1/integrations"): "`config` and `credentials` are checked against the connector of "
    "`integration_type` (`GET /api/v1/integrations/types` lists each one's schema) and the outbound policy.",
    ("put", "/api/v1/integrations/{integration_id}"): "as for POST /api/v1/integrations",
    ("patch", "/api/v1/integrations/{integration_id}"): "as for POST /api/v1/integrations",
    ("post", "/api/v1/messages"): "`message` must be valid HL7 v2; destinations must be HL7 integrations you may use.",
    ("post", "/api/v1/hl7/explain"): "`message` must parse as HL7 v2.",
    ("post", "/api/v1/webhooks"): "each event pattern must match a known event; the URL must pass the outbound "
    "policy and use https:// unless allow-listed.",
    ("patch", "/api/v1/webhooks/{webhook_id}"): "as for POST /api/v1/webhooks",
    ("post", "/api/v1/integrations/{integration_id}/patients/search"): "at least one criterion is required.",
    ("post", "/api/v1/auth/register"): "`invite_token`, when given, must be a live invite (422 `invalid_invite`).",
    ("post", "/api/v1/auth/password-reset"): "`token` must be an unused, unexpired reset link (400 "
    "`invalid_reset_token`).",
    ("post", "/api/v1/patients/aggregate"): "exactly one of `patient_identifiers` and `search`; ids must be FHIR ids.",
}


def document_common_errors(schema: dict[str, Any]) -> None:
    """Add `common_errors` (with the error body) to every operation that does not document them yet."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            beyond = VALIDATED_BEYOND_SCHEMA.get((method, path))
            if beyond:
                operation["x-validated-beyond-schema"] = beyond
                operation["description"] = (operation.get("description", "") + f"\n\nAlso validated: {beyond}").strip()
            responses = operation.setdefault("responses", {})
            for status, description in common_errors(path, method, operation).items():
                response = responses.setdefault(status, {"description": description})
                response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
                if status == "429":
                    response.setdefault("headers", _RETRY_AFTER)


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with a cached generator that documents our error body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["HTTPValidationError"] = ERROR_SCHEMA
            schemas["ErrorResponse"] = ERROR_SCHEMA
            document_common_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
