"""Rate limiting with `limits` (fixed windows): in memory by default, one shared counter in Redis.

With `REDIS_URL` every process counts in the same Redis key (an atomic INCR), so N replicas enforce
one limit, not N. If Redis stops answering, counting falls back to this process's memory (limits then
apply per process) and `/health` reports `rate_limits: degraded` until Redis answers again; Redis is
retried every `RETRY_REDIS_S` seconds, and at once by each health check.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage

log = logging.getLogger("switchboard.platform.rate_limits")

T = TypeVar("T")

RETRY_REDIS_S = 10.0
RECHECK_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class LimitState:
    """One window's numbers, as the `X-RateLimit-*` headers report them."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


def redis_storage_uri(redis_url: str) -> str:
    for scheme in ("rediss://", "redis://"):
        if redis_url.startswith(scheme):
            return "async+" + redis_url
    return redis_url


class RateLimiter:
    """Counts hits per (limit, identity); shared through Redis when configured."""

    def __init__(
        self,
        *,
        default: str,
        auth: str,
        chat: str,
        redis_url: str | None = None,
        key_prefix: str = "switchboard",
    ) -> None:
        self.default = parse(default)
        self.auth = parse(auth)
        self.chat = parse(chat)
        self.memory: Storage = MemoryStorage()
        self.shared: Storage | None = None
        if redis_url:
            self.shared = RedisStorage(
                redis_storage_uri(redis_url),
                implementation="redispy",
                key_prefix=f"{key_prefix}:ratelimit",
                socket_timeout=1,
                socket_connect_timeout=1,
            )
        self._fallback_until = 0.0

    @staticmethod
    def per_minute(count: int) -> RateLimitItem:
        return RateLimitItemPerMinute(count)

    @property
    def degraded(self) -> bool:
        return self.shared is not None and time.monotonic() < self._fallback_until

    async def recheck(self) -> None:
        """While degraded, ask Redis whether it answers again: recovery shows at once, not after the retry wait."""
        if self.shared is None or not self.degraded:
            return
        try:
            answering = await asyncio.wait_for(self.shared.check(), RECHECK_TIMEOUT_S)
        except Exception:
            answering = False
        if answering:
            log.info("Redis rate-limit storage answers again; counting in Redis")
            self._fallback_until = 0.0

    def health(self) -> dict[str, Any]:
        if self.shared is None:
            return {"status": "ok", "storage": "memory"}
        if self.degraded:
            return {"status": "degraded", "storage": "memory (Redis unreachable: limits are per process)"}
        return {"status": "ok", "storage": "redis"}

    async def _in_storage(self, operation: Callable[[Storage], Awaitable[T]]) -> T:
        """Run `operation` in Redis when it answers, else in this process's memory."""
        if self.shared is not None and not self.degraded:
            try:
                return await operation(self.shared)
            except Exception:
                log.warning("Redis rate-limit storage failed; counting in memory for %ss", RETRY_REDIS_S, exc_info=True)
                self._fallback_until = time.monotonic() + RETRY_REDIS_S
        return await operation(self.memory)

    async def hit(self, item: RateLimitItem, identity: str) -> LimitState:
        """Count one request against `item` for `identity` and say whether it is allowed."""
        key = item.key_for(identity)
        return await self._in_storage(lambda storage: self._hit(storage, item, key))

    # Plain counters with an expiry (failed sign-ins, lock-outs), in the same storage as the limits.

    async def count(self, key: str, expiry_s: float) -> int:
        """Add one to `key` (created with `expiry_s` to live) and return the new value."""
        return await self._in_storage(lambda storage: storage.incr(key, max(1, math.ceil(expiry_s))))

    async def counter(self, key: str) -> tuple[int, float]:
        """`key`'s value and when it expires (epoch seconds); (0, 0) when absent or expired."""

        async def read(storage: Storage) -> tuple[int, float]:
            value = int(await storage.get(key) or 0)
            return (value, await storage.get_expiry(key)) if value else (0, 0.0)

        return await self._in_storage(read)

    async def forget(self, key: str) -> None:
        await self._in_storage(lambda storage: storage.clear(key))

    @staticmethod
    async def _hit(storage: Storage, item: RateLimitItem, key: str) -> LimitState:
        count = await storage.incr(key, item.get_expiry())
        reset_at = await storage.get_expiry(key)
        return LimitState(count <= item.amount, item.amount, max(0, item.amount - count), reset_at)

    async def close(self) -> None:
        if self.shared is None:
            return
        client: Any = getattr(getattr(self.shared, "bridge", None), "storage", None)
        if client is not None:
            try:
                await client.aclose()
            except Exception:
                log.debug("closing the Redis rate-limit client failed", exc_info=True)
