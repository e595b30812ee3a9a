"""Write the protocol for the clients: `frames.schema.json` (every stream frame, JSON Schema) and
`openapi.json` (the REST API), from the backend's own models.

    python -m backend.protocol.export [--out sdk/typescript/schema] [--check]

`--check` writes nothing and exits 1 when the files on disk differ from what the code defines (CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from backend.config import Settings
from backend.main import create_app
from backend.protocol.frames import Protocol

DEFAULT_OUT = Path("sdk/typescript/schema")


def _without_field_titles(node: Any) -> Any:
    """Drop pydantic's per-field titles ("Seq", "Run Id"): generated clients would turn each into an
    alias type of its own. Model titles (the frame names) stay."""
    if isinstance(node, dict):
        out = {key: _without_field_titles(value) for key, value in node.items()}
        for field in (out.get("properties") or {}).values():
            if isinstance(field, dict):
                field.pop("title", None)
        return out
    if isinstance(node, list):
        return [_without_field_titles(item) for item in node]
    return node


def frames_schema() -> dict[str, Any]:
    """Every frame under `$defs`, with the four unions as the root's properties (as sent: fields the
    server always fills are required)."""
    schema: dict[str, Any] = _without_field_titles(
        Protocol.model_json_schema(ref_template="#/$defs/{model}", mode="serialization")
    )
    # pydantic writes "any JSON" as `{}`, which generators read as "an object": say what it is.
    if schema.get("$defs", {}).get("JsonValue") == {}:
        schema["$defs"]["JsonValue"] = {
            "type": ["string", "number", "boolean", "object", "array", "null"],
            # json-schema-to-typescript's extension: the recursive type, not "any object".
            "tsType": "string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }",
        }
    schema["title"] = "SwitchboardProtocol"
    schema["description"] = "Chat stream frames (WebSocket and SSE) and events-socket frames."
    return schema


def openapi_schema() -> dict[str, Any]:
    """The REST API's OpenAPI document, as `/openapi.json` serves it (independent of the environment)."""
    settings = Settings(environment="test", secret_key="x" * 64, _env_file=None)  # type: ignore[arg-type, call-arg]
    return create_app(settings).openapi()


def rendered() -> dict[str, str]:
    """File name → exact text, stable across runs (sorted keys, trailing newline)."""
    documents = {"frames.schema.json": frames_schema(), "openapi.json": openapi_schema()}
    return {
        name: json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" for name, doc in documents.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the files on disk are stale")
    options = parser.parse_args(argv)
    stale = []
    for name, text in rendered().items():
        path = options.out / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(name)
        if not options.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if options.check and stale:
        print(f"stale protocol files in {options.out}: {', '.join(stale)}; run `make protocol`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
