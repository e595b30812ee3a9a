"""Structured logging: JSON lines in production, readable text in development.

Every record carries the request id of the request it belongs to (a context variable set by the
request-id middleware). A redaction filter masks anything that looks like a password, token or key
so secrets never reach a log line even if a message interpolates them by mistake. Control characters
(CR, LF, ESC, Unicode line separators...) in a message are escaped, so text from outside — a URL path
with `%0a`, an upstream's error — can never start a forged log line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SECRET_PATTERNS = [
    re.compile(
        r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|credentials?)"
        r"(\"?\s*[:=]\s*\"?)([^\s\",&]+)"
    ),
    re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"),  # JWTs
    re.compile(r"\bsb_[A-Za-z0-9_-]{16,}"),  # our API keys
    re.compile(r"(?i)\bbearer\s+[\w.~+/-]+=*"),
]


# C0 and C1 controls, DEL, and the Unicode line/paragraph separators `str.splitlines` breaks on.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TRACEBACK_PREFIX = "  | "


def escape_controls(text: str) -> str:
    """`text` on one line: each control character as its Python escape (`\\n`, `\\x1b`, `\\u2028`)."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _traceback_lines(text: str) -> str:
    """A traceback keeps its lines (readable) but each is prefixed, so none looks like a new record."""
    return "\n".join(_TRACEBACK_PREFIX + escape_controls(line) for line in text.splitlines())


def redact(text: str) -> str:
    """Mask secrets in a log message."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    for pattern in _SECRET_PATTERNS[1:]:
        text = pattern.sub("***", text)
    return text


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": redact(escape_controls(record.getMessage())),
        }
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        for extra in (record.exc_text, record.stack_info and self.formatStack(record.stack_info)):
            if extra:
                line += "\n" + _traceback_lines(extra)
        return redact(line)


def configure_logging(*, level: str = "INFO", json_lines: bool = False) -> None:
    """Install our handler on the root logger (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if json_lines:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_switchboard", False):
            root.removeHandler(existing)
    handler._switchboard = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiosqlite", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
