"""Jira's HTTP answers as data: bodies read up to a cap, JSON parsed, error bodies of every shape read.

Jira's error body is `{"errorMessages": [...], "errors": {field: message}}` on v2 and v3, Cloud and
Data Center; older servers and proxies send `{"message": ...}`, `{"errorMessage": ...}`, a list, an
HTML page or nothing. Whatever comes, it becomes one short sentence, never an exception.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tools.errors import ConnectorProtocolError
from tools.tolerant import as_int, as_items, as_object, as_str

__all__ = ["MAX_BODY_BYTES", "as_int", "as_items", "as_object", "jira_error_text", "parse_json", "read_capped"]

# Far above any page we ask for (50 issues with a handful of fields); a body past it is not Jira's answer.
MAX_BODY_BYTES = 8 * 1024 * 1024
_ERROR_TEXT_LIMIT = 400


def read_capped(response: requests.Response, *, what: str, site: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body of a streamed response, refusing (without reading on) one larger than `limit`."""
    declared = as_int(response.headers.get("Content-Length"))
    if declared is not None and declared > limit:
        raise _too_large(what, site, limit)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(what, site, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(what: str, site: str, limit: int) -> ConnectorProtocolError:
    return ConnectorProtocolError(
        f"{site} answered {what} with more than {limit // (1024 * 1024)} MB; Switchboard stopped reading.",
        remediation="Ask for less (a narrower search, fewer results), or check that the address is Jira's.",
    )


def parse_json(body: bytes) -> Any:
    """The JSON of a body (None when empty); `ValueError` when it is not JSON (an HTML page, cut short)."""
    text = body.decode("utf-8-sig")
    if not text.strip():
        return None
    return json.loads(text)


def jira_error_text(body: bytes) -> str:
    """What Jira's error body says, in one line ('' for an HTML page or an empty body)."""
    try:
        data = parse_json(body)
    except ValueError:
        raw = body.decode("utf-8", errors="replace").strip()
        return "" if not raw or raw.startswith("<") else " ".join(raw.split())[:_ERROR_TEXT_LIMIT]
    messages: list[str] = []
    for item in data if isinstance(data, list) else [data]:
        if isinstance(item, dict):
            messages.extend(_messages(item))
        elif text := as_str(item):
            messages.append(text)
    return "; ".join(dict.fromkeys(messages))[:_ERROR_TEXT_LIMIT]


def _messages(data: Any) -> list[str]:
    body = as_object(data)
    found: list[str] = []
    for key in ("errorMessages", "errorMessage", "message"):
        value = body.get(key)
        for item in value if isinstance(value, list) else [value]:
            if text := as_str(item):
                found.append(text)
    errors = body.get("errors")
    if isinstance(errors, dict):
        for field, message in errors.items():
            if text := as_str(message):
                found.append(f"{field}: {text}")
    elif isinstance(errors, list):
        found.extend(t for t in (as_str(item) for item in errors) if t)
    elif text := as_str(errors):
        found.append(text)
    return found
