"""The transport-independent stream rules: when an iteration ends, which frames are duplicates."""

from __future__ import annotations

import pytest
from switchboard_client import StreamError, parse_event
from switchboard_client._stream import TurnTracker
from switchboard_client.events import ApprovalRequiredEvent, TokenEvent, UnknownEvent


def frame(type: str, seq: int, run_id: str = "r1", content: str = "", **metadata: object) -> dict[str, object]:
    return {"type": type, "seq": seq, "run_id": run_id, "content": content, "metadata": metadata, "timestamp": "t"}


def test_events_are_typed_and_unknown_types_survive() -> None:
    token = parse_event(frame("token", 4, content="Hi", token_index=0, message_id="m"))
    assert isinstance(token, TokenEvent) and token.metadata.token_index == 0
    approval = parse_event(
        frame("approval_required", 5, tool_call_id="c1", tool_name="send", args={"a": 1}, allowed_decisions=["approve"])
    )
    assert isinstance(approval, ApprovalRequiredEvent) and approval.metadata.args == {"a": 1}
    future = parse_event(frame("thought_bubble", 6, mood="curious"))
    assert isinstance(future, UnknownEvent) and future.metadata == {"mood": "curious"}
    with pytest.raises(ValueError):
        parse_event("[1, 2]")


def test_a_replay_after_connection_frames_is_not_dropped() -> None:
    """connection_established takes a seq above the frames a resume replays; those must still pass."""
    tracker = TurnTracker(last_seq=10)
    tracker.observe(parse_event(frame("connection_established", 20, run_id="", session_id="s")))
    replayed = parse_event(frame("token", 11, content="a"))
    assert not tracker.is_duplicate(replayed)
    tracker.observe(replayed)
    assert tracker.is_duplicate(parse_event(frame("token", 11, content="a")))


def test_iteration_ends_at_final_and_at_an_unanswered_approval() -> None:
    tracker = TurnTracker()
    tracker.sent_turn()
    assert not tracker.idle
    tracker.observe(parse_event(frame("agent_event", 2, event_type="thinking")))
    assert not tracker.idle
    only_reject = frame("approval_required", 3, tool_call_id="c1", tool_name="send", allowed_decisions=["reject"])
    tracker.observe(parse_event(only_reject))
    assert tracker.idle and tracker.pending_approval is not None  # paused: the iteration ends here
    with pytest.raises(StreamError) as not_allowed:
        tracker.approval_frame("approve", None)
    assert not_allowed.value.code == "decision_not_allowed"
    assert tracker.approval_frame("reject", None, reason="no") == {
        "type": "approval",
        "tool_call_id": "c1",
        "decision": "reject",
        "reason": "no",
    }
    tracker.sent_turn()  # the decision was sent: wait for the rest of the turn
    assert not tracker.idle
    tracker.observe(parse_event(frame("final", 9, content="done")))
    assert tracker.idle and tracker.final is not None and tracker.pending_approval is None


def test_a_refused_command_ends_the_wait() -> None:
    tracker = TurnTracker()
    tracker.sent_turn()
    tracker.observe(parse_event(frame("error", 5, run_id="", code="run_in_progress")))
    assert tracker.idle
    with pytest.raises(StreamError):
        tracker.approval_frame("approve", None)  # nothing pending and no id given
