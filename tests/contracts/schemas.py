"""Vendor JSON schemas (OpenAPI 3.0 components, pydantic models) as hypothesis strategies.

`from_schema` is schemathesis' JSON-schema generator (the one its API fuzzing uses, already a dev
dependency; hypothesis-jsonschema no longer runs on current hypothesis).

`inline` replaces each `$ref` by its target down to `depth` levels (deeper: any JSON value — the
vendor schemas are recursive), turns OpenAPI's `nullable` into a JSON-schema `null` branch and drops
the keywords JSON Schema does not know (`readOnly`, `discriminator`, `x-...`) and the formats the
generator has no strategy for (`int32`, `uri`...). The shapes allowed stay the vendor's.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from schemathesis.generation.jsonschema.builder import build

_KNOWN_FORMATS = {"date-time", "date", "time", "email"}
_DROPPED = {"readOnly", "writeOnly", "discriminator", "xml", "externalDocs", "deprecated", "example", "examples"}


def inline(schema: Any, components: dict[str, Any], depth: int = 3) -> Any:
    """`schema` with its `#/components/schemas/...` (or `#/$defs/...`) references inlined."""
    if isinstance(schema, list):
        return [inline(item, components, depth) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if depth <= 0:
            return {}
        target = components.get(ref.rsplit("/", 1)[-1], {})
        return inline(target, components, depth - 1)
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED or key.startswith("x-") or key == "nullable":
            continue
        if key == "format" and value not in _KNOWN_FORMATS:
            continue
        if key in ("properties", "patternProperties", "$defs", "definitions"):
            result[key] = {name: inline(inner, components, depth) for name, inner in value.items()}
        elif isinstance(value, dict | list):
            result[key] = inline(value, components, depth)
        else:
            result[key] = value
    if schema.get("nullable") is True:
        return {"anyOf": [result, {"type": "null"}]}
    return result


def or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, or JSON `null` (what Jira sends for an empty field)."""
    return {"anyOf": [schema, {"type": "null"}]}


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values `schema` admits (JSON Schema draft 4, as OpenAPI 3.0 uses it)."""
    return build(schema, draft=4, formats={})
