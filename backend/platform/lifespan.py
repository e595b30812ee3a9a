"""Starts and stops the platform's resources inside the app lifespan."""

from __future__ import annotations

from contextlib import AsyncExitStack

from backend.context import AppContext
from backend.security.principals import CHANGED_EVENT, versions_of

from .events import EventBus, Publisher
from .login_throttle import LoginThrottle, ThrottleSettings
from .rate_limits import RateLimiter
from .usage import UsageRecorder
from .webhook_worker import WebhookWorker, WorkerSettings


async def start_platform(app: AppContext, stack: AsyncExitStack) -> None:
    """Rate limiter, API key usage recorder, event bus (Redis when configured) and the webhook worker."""
    settings = app.settings
    limiter = RateLimiter(
        default=settings.rate_limit_default,
        auth=settings.rate_limit_auth,
        chat=settings.rate_limit_chat,
        redis_url=settings.redis_url,
        key_prefix=settings.redis_prefix,
    )
    stack.push_async_callback(limiter.close)
    throttle = LoginThrottle(
        limiter,
        ThrottleSettings(
            max_failures_per_account=settings.login_max_failures,
            max_failures_per_ip=settings.login_max_failures_per_ip,
            window_s=settings.login_failure_window_s,
            lockout_base_s=settings.login_lockout_base_s,
            lockout_max_s=settings.login_lockout_max_s,
        ),
    )

    usage = UsageRecorder(app.db)
    usage.start()
    stack.push_async_callback(usage.stop)

    redis = None
    if settings.redis_url:
        from redis.asyncio import Redis

        # Its own client without a read timeout: the listener blocks on the channel between events.
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, health_check_interval=30)
    bus = EventBus(redis, channel=f"{settings.redis_prefix}:events")
    bus.internal_handlers[CHANGED_EVENT] = versions_of(app).on_remote_change
    await bus.start()
    stack.push_async_callback(bus.stop)

    worker = WebhookWorker(
        app,
        WorkerSettings(
            poll_interval_s=settings.webhook_poll_interval_s,
            max_attempts=settings.webhook_max_attempts,
            backoff_base_s=settings.webhook_backoff_base_s,
            backoff_max_s=settings.webhook_backoff_max_s,
            timeout_s=settings.webhook_timeout_s,
        ),
    )
    worker.start()
    stack.push_async_callback(worker.stop)

    publisher = Publisher(app, bus, worker.wake)
    stack.push_async_callback(publisher.drain)
    app.extras.update(
        rate_limiter=limiter,
        login_throttle=throttle,
        api_key_usage=usage,
        event_bus=bus,
        webhook_worker=worker,
        event_publisher=publisher,
    )
