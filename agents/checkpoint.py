"""The LangGraph checkpointer on the app's own database (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver


def _sqlite_path(url: str) -> str:
    # sqlite+aiosqlite:////abs/path.db → /abs/path.db ; sqlite+aiosqlite:///rel.db → rel.db
    path = url.split(":///", 1)[1] if ":///" in url else ":memory:"
    return path.split("?", 1)[0] or ":memory:"


# Any fixed 64-bit number: the advisory lock that serialises the checkpointer's schema set-up.
_SETUP_LOCK = 0x53574244_43484B50


async def _wait_for_lock(connection: Any) -> None:
    """Take the set-up lock by polling (see `open_checkpointer` for why it must not block)."""
    for attempt in itertools.count():
        cursor = await connection.execute("SELECT pg_try_advisory_lock(%s) AS locked", (_SETUP_LOCK,))
        row = await cursor.fetchone()
        if row and row["locked"]:
            return
        await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))


def _postgres_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


@asynccontextmanager
async def open_checkpointer(database_url: str) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """Open (and set up) the saver matching the app's SQLAlchemy URL; closed on exit."""
    if database_url.startswith("sqlite"):
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        path = _sqlite_path(database_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        async with AsyncSqliteSaver.from_conn_string(path) as saver:
            await saver.setup()
            yield saver
        return
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(
        _postgres_dsn(database_url),
        min_size=1,
        max_size=10,
        open=False,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        check=AsyncConnectionPool.check_connection,
    )
    await pool.open()
    try:
        postgres_saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
        # Replicas starting together on a fresh database would race in setup()'s own migrations
        # (a duplicate key in checkpoint_migrations crashes the loser): one runs them at a time. The
        # others poll rather than block in pg_advisory_lock, because setup() builds indexes
        # CONCURRENTLY, which waits for every open statement — a blocked lock call would deadlock it.
        async with pool.connection() as lock:
            await _wait_for_lock(lock)
            try:
                await postgres_saver.setup()
            finally:
                await lock.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        yield postgres_saver
    finally:
        await pool.close()
