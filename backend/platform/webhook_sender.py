"""One signed webhook POST: SSRF check at send time, no redirects, a bounded timeout, an outcome to log."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tools.errors import ConnectorError
from tools.net import OutboundPolicy

from .signing import sign

USER_AGENT = "Switchboard-Webhooks/1"
_MAX_ERROR = 500


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    response_code: int | None
    duration_ms: float
    error: str | None


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


async def send_webhook(
    client: httpx.AsyncClient,
    outbound: OutboundPolicy,
    *,
    url: str,
    secret: str,
    delivery_id: uuid.UUID,
    event: str,
    payload: dict[str, Any],
) -> SendOutcome:
    """POST the payload; any failure is an outcome (never an exception)."""
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    try:
        await outbound.check_url(url)  # again at send time: DNS may have changed since it was saved
    except ConnectorError as exc:
        return SendOutcome(False, None, elapsed(), f"{exc.code}: {exc.message}"[:_MAX_ERROR])
    body = encode_body(payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Switchboard-Event": event,
        "X-Switchboard-Delivery": str(delivery_id),
        "X-Switchboard-Timestamp": timestamp,
        "X-Switchboard-Signature": sign(secret, timestamp, body),
    }
    try:
        response = await client.post(url, content=body, headers=headers, follow_redirects=False)
    except httpx.TimeoutException:
        return SendOutcome(False, None, elapsed(), "The receiver did not answer in time.")
    except httpx.HTTPError as exc:
        return SendOutcome(False, None, elapsed(), f"{type(exc).__name__}: {exc}"[:_MAX_ERROR] or "connection failed")
    code = response.status_code
    if 200 <= code < 300:
        return SendOutcome(True, code, elapsed(), None)
    if 300 <= code < 400:
        error = f"HTTP {code}: redirects are not followed (Location: {response.headers.get('location', '-')})."
    else:
        error = f"HTTP {code}: {response.text[:200]}"
    return SendOutcome(False, code, elapsed(), error[:_MAX_ERROR])
