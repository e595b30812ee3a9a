"""Alembic migrations upgrade and downgrade cleanly on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backend.db.base import Base
from backend.db.migrate import downgrade, upgrade

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _tables(sync_url: str) -> set[str]:
    engine = sa.create_engine(sync_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _round_trip(async_url: str, sync_url: str) -> None:
    upgrade(async_url)
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= _tables(sync_url)
    downgrade(async_url, "base")
    assert not (expected & _tables(sync_url))
    upgrade(async_url)
    assert expected <= _tables(sync_url)


def test_sqlite_upgrade_downgrade(tmp_path: Path) -> None:
    path = tmp_path / "migrations.db"
    _round_trip(f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}")


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    name = f"sb_migr_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield str(make_url(PG_ADMIN_URL).set(database=name))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_postgres_upgrade_downgrade(scratch_postgres: str) -> None:
    base = scratch_postgres.split("://", 1)[1]
    _round_trip(f"postgresql+psycopg://{base}", f"postgresql+psycopg://{base}")
