"""The client's exception tree: one class per kind of failure a caller handles differently.

Every API error carries `status_code`, the contract's stable `code` and its `detail` (a string, or
the list of problems for a validation error).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx


class SwitchboardError(Exception):
    """Base of every error this client raises."""

    def __init__(self, detail: Any, *, status_code: int | None = None, code: str | None = None) -> None:
        self.detail = detail
        self.status_code = status_code
        self.code = code
        super().__init__(self._message())

    def _message(self) -> str:
        prefix = f"{self.status_code} " if self.status_code is not None else ""
        suffix = f" ({self.code})" if self.code else ""
        return f"{prefix}{self.detail}{suffix}"


class APIConnectionError(SwitchboardError):
    """The server could not be reached (after the retries the policy allows)."""


class AuthenticationError(SwitchboardError):
    """401: missing, invalid or expired credentials."""


class PermissionDeniedError(SwitchboardError):
    """403: authenticated, but not allowed (role, scope, another user's resource)."""


class NotFoundError(SwitchboardError):
    """404: no such resource, or not one the caller may see."""


class ValidationError(SwitchboardError):
    """400 or 422: the request was refused as malformed; `detail` lists the problems."""


class ConflictError(SwitchboardError):
    """409: the resource's state does not allow this (duplicate, run in progress, approval pending)."""


class RateLimitError(SwitchboardError):
    """429 after the retries the policy allows; `retry_after` is the server's wait in seconds."""

    def __init__(
        self, detail: Any, *, status_code: int | None = 429, code: str | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(detail, status_code=status_code, code=code)


class ServerError(SwitchboardError):
    """5xx: the server failed; the request may be retried later."""


class StreamError(SwitchboardError):
    """A chat stream could not be opened or a control frame (approval, cancel) was refused."""


_BY_STATUS: dict[int, type[SwitchboardError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_from_response(response: httpx.Response) -> SwitchboardError:
    """Map an error response (already read) to the matching exception."""
    detail: Any = response.reason_phrase or f"HTTP {response.status_code}"
    code: str | None = None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail", detail)
        raw_code = body.get("code")
        code = raw_code if isinstance(raw_code, str) else None
    elif response.content:
        detail = response.text[:500]
    status = response.status_code
    if status == 429:
        return RateLimitError(
            detail,
            code=code or "rate_limit_exceeded",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else SwitchboardError)
    return cls(detail, status_code=status, code=code)
