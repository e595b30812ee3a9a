"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL via TEST_DATABASE_URL),
the app with its lifespan, an HTTP client over ASGI, a live server on loopback, and user factories."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend.config import Settings
from backend.db.base import Base
from backend.db.migrate import upgrade
from backend.db.session import Database
from backend.main import create_app
from tools.sandbox_server import LoopbackServer

TEST_SECRET = "test-secret-key-" + "x" * 40


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="switchboard-test-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> Iterator[str]:
    """The database under test, migrated once per session (per pytest-xdist worker)."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if not configured:
        url = Settings(database_url=f"sqlite+aiosqlite:///{data_dir / 'test.db'}").resolved_database_url
        upgrade(url)
        yield url
        return
    with worker_database(configured) as own:
        url = Settings(database_url=own).resolved_database_url
        upgrade(url)
        yield url


@contextmanager
def worker_database(url: str) -> Iterator[str]:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, since tests empty the
    tables between them; it is created beside the configured one and dropped at the end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgres"):
        yield url
        return
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        # Suites sign in many times a minute; tests/backend/platform exercise the real limits.
        rate_limit_default="100000/minute",
        rate_limit_auth="100000/minute",
        rate_limit_chat="100000/minute",
        _env_file=None,  # type: ignore[call-arg]
    )


async def empty_database(url: str) -> None:
    """Delete every row (faster than re-migrating per test); the schema stays."""
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(text(f"DELETE FROM {table.name}"))
    finally:
        await database.dispose()


@asynccontextmanager
async def running_app(settings: Settings, *, wipe: bool = True) -> AsyncIterator[Any]:
    """The app with its lifespan running, on an emptied database (or as it is: a restart)."""
    if wipe:
        await empty_database(settings.resolved_database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def asgi_client(application: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as http:
        yield http


@asynccontextmanager
async def serving(application: Any) -> AsyncIterator[str]:
    """The same app served over real sockets on 127.0.0.1 (for WebSocket and SSE tests)."""
    server = LoopbackServer(application)
    # The app's lifespan already runs; uvicorn must not run it again.
    server._server.config.lifespan = "off"
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
async def live_server(app: Any) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


@dataclass
class TestUser:
    __test__ = False

    id: str
    username: str
    email: str
    password: str
    role: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


UserFactory = Callable[..., Awaitable[TestUser]]


@pytest.fixture
def make_user(client: httpx.AsyncClient) -> UserFactory:
    """Register a user over HTTP and sign them in. The first one made is the admin."""

    async def factory(username: str | None = None, password: str = "correct horse battery") -> TestUser:
        username = username or f"user_{uuid.uuid4().hex[:8]}"
        email = f"{username}@example.com"
        registered = await client.post(
            "/api/v1/auth/register", json={"email": email, "username": username, "password": password}
        )
        assert registered.status_code == 201, registered.text
        tokens = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        user = registered.json()
        return TestUser(
            id=user["id"],
            username=username,
            email=email,
            password=password,
            role=user["role"],
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
        )

    return factory


@pytest.fixture
async def admin(make_user: UserFactory) -> TestUser:
    user = await make_user("admin")
    assert user.role == "admin"
    return user


@pytest.fixture
async def alice(admin: TestUser, make_user: UserFactory) -> TestUser:
    """A regular user (the admin exists first)."""
    return await make_user("alice")


@pytest.fixture
async def bob(admin: TestUser, make_user: UserFactory) -> TestUser:
    return await make_user("bob")
