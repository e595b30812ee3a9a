"""The asynchronous resources: one-line wrappers over `_operations`, mirroring `_sync_resources`."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from . import _operations as ops
from ._async_events import AsyncEventSubscription
from ._async_stream import AsyncChatStream
from ._core import login_call, refresh_call
from ._errors import AuthenticationError
from ._operations import Id, RecordSection
from ._stream import Transport
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
    from ._async_client import AsyncSwitchboard


class _Resource:
    def __init__(self, client: AsyncSwitchboard) -> None:
        self._client = client


class AuthResource(_Resource):
    async def register(self, email: str, username: str, password: str, full_name: str | None = None) -> User:
        """Create an account (the first one on a new server becomes the admin)."""
        return await self._client._run(ops.register(email, username, password, full_name))

    async def login(self, username: str, password: str) -> TokenPair:
        """Sign in; the client keeps the tokens and refreshes them on 401."""
        tokens = await self._client._run(login_call(username, password))
        self._client.credentials.store(tokens)
        return tokens

    async def refresh(self) -> TokenPair:
        """Exchange the refresh token for a new pair now (the client also does this on 401)."""
        auth = self._client.credentials
        if auth.refresh_token is None:
            raise AuthenticationError("No refresh token: sign in first", status_code=401)
        tokens = await self._client._run(refresh_call(auth.refresh_token))
        auth.store(tokens)
        return tokens

    async def me(self) -> User:
        return await self._client._run(ops.me())

    async def logout(self) -> None:
        """Revoke the refresh token on the server and forget both tokens."""
        auth = self._client.credentials
        if auth.refresh_token is not None:
            await self._client._run(ops.logout(auth.refresh_token))
        auth.clear()
        auth.password = None


class SessionsResource(_Resource):
    async def create(self, message: str, metadata: Mapping[str, Any] | None = None) -> SessionCreated:
        """Start a session; its first message is answered by the first stream (or `chat.send`)."""
        return await self._client._run(ops.create_session(message, metadata))

    async def list(self, *, page: int = 1, size: int = 20, q: str | None = None) -> Page[Session]:
        return await self._client._run(ops.list_sessions(page, size, q))

    def iter(self, *, q: str | None = None, size: int = 100) -> AsyncIterator[Session]:
        """Every session (all pages), most recent activity first."""
        return self._client._iterate(lambda number: self.list(page=number, size=size, q=q))

    async def get(self, session_id: Id) -> Session:
        return await self._client._run(ops.get_session(session_id))

    async def rename(self, session_id: Id, title: str) -> Session:
        return await self._client._run(ops.rename_session(session_id, title))

    async def delete(self, session_id: Id) -> None:
        await self._client._run(ops.delete_session(session_id))

    async def messages(
        self, session_id: Id, *, page: int = 1, size: int = 100, include_superseded: bool = False
    ) -> Page[Message]:
        return await self._client._run(ops.list_messages(session_id, page, size, include_superseded))

    def iter_messages(self, session_id: Id, *, include_superseded: bool = False) -> AsyncIterator[Message]:
        return self._client._iterate(
            lambda number: self.messages(session_id, page=number, include_superseded=include_superseded)
        )

    async def export(self, session_id: Id, format: Literal["markdown", "json"] = "markdown") -> str:
        """The conversation as a Markdown or JSON document."""
        return await self._client._run(ops.export_session(session_id, format))

    async def events(self, session_id: Id, after_seq: int = 0) -> builtins.list[StreamEvent]:
        """Stream frames after `after_seq` as stored (tokens of finished turns folded into `final`)."""
        return await self._client._run(ops.session_events(session_id, after_seq))


class ChatResource(_Resource):
    async def send(self, session_id: Id, message: str, metadata: Mapping[str, Any] | None = None) -> Message:
        """Send a message and wait for the assistant's final answer."""
        return await self._client._run(ops.send_message(session_id, message, metadata))

    async def regenerate(self, session_id: Id) -> Message:
        return await self._client._run(ops.regenerate(session_id))

    async def edit(self, session_id: Id, message_id: Id, message: str) -> Message:
        return await self._client._run(ops.edit_message(session_id, message_id, message))

    def stream(
        self,
        session_id: Id,
        message: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        transport: Transport = "ws",
        idle_timeout: float = 300.0,
    ) -> AsyncChatStream:
        """Send `message` (or, without one, answer the session's first message) and iterate the turn.

        The connection opens on `async with` or the first event asked for."""
        stream = AsyncChatStream(self._client, str(session_id), transport, idle_timeout)
        return stream.deferred(lambda: stream.start(message, metadata))

    def resume(self, session_id: Id, after_seq: int, *, transport: Transport = "ws") -> AsyncChatStream:
        """Receive what was missed after `after_seq`, then follow the running turn to its end."""
        stream = AsyncChatStream(self._client, str(session_id), transport, 300.0)
        return stream.deferred(lambda: stream.resume(after_seq))


class IntegrationsResource(_Resource):
    async def types(self) -> list[IntegrationType]:
        return await self._client._run(ops.integration_types())

    async def list(self, *, page: int = 1, size: int = 20, integration_type: str | None = None) -> Page[Integration]:
        return await self._client._run(ops.list_integrations(page, size, integration_type))

    def iter(self, *, integration_type: str | None = None) -> AsyncIterator[Integration]:
        return self._client._iterate(lambda n: self.list(page=n, size=100, integration_type=integration_type))

    async def create(
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
        return await self._client._run(ops.create_integration(body))

    async def get(self, integration_id: Id) -> Integration:
        return await self._client._run(ops.get_integration(integration_id))

    async def update(
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
        return await self._client._run(ops.update_integration(integration_id, body))

    async def delete(self, integration_id: Id) -> None:
        await self._client._run(ops.delete_integration(integration_id))

    async def test(self, integration_id: Id) -> ConnectionTestResult:
        """Check the connection step by step; an unreachable system is `ok=False`, not an error."""
        return await self._client._run(ops.test_integration(integration_id))

    async def search_patients(
        self, integration_id: Id, *, page: int = 1, size: int = 20, **criteria: str
    ) -> Page[PatientSummary]:
        """EMR integrations: search patients by name, family, given, birthdate, gender or identifier."""
        return await self._client._run(ops.search_patients(integration_id, criteria, page, size))

    async def patient(self, integration_id: Id, patient_id: str) -> PatientSummary:
        """EMR integrations: one patient's demographics."""
        return await self._client._run(ops.read_patient(integration_id, patient_id))

    async def patient_records(
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
        return await self._client._run(ops.patient_records(integration_id, patient_id, section, page, size, filters))


class MessagesResource(_Resource):
    async def submit(self, message: str, destinations: Sequence[str], *, source: str | None = None) -> MessageAccepted:
        """Queue an HL7 v2 message for delivery to HL7 integrations named in `destinations`."""
        return await self._client._run(ops.submit_message(message, destinations, source))

    async def get(self, message_id: Id) -> HL7Message:
        return await self._client._run(ops.get_message(message_id))

    async def list(self, *, page: int = 1, size: int = 20, **filters: str) -> Page[HL7MessageSummary]:
        """Filters: status, message_type, patient_id, direction, control_id, since."""
        return await self._client._run(ops.list_hl7_messages(page, size, filters))

    def iter(self, **filters: str) -> AsyncIterator[HL7MessageSummary]:
        return self._client._iterate(lambda number: self.list(page=number, size=100, **filters))

    async def replay(self, message_id: Id) -> MessageAccepted:
        return await self._client._run(ops.replay_message(message_id))


class ApiKeysResource(_Resource):
    async def create(
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
        return await self._client._run(ops.create_api_key(body))

    async def list(self, *, page: int = 1, size: int = 20) -> Page[ApiKey]:
        return await self._client._run(ops.list_api_keys(page, size))

    def iter(self) -> AsyncIterator[ApiKey]:
        return self._client._iterate(lambda number: self.list(page=number, size=100))

    async def get(self, key_id: Id) -> ApiKey:
        return await self._client._run(ops.get_api_key(key_id))

    async def update(
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
        return await self._client._run(ops.update_api_key(key_id, body))

    async def delete(self, key_id: Id) -> None:
        await self._client._run(ops.delete_api_key(key_id))


class WebhooksResource(_Resource):
    async def create(self, name: str, url: str, events: Sequence[str], *, is_active: bool = True) -> WebhookCreated:
        """Create a webhook; `secret` in the answer (for `verify_webhook_signature`) is shown only once."""
        return await self._client._run(
            ops.create_webhook(ops.body_of(name=name, url=url, events=events, is_active=is_active))
        )

    async def list(self, *, page: int = 1, size: int = 20) -> Page[Webhook]:
        return await self._client._run(ops.list_webhooks(page, size))

    def iter(self) -> AsyncIterator[Webhook]:
        return self._client._iterate(lambda number: self.list(page=number, size=100))

    async def get(self, webhook_id: Id) -> Webhook:
        return await self._client._run(ops.get_webhook(webhook_id))

    async def update(
        self,
        webhook_id: Id,
        *,
        name: str | None = None,
        url: str | None = None,
        events: Sequence[str] | None = None,
        is_active: bool | None = None,
    ) -> Webhook:
        body = ops.body_of(name=name, url=url, events=events, is_active=is_active)
        return await self._client._run(ops.update_webhook(webhook_id, body))

    async def delete(self, webhook_id: Id) -> None:
        await self._client._run(ops.delete_webhook(webhook_id))

    async def test(self, webhook_id: Id) -> WebhookDelivery:
        """Send a signed `webhook.test` event now; answers the logged attempt (status, response code)."""
        return await self._client._run(ops.test_webhook(webhook_id))

    async def deliveries(self, webhook_id: Id, *, page: int = 1, size: int = 20) -> Page[WebhookDelivery]:
        return await self._client._run(ops.list_deliveries(webhook_id, page, size))

    def iter_deliveries(self, webhook_id: Id) -> AsyncIterator[WebhookDelivery]:
        """Every logged delivery of the webhook (all pages), newest first."""
        return self._client._iterate(lambda number: self.deliveries(webhook_id, page=number, size=100))


class EventsResource(_Resource):
    def subscribe(self, patterns: Sequence[str], *, idle_timeout: float | None = None) -> AsyncEventSubscription:
        """Live platform events over `WS /events/ws` for patterns such as `hl7.*` (API keys need `events`).

        The socket opens on `async with` or the first event asked for."""
        return AsyncEventSubscription(self._client, patterns, idle_timeout)
