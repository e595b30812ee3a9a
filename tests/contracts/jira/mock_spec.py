"""The document the Prism mock serves, derived from Atlassian's published Jira Cloud platform OpenAPI file.

`swagger-v3.v3.json.gz` beside this file is Atlassian's document, unmodified (see SOURCE.md). Three
transformations make it servable and quick to start; none changes a response's content:

1. Only the operations the Jira connector calls are kept (`OPERATIONS`), with every component schema
   they reach; the full document has 417 paths and takes Prism half a minute to load.
2. Atlassian writes each example as a JSON *string* (`"example": "{\\"fields\\": ...}"`); Prism would
   serve that string itself. Each example is parsed back into the JSON it spells.
3. Data Center speaks REST v2: each kept `/rest/api/3/...` operation is also served under
   `/rest/api/2/...` with the same examples and without the Cloud security schemes (Data Center
   authenticates with a personal access token the document does not describe). No public v2 document
   exists; v2 and v3 differ in bodies (plain text vs ADF), which the connector reads either way.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

VENDOR_DOCUMENT = Path(__file__).with_name("swagger-v3.v3.json.gz")

# (method, path) of every call tools/jira/client.py makes.
OPERATIONS: list[tuple[str, str]] = [
    ("get", "/rest/api/3/serverInfo"),
    ("get", "/rest/api/3/myself"),
    ("get", "/rest/api/3/project"),
    ("post", "/rest/api/3/search/jql"),
    ("post", "/rest/api/3/search"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}"),
    ("get", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes"),
    ("get", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}"),
    ("post", "/rest/api/3/issue"),
    ("post", "/rest/api/3/issue/{issueIdOrKey}/comment"),
    ("get", "/rest/api/3/issue/{issueIdOrKey}/transitions"),
    ("post", "/rest/api/3/issue/{issueIdOrKey}/transitions"),
    ("put", "/rest/api/3/issue/{issueIdOrKey}/assignee"),
    ("get", "/rest/api/3/user/search"),
]


def vendor_document() -> dict[str, Any]:
    """Atlassian's document as published."""
    with gzip.open(VENDOR_DOCUMENT, "rt", encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method]
    return found


def parsed_example(value: Any) -> Any:
    """An example as the JSON it spells (Atlassian's are strings of JSON)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def response_example(document: dict[str, Any], method: str, path: str, status: str) -> Any:
    """The published example of one response, parsed."""
    content = operation(document, method, path)["responses"][status]["content"]["application/json"]
    return parsed_example(content.get("example"))


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def reachable_schemas(document: dict[str, Any], roots: Any) -> dict[str, Any]:
    """The component schemas `roots` refer to, transitively."""
    schemas = document["components"]["schemas"]
    wanted: set[str] = set()
    _refs(roots, wanted)
    done: set[str] = set()
    while wanted - done:
        name = (wanted - done).pop()
        done.add(name)
        _refs(schemas.get(name, {}), wanted)
    return {name: schemas[name] for name in sorted(done) if name in schemas}


def _with_parsed_examples(op: dict[str, Any]) -> dict[str, Any]:
    op = copy.deepcopy(op)
    for response in op.get("responses", {}).values():
        for media in (response.get("content") or {}).values():
            if "example" in media:
                media["example"] = parsed_example(media["example"])
            for named in (media.get("examples") or {}).values():
                if isinstance(named, dict) and "value" in named:
                    named["value"] = parsed_example(named["value"])
    return op


def mock_document() -> dict[str, Any]:
    """The document Prism serves: the connector's operations, v3 and v2, examples as JSON."""
    vendor = vendor_document()
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        cloud = _with_parsed_examples(operation(vendor, method, path))
        paths.setdefault(path, {})[method] = cloud
        datacenter = copy.deepcopy(cloud)
        datacenter["security"] = []
        datacenter["operationId"] = f"{cloud.get('operationId', method + path)}V2"
        paths.setdefault(path.replace("/rest/api/3/", "/rest/api/2/", 1), {})[method] = datacenter
    components = dict(vendor["components"])
    components["schemas"] = reachable_schemas(vendor, paths)
    return {
        "openapi": vendor["openapi"],
        "info": vendor["info"],
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": components,
        "security": vendor.get("security", []),
    }


def write_mock_document(target: Path) -> Path:
    target.write_text(json.dumps(mock_document()), encoding="utf-8")
    return target
