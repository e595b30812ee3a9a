"""Webhook signatures: `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Constant-time check (what a receiver does; used by the tests' independent receiver too)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
