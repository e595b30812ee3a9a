"""Switchboard's Python client: sync (`Switchboard`) and async (`AsyncSwitchboard`) clients,
typed models and stream events, the exception tree and webhook signature verification."""

from ._async_client import AsyncSwitchboard
from ._async_events import AsyncEventSubscription
from ._async_stream import AsyncChatStream
from ._core import RetryPolicy
from ._errors import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
    SwitchboardError,
    ValidationError,
)
from ._sync_client import Switchboard
from ._sync_events import EventSubscription
from ._sync_stream import ChatStream
from ._version import __version__
from .events import (
    AgentEvent,
    ApprovalRequiredEvent,
    ConnectionEstablishedEvent,
    ErrorEvent,
    FinalEvent,
    PlatformEvent,
    PongEvent,
    StreamEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
    UnknownEvent,
    parse_event,
)
from .webhooks import WebhookVerificationError, compute_signature, verify_webhook_signature

__all__ = [
    "APIConnectionError",
    "AgentEvent",
    "ApprovalRequiredEvent",
    "AsyncChatStream",
    "AsyncEventSubscription",
    "AsyncSwitchboard",
    "AuthenticationError",
    "ChatStream",
    "ConflictError",
    "ConnectionEstablishedEvent",
    "ErrorEvent",
    "EventSubscription",
    "FinalEvent",
    "NotFoundError",
    "PermissionDeniedError",
    "PlatformEvent",
    "PongEvent",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "StreamError",
    "StreamEvent",
    "Switchboard",
    "SwitchboardError",
    "TokenEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "UnknownEvent",
    "ValidationError",
    "WebhookVerificationError",
    "__version__",
    "compute_signature",
    "parse_event",
    "verify_webhook_signature",
]
