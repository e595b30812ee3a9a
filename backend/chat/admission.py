"""Admission of turns on one event loop: first tokens before more tokens.

When many turns start at once (a burst of users, a reconnect storm), asyncio runs whatever is ready
in arrival order, so the set-up of the 200th turn (auth, session, toolset, graph start) waits behind
the token streams of the turns that started before it: its first token comes after everyone else's
answer. Users feel the first token, not the 150th, so while any turn is still setting up, streaming
turns pause between tokens (`yield_to_starting`) — bounded, so a stream never stalls for long even
under a steady flood of new turns — and set-up work runs a few at a time (`setup_slot`), so the
turns that arrived first are the first to be answered rather than all of them progressing together.

A turn counts as starting from its request until its first token, or until `MODEL_WAIT_GRACE_S`
after its model call began: past that it is waiting on the model (a hosted model takes hundreds of
milliseconds to its first token), which must not hold the other streams. It holds a set-up slot from
its request until its first model call begins: the database reads, the toolset and the agent's start
(the checkpointer serialises its reads on one connection, so a few turns at a time get through it
faster than two hundred queued together).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Set-up work (database reads and writes of a turn's start) running at once: enough to keep the
# database and its threads busy, few enough that the earliest turns finish theirs first.
SETUP_SLOTS = 8
# The longest a streaming turn pauses for others' set-up before it sends more tokens anyway.
MAX_PAUSE_S = 0.1
# After a pause that ran out, this many tokens go out before the next pause.
TOKENS_AFTER_PAUSE = 32
# A stream whose tokens are all ready (a fast model) still lets the loop in this often: new sockets
# get accepted and counted as starting, other turns' first tokens go out.
TOKENS_PER_TURN_OF_LOOP = 16
# A turn still without its first token this long after its model call began is waiting on the model.
MODEL_WAIT_GRACE_S = 0.25
# ... and this long after its agent run began (a tool approved for the turn runs before any model call).
AGENT_START_GRACE_S = 1.0


class StartingTurn:
    """One turn's hold on the gate and, while it does set-up work, on a set-up slot.

    The slot goes back as the turn's first model call begins (from there a hosted model may keep it
    waiting); the gate hold at its first token, `MODEL_WAIT_GRACE_S` after that model call began,
    `AGENT_START_GRACE_S` after its agent run began (a tool approved for the turn runs first), or at its
    end, whichever comes first."""

    __slots__ = ("_admission", "_slot", "_timer", "released")

    def __init__(self, admission: TurnAdmission) -> None:
        self._admission = admission
        self._slot = False
        self._timer: asyncio.TimerHandle | None = None
        self.released = False

    async def take_slot(self) -> None:
        if not self.released and not self._slot:
            await self._admission._slots.acquire()
            self._slot = True

    def leave_slot(self) -> None:
        if self._slot:
            self._slot = False
            self._admission._slots.release()

    def release(self) -> None:
        self.leave_slot()
        if self.released:
            return
        self.released = True
        if self._timer is not None:
            self._timer.cancel()
        self._admission._leave()

    def agent_started(self) -> None:
        """The agent run began: past its grace the turn is waiting, not working; let go by then."""
        if not self.released and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(AGENT_START_GRACE_S, self.release)

    def model_called(self) -> None:
        """A model call began: give the slot back; the first token normally follows (offline: at once)."""
        self.leave_slot()
        if self.released:
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + MODEL_WAIT_GRACE_S
        if self._timer is None or self._timer.when() > due:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(due, self.release)


class TurnAdmission:
    """One per app: the count of starting turns, the gate streams wait on, the set-up slots."""

    def __init__(self, setup_slots: int = SETUP_SLOTS, max_pause_s: float = MAX_PAUSE_S) -> None:
        self.starting = 0
        self.max_pause_s = max_pause_s
        self._idle = asyncio.Event()
        self._idle.set()
        self._slots = asyncio.Semaphore(setup_slots)

    def _enter(self) -> None:
        self.starting += 1
        self._idle.clear()

    def _leave(self) -> None:
        self.starting -= 1
        if self.starting == 0:
            self._idle.set()

    def start_turn(self) -> StartingTurn:
        """Count a turn as starting until its `release()` (call it in a `finally`); it takes its slot
        with `take_slot()` once it is cleared to run."""
        self._enter()
        return StartingTurn(self)

    @asynccontextmanager
    async def setup_slot(self) -> AsyncIterator[None]:
        """Run a set-up step among at most `SETUP_SLOTS`, counted as starting while it waits and runs."""
        self._enter()
        try:
            async with self._slots:
                yield
        finally:
            self._leave()

    async def yield_to_starting(self) -> bool:
        """Pause while turns are setting up, at most `max_pause_s`; False when the pause ran out."""
        if self.starting == 0:
            return True
        try:
            async with asyncio.timeout(self.max_pause_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


class StreamPacer:
    """A streaming turn's side of the gate: checks it between tokens, cheaply."""

    __slots__ = ("_admission", "_credit", "_tokens")

    def __init__(self, admission: TurnAdmission) -> None:
        self._admission = admission
        self._credit = 0
        self._tokens = 0

    async def between_tokens(self) -> None:
        self._tokens += 1
        if self._credit:
            self._credit -= 1
        elif self._admission.starting:
            if not await self._admission.yield_to_starting():
                self._credit = TOKENS_AFTER_PAUSE
            return
        if self._tokens % TOKENS_PER_TURN_OF_LOOP == 0:
            await asyncio.sleep(0)
