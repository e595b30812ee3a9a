"""Test helpers for the agent tests: in-memory notes tools, a notes skill, a runner fixture factory."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from agents.events import AgentEvent
from agents.offline.model import OfflineChatModel
from agents.offline.skill import Call, Reply, Step, ToolInfo, Turn
from agents.offline.skills import default_skills
from tools.base import ToolAccess
from tools.errors import ConnectorNotFound
from tools.tooling import make_tool

NOTES: dict[str, str] = {}


class NoteKey(BaseModel):
    key: str = Field(min_length=1, max_length=20)


class NewNote(BaseModel):
    key: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=200)


def notes_tools(*, phi: bool = False, store: dict[str, str] | None = None) -> list[BaseTool]:
    """Read (read), save (write, PHI if asked) and delete (destructive) tools over an in-memory store."""
    notes = NOTES if store is None else store

    async def read(key: str) -> dict[str, str]:
        if key not in notes:
            raise ConnectorNotFound(f"There is no note called {key!r}.")
        return {"key": key, "text": notes[key]}

    async def write(key: str, text: str) -> dict[str, str]:
        notes[key] = text
        return {"key": key, "saved": "yes"}

    async def delete(key: str) -> dict[str, str]:
        notes.pop(key, None)
        return {"key": key, "deleted": "yes"}

    def tool(
        function: Any, operation: str, schema: type[BaseModel], access: ToolAccess, *, tool_phi: bool = False
    ) -> BaseTool:
        return make_tool(
            function,
            operation=operation,
            description=f"{operation.split('.')[1].capitalize()} a note.",
            args_schema=schema,
            access=access,
            scope="notes:read" if access == "read" else "notes:write",
            phi=tool_phi,
            integration_id="int-1",
            integration_name="Notebook",
            integration_type="notes",
        )

    return [
        tool(read, "notes.read", NoteKey, "read"),
        tool(write, "notes.write", NewNote, "write", tool_phi=phi),
        tool(delete, "notes.delete", NoteKey, "destructive"),
    ]


class NotesSkill:
    """Test skill: 'read note X' and 'save note X: text'."""

    name = "notes"

    def score(self, turn: Turn) -> float:
        return 0.9 if "note" in turn.normalized else 0.0

    def step(self, turn: Turn) -> Step:
        if turn.outcomes:
            last = turn.outcomes[-1]
            if not last.ok:
                return Reply(f"That did not work: {last.content}")
            return Reply(f"Done: {last.data}")
        read = re.search(r"read note (\w+)", turn.normalized)
        tool = {t.operation: t.name for t in turn.tools}
        if read:
            return [Call(tool["notes.read"], {"key": read.group(1)})]
        delete = re.search(r"delete note (\w+)", turn.normalized)
        if delete:
            return [Call(tool["notes.delete"], {"key": delete.group(1)})]
        save = re.search(r"save note (\w+): (.+)", turn.text, re.IGNORECASE)
        if save:
            return [Call(tool["notes.write"], {"key": save.group(1), "text": save.group(2)})]
        return Reply("Which note?")

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return ["Read and save notes"] if any(t.operation.startswith("notes.") for t in tools) else []


def make_model() -> OfflineChatModel:
    return OfflineChatModel(skills=(NotesSkill(), *default_skills()))


async def collect(stream: AsyncIterator[AgentEvent]) -> list[AgentEvent]:
    """Every event of a stream."""
    return [event async for event in stream]
