"""One signed webhook POST: SSRF and TLS checks at send time, the connection pinned to the checked
address, no redirects, a bounded timeout, an outcome to log."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from tools.errors import ConnectorError, ConnectorUnreachable, OutboundBlocked
from tools.net import OutboundPolicy
from tools.pinning import guarded_async_client

from .signing import sign

if TYPE_CHECKING:
    from backend.context import AppContext

USER_AGENT = "Switchboard-Webhooks/1"
_MAX_ERROR = 500


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    response_code: int | None
    duration_ms: float
    error: str | None


class TlsRequired(OutboundBlocked):
    """A webhook URL on plain http:// whose host the allow-list does not name."""

    code = "https_required"


async def check_webhook_target(outbound: OutboundPolicy, url: str) -> None:
    """The SSRF guard, then TLS: `https://` is required unless `OUTBOUND_ALLOWLIST` names the host
    (a receiver on the operator's own network), because the payload and its signature travel in it."""
    parts = urlsplit(url)
    try:
        addresses = await outbound.check_url(url)
    except ConnectorUnreachable:
        addresses = []  # unresolvable now: the TLS rule can still be judged by the name
        if parts.scheme == "https" or outbound.lists(parts.hostname or "", parts.port or 80):
            raise
    if parts.scheme != "https" and not outbound.lists(parts.hostname or "", parts.port or 80, addresses):
        raise TlsRequired(
            "Webhook URLs must use https:// (plain http:// only for hosts in OUTBOUND_ALLOWLIST).",
            remediation="Serve the receiver over TLS and use its https:// address.",
        )


def webhook_http_client(app: AppContext, timeout_s: float) -> httpx.AsyncClient:
    """The senders' shared client: each connection pinned to an address the app's current policy allows."""
    return guarded_async_client(lambda: app.outbound, timeout=timeout_s, follow_redirects=False)


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
        await check_webhook_target(outbound, url)  # again at send time: DNS or the allow-list may have changed
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
    except ConnectorError as exc:  # the connect-time check refused the address DNS gave this time
        return SendOutcome(False, None, elapsed(), f"{exc.code}: {exc.message}"[:_MAX_ERROR])
    code = response.status_code
    if 200 <= code < 300:
        return SendOutcome(True, code, elapsed(), None)
    if 300 <= code < 400:
        error = f"HTTP {code}: redirects are not followed (Location: {response.headers.get('location', '-')})."
    else:
        error = f"HTTP {code}: {response.text[:200]}"
    return SendOutcome(False, code, elapsed(), error[:_MAX_ERROR])
