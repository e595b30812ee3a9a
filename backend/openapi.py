"""The OpenAPI document, corrected to describe the errors we really send.

FastAPI documents 422 as its own `HTTPValidationError` (`detail` always a list). Our handlers answer
every error with the contract's `{detail, code}`, where `detail` is a string or a list, so the
generated document is rewritten once: clients and schema-driven tools (schemathesis, SDK
generators) then see the shape they will get.
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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
