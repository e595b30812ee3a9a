"""Failed sign-ins are throttled per account and per client IP, with exponential back-off.

Only failures count: a ward of nurses behind one NAT address signing in all morning never spends
anyone's budget, while a guesser is slowed down whichever way they spread the guesses — across
accounts from one address (the per-IP counter) or across addresses at one account (the per-account
counter; the address is the proxy-resolved client only when the peer is in `TRUSTED_PROXIES`).

After `max_failures` failures within `window_s`, the account (or IP) is locked for `lockout_base_s`;
each further failure after a lock-out doubles it, up to `lockout_max_s`. A locked account is refused
before its password is checked, so a guess during a lock-out learns nothing. A successful sign-in
clears the account's counter (not the IP's: a guesser with an account of their own could reset it).
Counters live where the rate limits do — Redis when configured, so every replica sees them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import AppError
from backend.models.user import User

from .rate_limits import RateLimiter


@dataclass(frozen=True)
class ThrottleSettings:
    max_failures_per_account: int = 5
    max_failures_per_ip: int = 20
    window_s: float = 900.0
    lockout_base_s: float = 30.0
    lockout_max_s: float = 900.0


class SignInThrottled(AppError):
    status_code = 429
    code = "login_throttled"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after_s} s.")
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_s)}


async def account_key(session: AsyncSession, login: str) -> str:
    """One key per account however it is spelled (username or email, any case); unknown names count
    under the name itself, so guessing at a missing account is throttled the same way."""
    name = login.strip().lower()
    # The same match as `auth.service.authenticate`.
    user_id = await session.scalar(select(User.id).where(or_(func.lower(User.username) == name, User.email == name)))
    return f"account:{user_id}" if user_id else f"account:{name[:320]}"


class LoginThrottle:
    """`check` before verifying a credential, `failed` after a wrong one, `succeeded` after a right one."""

    def __init__(self, limiter: RateLimiter, settings: ThrottleSettings) -> None:
        self.limiter = limiter
        self.settings = settings

    def _subjects(self, account: str | None, ip: str) -> list[tuple[str, int]]:
        subjects = [(f"ip:{ip}", self.settings.max_failures_per_ip)]
        if account is not None:
            subjects.insert(0, (account, self.settings.max_failures_per_account))
        return subjects

    async def check(self, account: str | None, ip: str) -> None:
        """Refuse (429 `login_throttled`) while the account (an `account_key`) or the address is locked."""
        for subject, _ in self._subjects(account, ip):
            locked, until = await self.limiter.counter(f"login-lock:{subject}")
            if locked:
                raise SignInThrottled(max(1, math.ceil(until - time.time())))

    async def failed(self, account: str | None, ip: str) -> None:
        """Count a wrong password (or refresh token); lock out past the threshold, doubling each time."""
        settings = self.settings
        for subject, threshold in self._subjects(account, ip):
            failures = await self.limiter.count(f"login-fail:{subject}", settings.window_s)
            if failures >= threshold:
                lockout = min(settings.lockout_max_s, settings.lockout_base_s * 2 ** (failures - threshold))
                await self.limiter.count(f"login-lock:{subject}", lockout)

    async def succeeded(self, account: str) -> None:
        await self.limiter.forget(f"login-fail:{account}")
