"""Sign-in throttling (finding 6): failures count per account and per IP, successes count against nobody,
and X-Forwarded-For is believed only from TRUSTED_PROXIES."""

from __future__ import annotations

from pathlib import Path

import httpx

from backend.config import Settings
from tests.conftest import asgi_client, empty_database, running_app
from tests.server_process import ServerProcess

PASSWORD = "correct horse battery"


async def test_a_ward_behind_one_address_never_locks_itself_out(settings: Settings) -> None:
    """Defaults (RATE_LIMIT_AUTH 5/minute): eight nurses sign in twice each from one NAT address, a few
    with a typo first; nobody is refused."""
    defaults = settings.model_copy(update={"rate_limit_auth": Settings.model_fields["rate_limit_auth"].default})
    async with running_app(defaults) as app:
        for n in range(8):  # accounts made elsewhere (each from its own address)
            transport = httpx.ASGITransport(app=app, client=(f"10.1.0.{n + 1}", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as desk:
                account = {"email": f"nurse{n}@example.com", "username": f"nurse{n}", "password": PASSWORD}
                assert (await desk.post("/api/v1/auth/register", json=account)).status_code == 201
        ward = httpx.ASGITransport(app=app, client=("192.0.2.50", 5000))
        async with httpx.AsyncClient(transport=ward, base_url="http://testserver") as http:
            statuses = []
            for shift in range(2):
                for n in range(8):
                    if shift == 0 and n % 3 == 0:  # a typo: counts, but three are far below any limit
                        typo = await http.post("/api/v1/auth/login", json={"username": f"nurse{n}", "password": "x"})
                        assert typo.status_code == 401
                    login = await http.post("/api/v1/auth/login", json={"username": f"nurse{n}", "password": PASSWORD})
                    statuses.append(login.status_code)
                    tokens = login.json()
                    if login.status_code == 200:
                        refreshed = await http.post(
                            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
                        )
                        statuses.append(refreshed.status_code)
        assert statuses == [200] * 32, statuses


async def test_failures_per_ip_cover_guesses_spread_over_accounts(settings: Settings) -> None:
    limited = settings.model_copy(update={"login_max_failures_per_ip": 4})
    async with running_app(limited) as app, asgi_client(app) as http:
        statuses = [
            (await http.post("/api/v1/auth/login", json={"username": f"user{n}", "password": "guess"})).status_code
            for n in range(6)
        ]
        assert statuses == [401] * 4 + [429] * 2
        refresh = await http.post("/api/v1/auth/refresh", json={"refresh_token": "rt_guess"})
        assert refresh.status_code == 429 and refresh.json()["code"] == "login_throttled"
        # Another address is unaffected.
        elsewhere = httpx.ASGITransport(app=app, client=("198.51.100.7", 4000))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
            assert (await other.post("/api/v1/auth/login", json={"username": "u", "password": "x"})).status_code == 401


async def _guesses(url: str, spoof: bool) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        statuses = []
        for n in range(6):
            headers = {"X-Forwarded-For": f"203.0.113.{n}"} if spoof else {}
            body = {"username": f"someone{n}", "password": "guess"}
            statuses.append((await http.post("/api/v1/auth/login", json=body, headers=headers)).status_code)
        return statuses


async def test_forwarded_for_is_believed_only_from_trusted_proxies(database_url: str, data_dir: Path) -> None:
    """`switchboard serve` on loopback: rotating X-Forwarded-For spreads nothing without TRUSTED_PROXIES;
    with the loopback proxy trusted, each forwarded client has its own budget."""
    await empty_database(database_url)
    env = {"LOGIN_MAX_FAILURES_PER_IP": "4"}
    for extra, expected in (({}, [401] * 4 + [429] * 2), ({"TRUSTED_PROXIES": "127.0.0.1/32"}, [401] * 6)):
        server = ServerProcess(database_url, data_dir, **env, **extra)
        try:
            await server.start(timeout=120)  # start-up on a busy CI machine can take a while
            # Without a trusted proxy all six guesses are one address; behind one, six clients guess once each.
            assert await _guesses(server.url, spoof=True) == expected, extra
        finally:
            await server.stop()
