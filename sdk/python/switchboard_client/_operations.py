"""Every API operation once, as a `Call` (method, path, body, response parser).

The sync and async resources are one-line wrappers over these, so an endpoint's shape lives here only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from ._core import Call
from .events import StreamEvent, parse_event
from .models import (
    ApiKey,
    ApiKeyCreated,
    ConnectionTestResult,
    HL7Message,
    HL7MessageSummary,
    Integration,
    IntegrationType,
    Message,
    MessageAccepted,
    Page,
    PatientSummary,
    Session,
    SessionCreated,
    User,
    Webhook,
    WebhookCreated,
    WebhookDelivery,
)

M = TypeVar("M", bound=BaseModel)
Id = str | uuid.UUID
RecordSection = Literal["observations", "medications", "allergies", "conditions"]


def segment(value: Id) -> str:
    """One path segment: ids from callers (or an EMR's patient ids) never change the path's shape."""
    return quote(str(value), safe="")


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: cls.model_validate_json(response.content)


def _list_of(cls: type[M]) -> Callable[[httpx.Response], list[M]]:
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]
    return lambda response: list(adapter.validate_json(response.content))


def _nothing(_: httpx.Response) -> None:
    return None


def _text(response: httpx.Response) -> str:
    return response.text


def _json(response: httpx.Response) -> Any:
    return response.json()


def _events(response: httpx.Response) -> list[StreamEvent]:
    return [parse_event(frame) for frame in response.json()]


def _page(cls: type[M]) -> Callable[[httpx.Response], Page[M]]:
    page_model: type[Page[M]] = Page[cls]  # type: ignore[valid-type]
    return lambda response: page_model.model_validate_json(response.content)


def _paging(page: int, size: int, **filters: Any) -> dict[str, Any]:
    return {"page": page, "size": size, **filters}


def _present(**fields: Any) -> dict[str, Any]:
    """The fields the caller set (None = leave unchanged), with datetimes as ISO-8601."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in fields.items() if v is not None}


# ------------------------------------------------------------------ auth


def register(email: str, username: str, password: str, full_name: str | None) -> Call[User]:
    body = _present(email=email, username=username, password=password, full_name=full_name)
    return Call("POST", "/auth/register", _model(User), json=body, authenticated=False)


def me() -> Call[User]:
    return Call("GET", "/auth/me", _model(User))


def logout(refresh_token: str) -> Call[None]:
    return Call("POST", "/auth/logout", _nothing, json={"refresh_token": refresh_token})


# ------------------------------------------------------------------ sessions


def create_session(message: str, metadata: Mapping[str, Any] | None) -> Call[SessionCreated]:
    return Call("POST", "/chat/sessions", _model(SessionCreated), json={"message": message, "metadata": metadata or {}})


def list_sessions(page: int, size: int, q: str | None) -> Call[Page[Session]]:
    return Call("GET", "/chat/sessions", _page(Session), params=_paging(page, size, q=q))


def get_session(session_id: Id) -> Call[Session]:
    return Call("GET", f"/chat/sessions/{segment(session_id)}", _model(Session))


def rename_session(session_id: Id, title: str) -> Call[Session]:
    return Call("PATCH", f"/chat/sessions/{segment(session_id)}", _model(Session), json={"title": title})


def delete_session(session_id: Id) -> Call[None]:
    return Call("DELETE", f"/chat/sessions/{segment(session_id)}", _nothing)


def list_messages(session_id: Id, page: int, size: int, include_superseded: bool) -> Call[Page[Message]]:
    params = _paging(page, size, include_superseded="true" if include_superseded else None)
    return Call("GET", f"/chat/sessions/{segment(session_id)}/messages", _page(Message), params=params)


def export_session(session_id: Id, format: Literal["markdown", "json"]) -> Call[str]:
    return Call("GET", f"/chat/sessions/{segment(session_id)}/export", _text, params={"format": format})


def session_events(session_id: Id, after_seq: int) -> Call[list[StreamEvent]]:
    return Call("GET", f"/chat/sessions/{segment(session_id)}/events", _events, params={"after_seq": after_seq})


# ------------------------------------------------------------------ chat (blocking and SSE)


def send_message(session_id: Id, message: str, metadata: Mapping[str, Any] | None) -> Call[Message]:
    body = {"message": message, "metadata": metadata or {}}
    return Call("POST", f"/chat/sessions/{segment(session_id)}/messages", _model(Message), json=body)


def regenerate(session_id: Id) -> Call[Message]:
    return Call("POST", f"/chat/sessions/{segment(session_id)}/regenerate", _model(Message))


def edit_message(session_id: Id, message_id: Id, message: str) -> Call[Message]:
    return Call(
        "PUT",
        f"/chat/sessions/{segment(session_id)}/messages/{segment(message_id)}",
        _model(Message),
        json={"message": message},
    )


def _unread(response: httpx.Response) -> httpx.Response:
    return response


def open_sse_message(session_id: Id, message: str, metadata: Mapping[str, Any] | None) -> Call[httpx.Response]:
    """POST a message and receive its turn as server-sent events."""
    body = {"message": message, "metadata": metadata or {}}
    path = f"/chat/sessions/{segment(session_id)}/messages/stream"
    return Call("POST", path, _unread, json=body, stream=True, headers={"Accept": "text/event-stream"})


def open_sse_follow(session_id: Id, after_seq: int | None) -> Call[httpx.Response]:
    """Follow a session (replay after `after_seq`, then the running turn) as server-sent events."""
    headers = {"Accept": "text/event-stream"}
    if after_seq is not None:
        headers["Last-Event-ID"] = str(after_seq)
    return Call("GET", f"/chat/sessions/{segment(session_id)}/stream", _unread, stream=True, headers=headers)


# ------------------------------------------------------------------ integrations


def integration_types() -> Call[list[IntegrationType]]:
    return Call("GET", "/integrations/types", _list_of(IntegrationType))


def list_integrations(page: int, size: int, integration_type: str | None) -> Call[Page[Integration]]:
    params = _paging(page, size, integration_type=integration_type)
    return Call("GET", "/integrations", _page(Integration), params=params)


def create_integration(body: dict[str, Any]) -> Call[Integration]:
    return Call("POST", "/integrations", _model(Integration), json=body)


def get_integration(integration_id: Id) -> Call[Integration]:
    return Call("GET", f"/integrations/{segment(integration_id)}", _model(Integration))


def update_integration(integration_id: Id, body: dict[str, Any]) -> Call[Integration]:
    return Call("PATCH", f"/integrations/{segment(integration_id)}", _model(Integration), json=body)


def replace_integration(integration_id: Id, body: dict[str, Any]) -> Call[Integration]:
    return Call("PUT", f"/integrations/{segment(integration_id)}", _model(Integration), json=body)


def delete_integration(integration_id: Id) -> Call[None]:
    return Call("DELETE", f"/integrations/{segment(integration_id)}", _nothing)


def test_integration(integration_id: Id) -> Call[ConnectionTestResult]:
    return Call("POST", f"/integrations/{segment(integration_id)}/test", _model(ConnectionTestResult))


def search_patients(
    integration_id: Id, criteria: Mapping[str, Any], page: int, size: int
) -> Call[Page[PatientSummary]]:
    path = f"/integrations/{segment(integration_id)}/patients/search"
    return Call("POST", path, _page(PatientSummary), json={"criteria": dict(criteria)}, params=_paging(page, size))


def read_patient(integration_id: Id, patient_id: str) -> Call[PatientSummary]:
    return Call(
        "GET", f"/integrations/{segment(integration_id)}/patients/{segment(patient_id)}", _model(PatientSummary)
    )


def patient_records(
    integration_id: Id, patient_id: str, section: RecordSection, page: int, size: int, filters: Mapping[str, Any]
) -> Call[Page[dict[str, Any]]]:
    path = f"/integrations/{segment(integration_id)}/patients/{segment(patient_id)}/{section}"
    page_model = Page[dict[str, Any]]
    return Call("GET", path, lambda r: page_model.model_validate_json(r.content), params=_paging(page, size, **filters))


# ------------------------------------------------------------------ HL7 messages


def submit_message(message: str, destinations: Sequence[str], source: str | None) -> Call[MessageAccepted]:
    body = {
        "content_type": "application/hl7-v2",
        "message": message,
        "metadata": _present(source=source, destination=list(destinations)),
    }
    return Call("POST", "/messages", _model(MessageAccepted), json=body)


def get_message(message_id: Id) -> Call[HL7Message]:
    return Call("GET", f"/messages/{segment(message_id)}", _model(HL7Message))


def list_hl7_messages(page: int, size: int, filters: Mapping[str, Any]) -> Call[Page[HL7MessageSummary]]:
    return Call("GET", "/messages", _page(HL7MessageSummary), params=_paging(page, size, **filters))


def replay_message(message_id: Id) -> Call[MessageAccepted]:
    return Call("POST", f"/messages/{segment(message_id)}/replay", _model(MessageAccepted))


# ------------------------------------------------------------------ API keys


def create_api_key(body: dict[str, Any]) -> Call[ApiKeyCreated]:
    return Call("POST", "/api-keys", _model(ApiKeyCreated), json=body)


def list_api_keys(page: int, size: int) -> Call[Page[ApiKey]]:
    return Call("GET", "/api-keys", _page(ApiKey), params=_paging(page, size))


def get_api_key(key_id: Id) -> Call[ApiKey]:
    return Call("GET", f"/api-keys/{segment(key_id)}", _model(ApiKey))


def update_api_key(key_id: Id, body: dict[str, Any]) -> Call[ApiKey]:
    return Call("PATCH", f"/api-keys/{segment(key_id)}", _model(ApiKey), json=body)


def delete_api_key(key_id: Id) -> Call[None]:
    return Call("DELETE", f"/api-keys/{segment(key_id)}", _nothing)


# ------------------------------------------------------------------ webhooks


def create_webhook(body: dict[str, Any]) -> Call[WebhookCreated]:
    return Call("POST", "/webhooks", _model(WebhookCreated), json=body)


def list_webhooks(page: int, size: int) -> Call[Page[Webhook]]:
    return Call("GET", "/webhooks", _page(Webhook), params=_paging(page, size))


def get_webhook(webhook_id: Id) -> Call[Webhook]:
    return Call("GET", f"/webhooks/{segment(webhook_id)}", _model(Webhook))


def update_webhook(webhook_id: Id, body: dict[str, Any]) -> Call[Webhook]:
    return Call("PATCH", f"/webhooks/{segment(webhook_id)}", _model(Webhook), json=body)


def delete_webhook(webhook_id: Id) -> Call[None]:
    return Call("DELETE", f"/webhooks/{segment(webhook_id)}", _nothing)


def test_webhook(webhook_id: Id) -> Call[WebhookDelivery]:
    return Call("POST", f"/webhooks/{segment(webhook_id)}/test", _model(WebhookDelivery))


def list_deliveries(webhook_id: Id, page: int, size: int) -> Call[Page[WebhookDelivery]]:
    return Call(
        "GET", f"/webhooks/{segment(webhook_id)}/deliveries", _page(WebhookDelivery), params=_paging(page, size)
    )


def body_of(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields the caller set."""
    return _present(**fields)
