"""The synchronous resources: one-line wrappers over `_operations` (the async twins mirror them)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from . import _operations as ops
from ._core import login_call, refresh_call
from ._errors import AuthenticationError
from ._operations import Id, RecordSection
from ._stream import Transport
from ._sync_events import EventSubscription
from ._sync_stream import ChatStream
from .events import StreamEvent
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
    TokenPair,
    User,
    Webhook,
    WebhookCreated,
    WebhookDelivery,
)

if TYPE_CHECKING:
    from ._sync_client import Switchboard


class _Resource:
    def __init__(self, client: Switchboard) -> None:
        self._client = client


class AuthResource(_Resource):
    def register(self, email: str, username: str, password: str, full_name: str | None = None) -> User:
        """Create an account (the first one on a new server becomes the admin)."""
        return self._client._run(ops.register(email, username, password, full_name))

    def login(self, username: str, password: str) -> TokenPair:
        """Sign in; the client keeps the tokens and refreshes them on 401."""
        tokens = self._client._run(login_call(username, password))
        self._client.credentials.store(tokens)
        return tokens

    def refresh(self) -> TokenPair:
        """Exchange the refresh token for a new pair now (the client also does this on 401)."""
        auth = self._client.credentials
        if auth.refresh_token is None:
            raise AuthenticationError("No refresh token: sign in first", status_code=401)
        tokens = self._client._run(refresh_call(auth.refresh_token))
        auth.store(tokens)
        return tokens

    def me(self) -> User:
        return self._client._run(ops.me())

    def logout(self) -> None:
        """Revoke the refresh token on the server and forget both tokens."""
        auth = self._client.credentials
        if auth.refresh_token is not None:
            self._client._run(ops.logout(auth.refresh_token))
        auth.clear()
        auth.password = None


class SessionsResource(_Resource):
    def create(self, message: str, metadata: Mapping[str, Any] | None = None) -> SessionCreated:
        """Start a session; its first message is answered by the first stream (or `chat.send`)."""
        return self._client._run(ops.create_session(message, metadata))

    def list(self, *, page: int = 1, size: int = 20, q: str | None = None) -> Page[Session]:
        return self._client._run(ops.list_sessions(page, size, q))

    def iter(self, *, q: str | None = None, size: int = 100) -> Iterator[Session]:
        """Every session (all pages), most recent activity first."""
        return self._client._iterate(lambda number: self.list(page=number, size=size, q=q))

    def get(self, session_id: Id) -> Session:
        return self._client._run(ops.get_session(session_id))

    def rename(self, session_id: Id, title: str) -> Session:
        return self._client._run(ops.rename_session(session_id, title))

    def delete(self, session_id: Id) -> None:
        self._client._run(ops.delete_session(session_id))

    def messages(
        self, session_id: Id, *, page: int = 1, size: int = 100, include_superseded: bool = False
    ) -> Page[Message]:
        return self._client._run(ops.list_messages(session_id, page, size, include_superseded))

    def iter_messages(self, session_id: Id, *, include_superseded: bool = False) -> Iterator[Message]:
        return self._client._iterate(
            lambda number: self.messages(session_id, page=number, include_superseded=include_superseded)
        )

    def export(self, session_id: Id, format: Literal["markdown", "json"] = "markdown") -> str:
        """The conversation as a Markdown or JSON document."""
        return self._client._run(ops.export_session(session_id, format))

    def events(self, session_id: Id, after_seq: int = 0) -> builtins.list[StreamEvent]:
        """Stream frames after `after_seq` as stored (tokens of finished turns folded into `final`)."""
        return self._client._run(ops.session_events(session_id, after_seq))


class ChatResource(_Resource):
    def send(self, session_id: Id, message: str, metadata: Mapping[str, Any] | None = None) -> Message:
        """Send a message and wait for the assistant's final answer."""
        return self._client._run(ops.send_message(session_id, message, metadata))

    def regenerate(self, session_id: Id) -> Message:
        return self._client._run(ops.regenerate(session_id))

    def edit(self, session_id: Id, message_id: Id, message: str) -> Message:
        return self._client._run(ops.edit_message(session_id, message_id, message))

    def stream(
        self,
        session_id: Id,
        message: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        transport: Transport = "ws",
        idle_timeout: float = 300.0,
    ) -> ChatStream:
        """Send `message` (or, without one, answer the session's first message) and iterate the turn."""
        return ChatStream(self._client, str(session_id), transport, idle_timeout).start(message, metadata)

    def resume(self, session_id: Id, after_seq: int, *, transport: Transport = "ws") -> ChatStream:
        """Receive what was missed after `after_seq`, then follow the running turn to its end."""
        stream = ChatStream(self._client, str(session_id), transport, 300.0)
        stream.resume(after_seq)
        return stream


class IntegrationsResource(_Resource):
    def types(self) -> list[IntegrationType]:
        return self._client._run(ops.integration_types())

    def list(self, *, page: int = 1, size: int = 20, integration_type: str | None = None) -> Page[Integration]:
        return self._client._run(ops.list_integrations(page, size, integration_type))

    def iter(self, *, integration_type: str | None = None) -> Iterator[Integration]:
        return self._client._iterate(lambda n: self.list(page=n, size=100, integration_type=integration_type))

    def create(
        self,
        name: str,
        integration_type: str,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        *,
        visibility: Literal["private", "shared"] | None = None,
        description: str | None = None,
    ) -> Integration:
        body = ops.body_of(
            name=name,
            integration_type=integration_type,
            config=dict(config or {}),
            credentials=credentials,
            visibility=visibility,
            description=description,
        )
        return self._client._run(ops.create_integration(body))

    def get(self, integration_id: Id) -> Integration:
        return self._client._run(ops.get_integration(integration_id))

    def update(
        self,
        integration_id: Id,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        visibility: Literal["private", "shared"] | None = None,
        description: str | None = None,
        is_active: bool | None = None,
    ) -> Integration:
        """Change some fields (PATCH); omitted credentials keep the stored ones."""
        body = ops.body_of(
            name=name,
            config=config,
            credentials=credentials,
            visibility=visibility,
            description=description,
            is_active=is_active,
        )
        return self._client._run(ops.update_integration(integration_id, body))

    def delete(self, integration_id: Id) -> None:
        self._client._run(ops.delete_integration(integration_id))

    def test(self, integration_id: Id) -> ConnectionTestResult:
        """Check the connection step by step; an unreachable system is `ok=False`, not an error."""
        return self._client._run(ops.test_integration(integration_id))

    def search_patients(
        self, integration_id: Id, *, page: int = 1, size: int = 20, **criteria: str
    ) -> Page[PatientSummary]:
        """EMR integrations: search patients by name, family, given, birthdate, gender or identifier."""
        return self._client._run(ops.search_patients(integration_id, criteria, page, size))

    def patient(self, integration_id: Id, patient_id: str) -> PatientSummary:
        """EMR integrations: one patient's demographics."""
        return self._client._run(ops.read_patient(integration_id, patient_id))

    def patient_records(
        self,
        integration_id: Id,
        patient_id: str,
        section: RecordSection,
        *,
        page: int = 1,
        size: int = 20,
        **filters: str,
    ) -> Page[dict[str, Any]]:
        """A section of a patient's record; filters such as category=vital-signs, code=, since=."""
        return self._client._run(ops.patient_records(integration_id, patient_id, section, page, size, filters))


class MessagesResource(_Resource):
    def submit(self, message: str, destinations: Sequence[str], *, source: str | None = None) -> MessageAccepted:
        """Queue an HL7 v2 message for delivery to HL7 integrations named in `destinations`."""
        return self._client._run(ops.submit_message(message, destinations, source))

    def get(self, message_id: Id) -> HL7Message:
        return self._client._run(ops.get_message(message_id))

    def list(self, *, page: int = 1, size: int = 20, **filters: str) -> Page[HL7MessageSummary]:
        """Filters: status, message_type, patient_id, direction, control_id, since."""
        return self._client._run(ops.list_hl7_messages(page, size, filters))

    def iter(self, **filters: str) -> Iterator[HL7MessageSummary]:
        return self._client._iterate(lambda number: self.list(page=number, size=100, **filters))

    def replay(self, message_id: Id) -> MessageAccepted:
        return self._client._run(ops.replay_message(message_id))


class ApiKeysResource(_Resource):
    def create(
        self,
        name: str,
        scopes: Sequence[str],
        *,
        expires_at: datetime | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> ApiKeyCreated:
        """Create a key; `key` in the answer is shown only this once."""
        body = ops.body_of(
            name=name,
            scopes=scopes,
            expires_at=expires_at,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        return self._client._run(ops.create_api_key(body))

    def list(self, *, page: int = 1, size: int = 20) -> Page[ApiKey]:
        return self._client._run(ops.list_api_keys(page, size))

    def iter(self) -> Iterator[ApiKey]:
        return self._client._iterate(lambda number: self.list(page=number, size=100))

    def get(self, key_id: Id) -> ApiKey:
        return self._client._run(ops.get_api_key(key_id))

    def update(
        self,
        key_id: Id,
        *,
        name: str | None = None,
        scopes: Sequence[str] | None = None,
        is_active: bool | None = None,
        expires_at: datetime | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> ApiKey:
        body = ops.body_of(
            name=name,
            scopes=scopes,
            is_active=is_active,
            expires_at=expires_at,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        return self._client._run(ops.update_api_key(key_id, body))

    def delete(self, key_id: Id) -> None:
        self._client._run(ops.delete_api_key(key_id))


class WebhooksResource(_Resource):
    def create(self, name: str, url: str, events: Sequence[str], *, is_active: bool = True) -> WebhookCreated:
        """Create a webhook; `secret` in the answer (for `verify_webhook_signature`) is shown only once."""
        return self._client._run(
            ops.create_webhook(ops.body_of(name=name, url=url, events=events, is_active=is_active))
        )

    def list(self, *, page: int = 1, size: int = 20) -> Page[Webhook]:
        return self._client._run(ops.list_webhooks(page, size))

    def iter(self) -> Iterator[Webhook]:
        return self._client._iterate(lambda number: self.list(page=number, size=100))

    def get(self, webhook_id: Id) -> Webhook:
        return self._client._run(ops.get_webhook(webhook_id))

    def update(
        self,
        webhook_id: Id,
        *,
        name: str | None = None,
        url: str | None = None,
        events: Sequence[str] | None = None,
        is_active: bool | None = None,
    ) -> Webhook:
        body = ops.body_of(name=name, url=url, events=events, is_active=is_active)
        return self._client._run(ops.update_webhook(webhook_id, body))

    def delete(self, webhook_id: Id) -> None:
        self._client._run(ops.delete_webhook(webhook_id))

    def test(self, webhook_id: Id) -> WebhookDelivery:
        """Send a signed `webhook.test` event now; answers the logged attempt (status, response code)."""
        return self._client._run(ops.test_webhook(webhook_id))

    def deliveries(self, webhook_id: Id, *, page: int = 1, size: int = 20) -> Page[WebhookDelivery]:
        return self._client._run(ops.list_deliveries(webhook_id, page, size))

    def iter_deliveries(self, webhook_id: Id) -> Iterator[WebhookDelivery]:
        """Every logged delivery of the webhook (all pages), newest first."""
        return self._client._iterate(lambda number: self.deliveries(webhook_id, page=number, size=100))


class EventsResource(_Resource):
    def subscribe(self, patterns: Sequence[str], *, idle_timeout: float | None = None) -> EventSubscription:
        """Live platform events over `WS /events/ws` for patterns such as `hl7.*` (API keys need `events`)."""
        return EventSubscription(self._client, idle_timeout).open(patterns)
