"""New turns' start rows, written together: the user's message and the session's "a turn is running" mark.

A burst of turns (200 users at once) would otherwise be 200 write transactions queueing on SQLite's
one writer lock, each holding a pooled connection while SQLite's busy handler sleeps, and every turn's
first frame waits for its own. Whatever start rows are pending when the writer gets its turn go out in
one transaction (one `UPDATE … WHERE id IN (…)` for the marks), so the wait is one commit, not a queue.

The mark is what a restarted process reads as "a turn was cut off here": that turn's frames were seen
but never stored, so the session's seq skips ahead (`turns.SEQ_GAP_AFTER_CRASH`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from backend.context import AppContext
from backend.models.chat import ChatSession

from . import service
from .preparation import StartWrite


@dataclass(frozen=True)
class _Pending:
    session_id: uuid.UUID
    run_id: str
    write: StartWrite
    done: asyncio.Future[None]


class StartWriter:
    """One per app: `submit` a turn's start rows, await the returned future for their commit."""

    def __init__(self, app: AppContext, write_slot: asyncio.Semaphore) -> None:
        self.app = app
        self.write_slot = write_slot
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, session_id: uuid.UUID, run_id: str, write: StartWrite) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(session_id, run_id, write, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="turn-start-writes")
        return done

    async def _drain(self) -> None:
        while self._pending:
            async with self.write_slot:
                batch, self._pending = self._pending, []
                try:
                    await self._write(batch)
                except Exception as exc:  # every turn of the batch fails with it (an `error` + `final`)
                    _settle(batch, exc)
                    continue
                except BaseException:  # the app is shutting down
                    for item in batch:
                        item.done.cancel()
                    raise
            _settle(batch, None)

    async def _write(self, batch: list[_Pending]) -> None:
        async with self.app.db.session() as session:
            ids = [item.session_id for item in batch]
            await session.execute(update(ChatSession).where(ChatSession.id.in_(ids)).values(status="running"))
            messages = [item for item in batch if item.write.user_message is not None]
            if not messages:
                return
            chats = await session.scalars(
                select(ChatSession).where(ChatSession.id.in_([m.session_id for m in messages]))
            )
            by_id = {chat.id: chat for chat in chats}
            for item in messages:
                chat = by_id.get(item.session_id)
                if chat is None:  # deleted meanwhile: the turn's own end finds it gone too
                    continue
                assert item.write.user_message is not None
                await service.add_message(
                    session,
                    chat,
                    role="user",
                    content=item.write.user_message,
                    metadata=item.write.metadata,
                    run_id=item.run_id,
                )


def _settle(batch: list[_Pending], error: Exception | None) -> None:
    for item in batch:
        if item.done.done():
            continue
        if error is None:
            item.done.set_result(None)
        else:
            item.done.set_exception(error)
