"""Platform event channel (`WS /events/ws`) rules shared by the sync and async subscriptions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from ._errors import StreamError
from .events import PlatformEvent

EVENTS_PATH = "/events/ws"
CONTROL_EVENTS = frozenset({"connection.established", "subscribed", "pong"})


def subscription_frame(action: Literal["subscribe", "unsubscribe"], patterns: Sequence[str]) -> str:
    return json.dumps({"action": action, "events": list(patterns)})


def check_acknowledgement(event: PlatformEvent) -> bool:
    """True for the `subscribed` answer; raise for an `error` (a bad pattern, too many)."""
    if event.event == "error":
        code = str(event.data.get("code", "error"))
        raise StreamError(str(event.data.get("detail", code)), code=code)
    return event.event == "subscribed"
