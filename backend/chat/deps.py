"""Chat dependencies: the turn manager and the hub from the app context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from backend.deps import ContextDep

from .hub import StreamHub
from .turns import TurnManager


def get_turns(ctx: ContextDep) -> TurnManager:
    turns: TurnManager = ctx.extras["turns"]
    return turns


def get_hub(ctx: ContextDep) -> StreamHub:
    hub: StreamHub = ctx.extras["hub"]
    return hub


TurnsDep = Annotated[TurnManager, Depends(get_turns)]
HubDep = Annotated[StreamHub, Depends(get_hub)]
