"""Jira's error answer: `{"errorMessages": [...], "errors": {...}}` with a status."""

from __future__ import annotations

from typing import Any

from fastapi import Request


class JiraFailure(Exception):
    """A Jira error answer."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers: dict[str, str] = {}


def error_body(messages: list[str], errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"errorMessages": messages, "errors": errors or {}}


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise JiraFailure(400, ["Unexpected character in the request body: it is not valid JSON."]) from None
    if not isinstance(body, dict):
        raise JiraFailure(400, ["The request body must be a JSON object."])
    return body
