"""Retry policy over real sockets: 429 with Retry-After, bounded attempts, connection errors."""

from __future__ import annotations

import time

import pytest
from switchboard_client import (
    APIConnectionError,
    AsyncSwitchboard,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Switchboard,
)

from tests.sdk.scripted_server import USER, Reply, scripted

LIMITED = {"detail": "Too many requests; retry in 1 s.", "code": "rate_limit_exceeded"}
FAST = RetryPolicy(max_attempts=3, backoff_s=0.01, max_backoff_s=0.02)


async def test_429_then_200_waits_for_retry_after() -> None:
    with scripted(Reply(429, LIMITED, {"Retry-After": "1"}), Reply(200, USER)) as server:
        async with AsyncSwitchboard(server.url, api_key="sb_test", retry=FAST) as client:
            started = time.monotonic()
            user = await client.auth.me()
            waited = time.monotonic() - started
    assert user.username == "ada"
    assert [s.path for s in server.seen] == ["/api/v1/auth/me", "/api/v1/auth/me"]
    assert all(s.headers["x-api-key"] == "sb_test" for s in server.seen)
    assert 0.95 <= waited < 5


def test_sync_client_retries_a_post_after_429() -> None:
    created = {
        "session_id": "6f1c1d2e-0000-4000-8000-000000000002",
        "message_id": "6f1c1d2e-0000-4000-8000-000000000003",
        "content": "hi",
        "metadata": {},
    }
    with (
        scripted(Reply(429, LIMITED, {"Retry-After": "0"}), Reply(201, created)) as server,
        Switchboard(server.url, api_key="sb_test", retry=FAST) as client,
    ):
        assert client.sessions.create("hi").content == "hi"
    assert [s.method for s in server.seen] == ["POST", "POST"]  # a 429 was not processed: safe to repeat


async def test_attempts_are_bounded_and_the_error_carries_retry_after() -> None:
    with scripted(Reply(429, LIMITED, {"Retry-After": "0"})) as server:
        async with AsyncSwitchboard(server.url, api_key="sb_test", retry=FAST) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.auth.me()
    assert len(server.seen) == 3
    error = caught.value
    assert (error.status_code, error.code, error.retry_after) == (429, "rate_limit_exceeded", 0.0)


async def test_a_wait_longer_than_the_policy_allows_is_raised_at_once() -> None:
    with scripted(Reply(429, LIMITED, {"Retry-After": "120"})) as server:
        async with AsyncSwitchboard(server.url, api_key="sb_test", retry=FAST) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.auth.me()
    assert len(server.seen) == 1 and caught.value.retry_after == 120.0


async def test_connection_drop_retries_idempotent_requests_only() -> None:
    with scripted(Reply(0, hang_up=True), Reply(200, USER)) as server:
        async with AsyncSwitchboard(server.url, api_key="sb_test", retry=FAST) as client:
            assert (await client.auth.me()).username == "ada"
    assert len(server.seen) == 2

    with scripted(Reply(0, hang_up=True), Reply(201, USER)) as server:
        async with AsyncSwitchboard(server.url, api_key="sb_test", retry=FAST) as client:
            with pytest.raises(APIConnectionError):
                await client.auth.register("ada@example.com", "ada", "correct horse battery")
    assert len(server.seen) == 1  # a POST the server may have processed is not repeated


def test_unreachable_server_and_5xx() -> None:
    with scripted(Reply(200, USER)) as server:
        url = server.url
    with Switchboard(url, api_key="sb_test", retry=FAST) as client, pytest.raises(APIConnectionError):
        client.auth.me()  # nobody listens any more: connect fails on every attempt
    unavailable = Reply(503, {"detail": "Database unavailable", "code": "service_unavailable"})
    with (
        scripted(unavailable) as server,
        Switchboard(server.url, api_key="sb_test", retry=FAST) as client,
        pytest.raises(ServerError) as caught,
    ):
        client.auth.me()
    assert (caught.value.status_code, caught.value.code) == (503, "service_unavailable")
    assert len(server.seen) == 1  # 5xx is reported, not retried blindly
