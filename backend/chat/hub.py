"""The stream hub: per-session `seq`, live fan-out of frames, and the buffer of the running turn.

A turn's frames are published here once and delivered to every connection of the session (a second
tab, a reconnect, an SSE client) as pre-encoded JSON, so the per-token cost is one dict, one
`json.dumps` and a queue put per subscriber. The running turn's frames stay in memory so a client that
reconnects with `after_seq` gets exactly what it missed; finished turns are replayed from the database.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

# A subscriber that falls this far behind is disconnected rather than buffered without bound.
MAX_QUEUE = 20_000
# What `json.dumps(..., ensure_ascii=False)` does to a string, without the call around it.
_json_string: Callable[[str], str] = encode_basestring


class _MillisecondClock:
    """ISO-8601 UTC timestamps to the millisecond; formatted once per millisecond, not per frame."""

    def __init__(self) -> None:
        self.ms = -1
        self.text = ""

    def now(self) -> str:
        ms = time.time_ns() // 1_000_000
        if ms != self.ms:
            moment = datetime.fromtimestamp(ms / 1000, UTC)
            self.ms, self.text = ms, moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return self.text


now_iso = _MillisecondClock().now


@dataclass
class Frame:
    """One server → client frame, kept as a dict plus its encoded text."""

    seq: int
    type: str
    data: dict[str, Any]
    text: str

    @classmethod
    def build(
        cls, *, seq: int, run_id: str, type: str, content: str = "", metadata: dict[str, Any] | None = None
    ) -> Frame:
        data = {
            "type": type,
            "content": content,
            "metadata": metadata or {},
            "timestamp": now_iso(),
            "seq": seq,
            "run_id": run_id,
        }
        return cls(seq, type, data, json.dumps(data, separators=(",", ":"), ensure_ascii=False))

    @classmethod
    def token(cls, *, seq: int, run_id: str, content: str, token_index: int, message_id: str) -> Frame:
        """A `token` frame, encoded by hand: the one frame built per streamed token.

        Same keys, order and bytes as `build` would give (`run_id` and `message_id` are hex/UUID text,
        so they need no escaping); a third of its cost."""
        timestamp = now_iso()
        data = {
            "type": "token",
            "content": content,
            "metadata": {"token_index": token_index, "message_id": message_id},
            "timestamp": timestamp,
            "seq": seq,
            "run_id": run_id,
        }
        text = (
            f'{{"type":"token","content":{_json_string(content)},"metadata":{{"token_index":{token_index},'
            f'"message_id":"{message_id}"}},"timestamp":"{timestamp}","seq":{seq},"run_id":"{run_id}"}}'
        )
        return cls(seq, "token", data, text)


class Subscription:
    """A connection's view of a session stream: a queue of encoded frames (None = closed)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Frame | None] = asyncio.Queue()
        self.overflowed = False
        self.last_seq = 0

    def push(self, frame: Frame) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= MAX_QUEUE:
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(frame)


@dataclass
class RunningTurn:
    run_id: str
    task: asyncio.Task[None] | None = None
    frames: list[Frame] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    owner_id: str = ""
    api_key_id: str = ""  # the API key that started it, if any
    # Set once the turn's last frame is out; only its persistence is left (a new turn may wait for it).
    closing: bool = False


@dataclass
class SessionStream:
    session_id: str
    next_seq: int
    subscribers: set[Subscription] = field(default_factory=set)
    run: RunningTurn | None = None
    # Frames of the most recent turn until its rows are committed (closes the replay gap).
    last_run_frames: list[Frame] = field(default_factory=list)
    # A turn runs on another replica (chat relay): it numbers the frames, so ours take none.
    remote_run: bool = False


class StreamHub:
    """In-process fan-out. One per app; keyed by session id."""

    def __init__(self) -> None:
        self._streams: dict[str, SessionStream] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.on_publish: Callable[[str, Frame], None] | None = None

    def lock(self, session_id: str) -> asyncio.Lock:
        """Serialises turn start-up per session (so two `message`s cannot both start a run)."""
        return self._locks.setdefault(session_id, asyncio.Lock())

    def busy(self, session_id: str) -> bool:
        """A turn runs here or is starting (its row says `running` only once the batched write lands)."""
        lock = self._locks.get(session_id)
        return self.running(session_id) is not None or (lock is not None and lock.locked())

    def stream(self, session_id: str) -> SessionStream | None:
        return self._streams.get(session_id)

    def ensure(self, session_id: str, next_seq: int) -> SessionStream:
        stream = self._streams.get(session_id)
        if stream is None:
            stream = SessionStream(session_id, next_seq)
            self._streams[session_id] = stream
        return stream

    def publish(
        self, session_id: str, run_id: str, type: str, content: str = "", metadata: dict[str, Any] | None = None
    ) -> Frame:
        """Give the frame the next seq, buffer it with the running turn, deliver it everywhere."""
        frame = self.build(session_id, run_id, type, content, metadata)
        self.deliver(session_id, frame)
        return frame

    def publish_token(self, session_id: str, run_id: str, content: str, token_index: int, message_id: str) -> None:
        """`publish` for a `token` frame: the per-token fast path."""
        stream = self._streams[session_id]
        frame = Frame.token(
            seq=stream.next_seq, run_id=run_id, content=content, token_index=token_index, message_id=message_id
        )
        stream.next_seq += 1
        self.deliver(session_id, frame)

    def build(
        self, session_id: str, run_id: str, type: str, content: str = "", metadata: dict[str, Any] | None = None
    ) -> Frame:
        """A frame with the session's next seq, not yet delivered (e.g. a `final` stored first)."""
        stream = self._streams[session_id]
        frame = Frame.build(seq=stream.next_seq, run_id=run_id, type=type, content=content, metadata=metadata)
        stream.next_seq += 1
        return frame

    def deliver(self, session_id: str, frame: Frame) -> None:
        stream = self._streams[session_id]
        if stream.run is not None and stream.run.run_id == frame.data["run_id"]:
            stream.run.frames.append(frame)
        for subscriber in stream.subscribers:
            subscriber.push(frame)
        if self.on_publish is not None:
            self.on_publish(session_id, frame)

    def direct_frame(
        self,
        session_id: str,
        type: str,
        content: str = "",
        metadata: dict[str, Any] | None = None,
        run_id: str = "",
    ) -> Frame:
        """A frame for one connection only (connection_established, pong, errors).

        It still takes a seq, so every client sees seq strictly increasing (gaps are fine). While
        another replica runs the session's turn it repeats the last relayed seq instead."""
        stream = self._streams[session_id]
        seq = stream.next_seq
        if not stream.remote_run:
            stream.next_seq += 1
        return Frame.build(seq=seq, run_id=run_id, type=type, content=content, metadata=metadata)

    def send_direct(
        self,
        subscription: Subscription,
        session_id: str,
        type: str,
        content: str = "",
        metadata: dict[str, Any] | None = None,
        run_id: str = "",
    ) -> Frame:
        """Queue a connection-only frame behind the live frames already queued for it."""
        frame = self.direct_frame(session_id, type, content, metadata, run_id)
        subscription.queue.put_nowait(frame)
        return frame

    def subscribe(self, session_id: str, next_seq: int) -> tuple[Subscription, list[Frame]]:
        """Register a subscriber and snapshot the in-memory frames (no await in between: consistent)."""
        stream = self.ensure(session_id, next_seq)
        subscription = Subscription()
        stream.subscribers.add(subscription)
        buffered = list(stream.last_run_frames)
        if stream.run is not None:
            buffered.extend(stream.run.frames)
        return subscription, buffered

    def unsubscribe(self, session_id: str, subscription: Subscription) -> None:
        stream = self._streams.get(session_id)
        if stream is not None:
            stream.subscribers.discard(subscription)

    def running(self, session_id: str) -> RunningTurn | None:
        stream = self._streams.get(session_id)
        return stream.run if stream else None

    def begin_run(self, session_id: str, run: RunningTurn, stored_next_seq: int) -> None:
        """Make `run` the session's running turn; its frames number on from the stored seq or later."""
        stream = self.ensure(session_id, stored_next_seq)
        stream.next_seq = max(stream.next_seq, stored_next_seq)
        stream.run = run

    def next_seq(self, session_id: str) -> int | None:
        """The seq the session's next frame will take (None: no stream in this process)."""
        stream = self._streams.get(session_id)
        return stream.next_seq if stream else None

    def end_run(self, session_id: str, run: RunningTurn) -> None:
        """The turn's frames are all delivered: it no longer runs (a newer run is left alone)."""
        stream = self._streams.get(session_id)
        if stream is not None and stream.run is run:
            stream.run = None

    def running_turns(self) -> list[RunningTurn]:
        """Every turn running in this process."""
        return [s.run for s in self._streams.values() if s.run is not None]

    def running_tasks(self) -> list[asyncio.Task[None]]:
        """The tasks of the turns running in this process (for the shutdown drain)."""
        return [s.run.task for s in self._streams.values() if s.run is not None and s.run.task is not None]

    def active_counts(self) -> tuple[int, int]:
        """(connected subscribers, running turns) for the admin overview and metrics."""
        subscribers = sum(len(s.subscribers) for s in self._streams.values())
        runs = sum(1 for s in self._streams.values() if s.run is not None)
        return subscribers, runs
