"""The chat relay: a running turn's frames, `cancel` and "a turn is running" across replicas (Redis).

Used only when `REDIS_URL` is set; without it the hub and the turn manager are single-process and
this module is never loaded. Per session, in Redis under `<REDIS_PREFIX>:chat:<session_id>:`:

- `run` — a marker key (`<owner_id>|<replica>`) claimed atomically when a turn starts, refreshed
  while it runs, deleted when it ends; its TTL frees the session if a replica dies mid-turn. A second
  turn on any replica is refused with `run_in_progress` while it exists.
- channel `frames` — the running turn's frames as the pre-encoded JSON lines local sockets get,
  batched: what the hub delivered during the last `FLUSH_LINGER_S` goes out in one message.
- stream `buffer` — the same batches appended (capped), so a socket on another replica can resume
  with `after_seq` inside a running turn; it expires shortly after the turn ends (the database has it).

The per-token path on the running replica is one list append (`on_frame`); one writer task sends
the batches of every session in one pipelined round trip. A turn's closing frames (`final`…) and the
release of its marker are written together and awaited before they are delivered locally (`finish`).

`<REDIS_PREFIX>:chat-control` carries `cancel` to whichever replica runs the turn. Sockets subscribe
to their session's channel on demand. If Redis fails, the relay steps aside for a few seconds: turns
run and stream as on a single replica, and nothing raises into the chat path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from .hub import Frame, StreamHub
from .relay_wire import CLAIM_SCRIPT, RELAY_SCRIPT, RELEASE_SCRIPT, as_text, decode_batch

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("switchboard.chat.relay")

RUN_TTL_S = 30  # a replica that dies mid-turn frees its sessions after this long
HEARTBEAT_S = 10
BUFFER_MAXLEN = 5_000  # batches kept per running turn (approximate trim)
BUFFER_TTL_AFTER_RUN_S = 60
REDIS_RETRY_S = 5.0
SUBSCRIBE_WAIT_S = 1.0
RELEASE_WAIT_S = 1.0
# Frames wait this long for company before a Redis write: a Redis round trip costs ~100 µs of CPU in
# redis-py, so one per batch rather than one per token (a hosted model streams a token every ~20 ms)
# is most of the relay's cost. Only sockets on other replicas see the delay; local ones get frames at
# once, and a turn's end (the release) is flushed without waiting.
FLUSH_LINGER_S = 0.05


class ChatRelay:
    """One per process; hooked into the hub (`on_publish`) and the turn manager."""

    def __init__(self, redis: Redis, listener: Redis, hub: StreamHub, prefix: str) -> None:
        self.redis = redis  # commands (bounded socket timeout)
        self.listener = listener  # pub/sub (blocks between messages)
        self.hub = hub
        self.prefix = prefix
        self.replica = uuid.uuid4().hex[:12]
        self.control = f"{prefix}:chat-control"
        self.down = False  # Redis failed recently: behave as a single replica until retried
        self._pending: dict[str, list[str]] = {}
        self._releases: list[str] = []
        self._wake = asyncio.Event()
        self._owned: dict[str, str] = {}  # session → marker value of turns running here
        self._followers: dict[str, int] = {}  # session → local sockets following it
        self._subscribed: dict[str, asyncio.Event] = {}
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._relay_sha = ""
        self._hurry = asyncio.Event()  # a turn is finishing: flush without lingering
        self._release_waiters: list[asyncio.Future[None]] = []
        self._relayed: dict[str, set[int]] = {}  # closing frames sent by `finish`, delivered here next
        self._ending: set[str] = set()  # sessions whose next batch closes their turn

    # ------------------------------------------------------------------ keys

    def _run_key(self, session_id: str) -> str:
        return f"{self.prefix}:chat:{session_id}:run"

    def _buffer_key(self, session_id: str) -> str:
        return f"{self.prefix}:chat:{session_id}:buffer"

    def _channel(self, session_id: str) -> str:
        return f"{self.prefix}:chat:{session_id}:frames"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._pubsub = self.listener.pubsub()
        try:
            await self._pubsub.subscribe(self.control)
        except Exception:
            log.warning("cannot subscribe to the chat control channel; retrying in the background", exc_info=True)
            self._mark_down()
        self._tasks = [
            asyncio.create_task(self._listen(), name="chat-relay-listener"),
            asyncio.create_task(self._flush_loop(), name="chat-relay-flusher"),
            asyncio.create_task(self._heartbeat(), name="chat-relay-heartbeat"),
        ]

    async def stop(self) -> None:
        # The flusher sends the last frames and releases of drained turns (in order), bounded.
        for _ in range(100):
            if self.down or not (self._pending or self._releases):
                break
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self.listener.aclose()

    def _mark_down(self) -> None:
        if not self.down:
            log.warning("Redis unavailable: chat turns run as on a single replica for %ss", REDIS_RETRY_S)
        self.down = True
        self._pending.clear()
        asyncio.get_running_loop().call_later(REDIS_RETRY_S, self._retry)

    def _retry(self) -> None:
        self.down = False

    # ------------------------------------------------------------------ turns on this replica

    async def claim(self, session_id: str, owner_id: str) -> bool:
        """Mark the session as running a turn here; False when a turn runs on another replica."""
        if self.down:
            return True
        value = f"{owner_id}|{self.replica}"
        try:
            claimed = await self.redis.eval(  # type: ignore[misc]
                CLAIM_SCRIPT, 2, self._run_key(session_id), self._buffer_key(session_id), value, RUN_TTL_S
            )
        except Exception:
            log.warning("claiming session %s in Redis failed", session_id, exc_info=True)
            self._mark_down()
            return True
        if not claimed:
            return False
        if session_id in self._releases:  # the previous turn here has not been released yet: keep it
            self._releases.remove(session_id)
        self._owned[session_id] = value
        self._relayed.pop(session_id, None)
        stream = self.hub.stream(session_id)
        if stream is not None:  # this replica numbers the session's frames now
            stream.remote_run = False
        return True

    async def finish(self, session_id: str, frames: list[Frame]) -> None:
        """The turn is stored: relay its closing frames (`final`…) and free the session, and wait for
        that (bounded), before they are delivered here. So every replica has the answer first, and a
        client that sees it and sends the next message to any replica is not refused."""
        if session_id not in self._owned:
            return
        if frames and not self.down:
            self._pending.setdefault(session_id, []).extend(frame.text for frame in frames)
            self._relayed[session_id] = {frame.seq for frame in frames}  # on_frame skips them
            self._ending.add(session_id)
        done = asyncio.get_running_loop().create_future()
        self._releases.append(session_id)
        self._release_waiters.append(done)
        self._hurry.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(done), RELEASE_WAIT_S)
        except (TimeoutError, asyncio.CancelledError):
            # Redis is slow or the process is stopping: the marker's TTL frees the session anyway.
            log.warning("freeing session %s in Redis did not complete", session_id)

    def on_frame(self, session_id: str, frame: Frame) -> None:
        """Hub hook for every frame of a local turn: queue its text for the next batch (no await)."""
        if self.down:
            return
        if self._relayed and self._already_relayed(session_id, frame.seq):
            return
        pending = self._pending.get(session_id)
        if pending is None:
            self._pending[session_id] = [frame.text]
            self._wake.set()
        else:
            pending.append(frame.text)

    def _already_relayed(self, session_id: str, seq: int) -> bool:
        seqs = self._relayed.get(session_id)
        if seqs is None or seq not in seqs:
            return False
        seqs.discard(seq)
        if not seqs:
            del self._relayed[session_id]
        return True

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            if not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), FLUSH_LINGER_S)
            self._hurry.clear()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        """Everything queued since the last flush: one PUBLISH + XADD per session, in one round trip."""
        if not self._pending and not self._releases:
            return
        pending, self._pending = self._pending, {}
        ending, self._ending = self._ending, set()
        releases = [(session_id, self._owned.pop(session_id, "")) for session_id in self._releases]
        self._releases = []
        waiters, self._release_waiters = self._release_waiters, []
        try:
            await self._write(pending, ending, releases)
        finally:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def _write(self, pending: dict[str, list[str]], ending: set[str], releases: list[tuple[str, str]]) -> None:
        if self.down:
            return
        head, last = self.replica + "\n", self.replica + "|end\n"
        try:
            if not self._relay_sha:  # first flush, or Redis restarted (its script cache is empty then)
                self._relay_sha = await self.redis.script_load(RELAY_SCRIPT)
            async with self.redis.pipeline(transaction=False) as pipe:
                for session_id, texts in pending.items():
                    payload = (last if session_id in ending else head) + "\n".join(texts)
                    keys = (self._buffer_key(session_id), self._channel(session_id))
                    pipe.evalsha(self._relay_sha, 2, *keys, payload, BUFFER_MAXLEN)
                for session_id, value in releases:
                    pipe.eval(
                        RELEASE_SCRIPT,
                        2,
                        self._run_key(session_id),
                        self._buffer_key(session_id),
                        value,
                        BUFFER_TTL_AFTER_RUN_S,
                    )
                await pipe.execute()
        except Exception:
            log.warning("relaying chat frames to Redis failed", exc_info=True)
            self._relay_sha = ""
            self._mark_down()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if self.down or not self._owned:
                continue
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for session_id in list(self._owned):
                        pipe.expire(self._run_key(session_id), RUN_TTL_S)
                    await pipe.execute()
            except Exception:
                log.warning("refreshing chat run markers failed", exc_info=True)

    # ------------------------------------------------------------------ turns on other replicas

    async def cancel(self, session_id: str, owner_id: str) -> bool:
        """Ask the replica running this session's turn to cancel it; True when one is running."""
        if self.down:
            return False
        try:
            marker = await self.redis.get(self._run_key(session_id))
            if marker is None or as_text(marker).split("|", 1)[0] != owner_id:
                return False
            message = json.dumps({"session_id": session_id, "owner_id": owner_id})
            await self.redis.publish(self.control, message)
        except Exception:
            log.warning("relaying cancel for session %s failed", session_id, exc_info=True)
            self._mark_down()
            return False
        return True

    async def follow(self, session_id: str) -> list[Frame]:
        """A local socket watches the session: subscribe to its frames; return what the turn running on
        another replica has streamed so far (for `after_seq`), empty when none runs elsewhere."""
        self._followers[session_id] = self._followers.get(session_id, 0) + 1
        if self.down:
            return []
        channel = self._channel(session_id)
        try:
            if self._followers[session_id] == 1:
                confirmed = self._subscribed.setdefault(channel, asyncio.Event())
                await self._pubsub.subscribe(channel)
                await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_WAIT_S)
            return await self.buffered(session_id)
        except Exception:
            log.warning("following session %s through Redis failed", session_id, exc_info=True)
            return []

    def unfollow(self, session_id: str) -> None:
        """A local socket closed; the last one of a session unsubscribes (in the background: the
        socket's teardown must not wait on Redis)."""
        count = self._followers.get(session_id, 0) - 1
        if count > 0:
            self._followers[session_id] = count
            return
        self._followers.pop(session_id, None)
        channel = self._channel(session_id)
        self._subscribed.pop(channel, None)
        if not self.down:
            task = asyncio.create_task(self._unsubscribe(session_id, channel))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _unsubscribe(self, session_id: str, channel: str) -> None:
        if session_id in self._followers:  # a socket of the session connected again meanwhile
            return
        with contextlib.suppress(Exception):
            await self._pubsub.unsubscribe(channel)

    async def buffered(self, session_id: str) -> list[Frame]:
        """The frames of a turn running on another replica (empty when none does)."""
        if self.down or self.hub.running(session_id) is not None:
            return []
        try:
            marker = await self.redis.get(self._run_key(session_id))
            if marker is None or as_text(marker).endswith("|" + self.replica):
                return []
            entries = await self.redis.xrange(self._buffer_key(session_id))
        except Exception:
            log.warning("reading the relayed frames of session %s failed", session_id, exc_info=True)
            return []
        frames: list[Frame] = []
        for _, fields in entries or []:
            if fields:
                frames.extend(decode_batch(as_text(fields[b"f"]))[1])
        return frames

    async def _listen(self) -> None:
        while True:
            try:
                if not self._pubsub.subscribed:
                    await self._pubsub.subscribe(self.control, *self._subscribed)
                message = await self._pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._on_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("chat relay channel read failed; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    def _on_message(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode()
        if message["type"] == "subscribe":
            confirmed = self._subscribed.get(channel)
            if confirmed is not None:
                confirmed.set()
            return
        if message["type"] != "message":
            return
        if channel == self.control:
            self._on_cancel(json.loads(message["data"]))
            return
        sender, frames = decode_batch(message["data"].decode())
        replica, _, flag = sender.partition("|")
        if replica == self.replica or not frames:
            return
        session_id = channel[len(self.prefix) + len(":chat:") : -len(":frames")]
        stream = self.hub.stream(session_id)
        if stream is None:
            return
        # Connection-only frames sent here (pong, errors) must not take a seq the turn's replica will
        # use next: while it runs they repeat the last relayed one (resuming after it misses nothing).
        last = frames[-1].seq
        stream.remote_run = flag != "end"
        stream.next_seq = last if stream.remote_run else max(stream.next_seq, last + 1)
        for frame in frames:
            for subscriber in stream.subscribers:
                subscriber.push(frame)

    def _on_cancel(self, request: dict[str, Any]) -> None:
        run = self.hub.running(str(request.get("session_id")))
        if run is not None and not run.closing and run.task is not None and run.owner_id == request.get("owner_id"):
            run.task.cancel()


async def open_relay(redis_url: str, commands: Redis, hub: StreamHub, prefix: str) -> ChatRelay:
    """A started relay, hooked into the hub. `commands` is the app's Redis client (closed by the app)."""
    from redis.asyncio import Redis

    # Its own connection without a read timeout: the listener waits on the channels between messages.
    listener = Redis.from_url(redis_url, socket_connect_timeout=2, health_check_interval=30)
    relay = ChatRelay(commands, listener, hub, prefix)
    await relay.start()
    hub.on_publish = relay.on_frame
    return relay
