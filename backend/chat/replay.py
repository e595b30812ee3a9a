"""Replaying what a reconnecting client missed: stored frames of finished turns, then the buffer."""

from __future__ import annotations

import json
import uuid
from typing import Any

from backend.context import AppContext

from . import service
from .hub import Frame


async def missed_frames(app: AppContext, session_id: uuid.UUID, after_seq: int, buffered: list[Frame]) -> list[Frame]:
    """Frames with seq > after_seq, in order, each once: finished turns from the database (tokens
    folded into `final`), then the running turn's frames from memory (tokens included)."""
    async with app.db.session() as session:
        stored = await service.events_after(session, session_id, after_seq)
    by_seq: dict[int, Frame] = {}
    for data in stored:
        by_seq[int(data["seq"])] = _frame(data)
    for frame in buffered:
        if frame.seq > after_seq:
            by_seq[frame.seq] = frame
    return [by_seq[seq] for seq in sorted(by_seq)]


def _frame(data: dict[str, Any]) -> Frame:
    return Frame(int(data["seq"]), str(data["type"]), data, json.dumps(data, separators=(",", ":"), ensure_ascii=False))
