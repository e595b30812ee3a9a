"""Verify that a webhook delivery came from Switchboard and is fresh.

Each delivery carries `X-Switchboard-Timestamp: <unix seconds>` and
`X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` keyed with the
webhook's secret. Verify against the raw bytes as received, before parsing the JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from ._errors import SwitchboardError

SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
EVENT_HEADER = "X-Switchboard-Event"
DELIVERY_HEADER = "X-Switchboard-Delivery"


class WebhookVerificationError(SwitchboardError):
    """The delivery's signature or timestamp does not check out: reject it (answer 4xx)."""


def compute_signature(secret: str | bytes, timestamp: str | int, body: bytes | str) -> str:
    """The `sha256=<hex>` header value for `body` sent at `timestamp`."""
    key = secret.encode() if isinstance(secret, str) else secret
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(key, f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_webhook_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes | str,
    signature_header: str,
    tolerance_s: float = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise `WebhookVerificationError` unless `signature_header` signs `body` at `timestamp` with
    `secret` and `timestamp` is within `tolerance_s` seconds of now (replayed deliveries are refused).

    `signature_header` may list several comma-separated `sha256=` values (during a secret rotation);
    one match is enough. The comparison is constant-time.
    """
    stamp = str(timestamp).strip()
    try:
        sent_at = float(stamp)
    except ValueError:
        raise WebhookVerificationError("The timestamp is not a number of seconds", code="invalid_timestamp") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        raise WebhookVerificationError(
            f"The delivery is {abs(current - sent_at):.0f} s away from now (tolerance {tolerance_s:.0f} s)",
            code="timestamp_out_of_tolerance",
        )
    expected = compute_signature(secret, stamp, body).encode()
    candidates = [part.strip() for part in signature_header.split(",") if part.strip().startswith("sha256=")]
    if not candidates:
        raise WebhookVerificationError("No sha256= signature in the header", code="invalid_signature")
    # Compare every candidate so the time taken does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected)
    if not matched:
        raise WebhookVerificationError("The signature does not match the body", code="invalid_signature")
