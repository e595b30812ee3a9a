"""What the chat relay (`relay.py`) keeps in Redis: its Lua scripts and the batch format.

A batch is `<replica>[|end]` and then one pre-encoded JSON frame per line (JSON text never contains a
raw newline); `|end` marks the batch that closes a turn.
"""

from __future__ import annotations

import json

from .hub import Frame

# Claim a session for a turn (free, or still ours from the turn that just ended here); a new turn
# starts with an empty buffer.
CLAIM_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('DEL', KEYS[2])
return 1
"""
# One batch: buffered before it is published, so a follower that subscribes and then reads the buffer
# gets every batch one way or the other (duplicates are dropped by seq). One command, not two.
RELAY_SCRIPT = """
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'f', ARGV[1])
return redis.call('PUBLISH', KEYS[2], ARGV[1])
"""
# Release only our own claim (its TTL may have lapsed and another replica taken the session).
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def decode_batch(payload: str) -> tuple[str, list[Frame]]:
    """`<replica>[|end]\\n<frame json>\\n<frame json>…` → the sender and its frames."""
    replica, _, body = payload.partition("\n")
    frames = []
    for line in body.split("\n"):
        if line:
            data = json.loads(line)
            frames.append(Frame(int(data["seq"]), str(data["type"]), data, line))
    return replica, frames
