"""One exception hierarchy for the service and one set of handlers mapping it to the contract.

Every error response is `{"detail": ..., "code": ...}` with a stable snake_case `code`;
401 carries `WWW-Authenticate: Bearer`; nothing ever leaks a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("switchboard.errors")


class AppError(Exception):
    """An error the API reports to the client as-is."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, detail: Any = None, *, code: str | None = None, status_code: int | None = None):
        self.detail = detail if detail is not None else self.default_detail()
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        super().__init__(str(self.detail))

    def default_detail(self) -> str:
        return self.code.replace("_", " ").capitalize()

    def headers(self) -> dict[str, str] | None:
        return None


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "internal_error",
    503: "service_unavailable",
}


def error_body(detail: Any, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(error_body(jsonable_encoder(exc.detail), exc.code), exc.status_code, headers=exc.headers())


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    detail = exc.detail if exc.detail else code.replace("_", " ").capitalize()
    return JSONResponse(error_body(detail, code), exc.status_code, headers=headers or None)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in error.items() if k in ("type", "loc", "msg", "ctx")} for error in exc.errors()]
    return JSONResponse(error_body(jsonable_encoder(errors), "validation_error"), 422)


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # The database refused a value the request carried: PostgreSQL cannot store NUL in text, for one.
    # That is bad input (SQLite would have taken it), not a server fault.
    log.info("database refused a value on %s %s: %s", request.method, request.url.path, type(exc.__cause__).__name__)
    detail = "The database refused a value in the request (text must not contain NUL characters)."
    return JSONResponse(error_body(detail, "invalid_value"), 422)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("Internal server error", "internal_error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; every error the app can raise ends up in the contract's shape."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unhandled)
