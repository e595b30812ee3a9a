"""Auth through the client against a live server: register, login, me, refresh on 401, logout, errors."""

from __future__ import annotations

import asyncio

import pytest
from switchboard_client import (
    AsyncSwitchboard,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    Switchboard,
    ValidationError,
)

from tests.conftest import TestUser
from tests.sdk.conftest import FAST_RETRY, in_thread, sync_client


async def test_register_login_me_logout(live_server: str, admin: TestUser) -> None:
    async with AsyncSwitchboard(live_server, retry=FAST_RETRY) as client:
        user = await client.auth.register("dana@example.com", "dana", "correct horse battery", full_name="Dana")
        assert user.username == "dana" and user.role == "user" and user.full_name == "Dana"
        with pytest.raises(ConflictError) as duplicate:
            await client.auth.register("dana@example.com", "dana", "correct horse battery")
        assert duplicate.value.status_code == 409 and duplicate.value.code

        with pytest.raises(AuthenticationError) as wrong:
            await client.auth.login("dana", "not the password")
        assert wrong.value.status_code == 401 and wrong.value.code == "invalid_credentials"

        tokens = await client.auth.login("dana@example.com", "correct horse battery")
        assert tokens.token_type == "bearer" and tokens.expires_in > 0
        assert (await client.auth.me()).email == "dana@example.com"

        await client.auth.logout()
        assert client.credentials.access_token is None
        with pytest.raises(AuthenticationError):
            await client.auth.me()
    # The revoked refresh token no longer works for anyone.
    async with AsyncSwitchboard(live_server, refresh_token=tokens.refresh_token, retry=FAST_RETRY) as other:
        with pytest.raises(AuthenticationError):
            await other.auth.refresh()


async def test_password_client_signs_in_lazily_and_refreshes_on_401(live_server: str, alice: TestUser) -> None:
    async with AsyncSwitchboard(live_server, username="alice", password=alice.password, retry=FAST_RETRY) as client:
        assert client.credentials.access_token is None
        assert (await client.auth.me()).username == "alice"
        first_refresh = client.credentials.refresh_token
        client.credentials.access_token = "expired-or-garbage"  # the server answers 401 invalid_token
        assert (await client.auth.me()).username == "alice"
        assert client.credentials.refresh_token != first_refresh  # it rotated through /auth/refresh


async def test_token_client_refreshes_once_under_concurrency(live_server: str, alice: TestUser) -> None:
    """Refresh tokens rotate and a reused one revokes its family: concurrent 401s must refresh once."""
    async with AsyncSwitchboard(
        live_server, access_token="stale", refresh_token=alice.refresh_token, retry=FAST_RETRY
    ) as client:
        users = await asyncio.gather(*(client.auth.me() for _ in range(6)))
        assert {u.username for u in users} == {"alice"}
        # The family is intact: one more explicit rotation still succeeds.
        await client.auth.refresh()
        assert (await client.auth.me()).username == "alice"


async def test_revoked_refresh_without_password_raises(live_server: str, alice: TestUser) -> None:
    async with AsyncSwitchboard(live_server, access_token="stale", refresh_token="sb-not-a-token") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.auth.me()
    assert caught.value.status_code == 401 and caught.value.code
    assert client.credentials.refresh_token is None


async def test_error_mapping(live_server: str, alice: TestUser) -> None:
    async with AsyncSwitchboard(live_server, username="alice", password=alice.password, retry=FAST_RETRY) as client:
        with pytest.raises(NotFoundError) as missing:
            await client.sessions.get("00000000-0000-0000-0000-000000000000")
        assert missing.value.status_code == 404 and missing.value.code == "not_found"
        with pytest.raises(ValidationError) as invalid:
            await client.sessions.get("not-a-uuid")
        assert invalid.value.status_code == 422 and isinstance(invalid.value.detail, list)
        with pytest.raises(PermissionDeniedError) as denied:
            await client.integrations.create("Everyone's", "hl7", {"host": "example.com"}, visibility="shared")
        assert denied.value.status_code == 403


async def test_sync_client_auth(live_server: str, alice: TestUser) -> None:
    def scenario() -> None:
        with sync_client(live_server, alice) as client:
            assert client.auth.me().username == "alice"
            client.credentials.access_token = "garbage"
            assert client.auth.me().id
            client.auth.logout()
        with Switchboard(live_server, retry=FAST_RETRY) as anonymous, pytest.raises(AuthenticationError):
            anonymous.auth.me()

    await in_thread(scenario)
