"""The pure pieces of a turn: the recorder's fold, and the admission gate's pauses and slots."""

from __future__ import annotations

import asyncio
import time

from backend.chat.admission import AGENT_START_GRACE_S, MODEL_WAIT_GRACE_S, StreamPacer, TurnAdmission
from backend.chat.recorder import Disposition, TurnRecorder


def test_recorder_folds_a_turn_with_a_tool_into_one_outcome() -> None:
    recorder = TurnRecorder()
    assert recorder.fold("agent_event", "", {"event_type": "thinking", "details": {}}) is Disposition.PUBLISH
    call = {"tool_name": "jira_search", "tool_call_id": "c1", "args": {"jql": "x"}, "status": "started"}
    assert recorder.fold("tool_call", "", call) is Disposition.PUBLISH
    result = {"tool_name": "jira_search", "tool_call_id": "c1", "status": "completed", "result": {"total": 0}}
    assert recorder.fold("tool_result", "no issues", result) is Disposition.PUBLISH
    assert [recorder.token(t) for t in ("No ", "issues.")] == [0, 1]
    assert recorder.fold("final", "No issues.", {"finish_reason": "stop"}) is Disposition.FINAL
    outcome = recorder.outcome
    assert outcome.text == "No issues." and outcome.final_content == "No issues." and not outcome.paused
    assert outcome.finished_calls() == [
        {"id": "c1", "name": "jira_search", "args": {"jql": "x"}, "status": "completed", "result": {"total": 0}}
    ]


def test_recorder_holds_approvals_and_keeps_earlier_calls_and_decisions() -> None:
    # The stretch after an approval: the call started before the pause, so its args come from then.
    recorder = TurnRecorder({"c9": {"name": "jira_create_issue", "args": {"summary": "Bug"}}})
    decision = {"event_type": "approval_decision", "details": {"tool_call_id": "c9", "decision": "approve"}}
    assert recorder.fold("agent_event", "", decision) is Disposition.PUBLISH
    done = {"tool_name": "jira_create_issue", "tool_call_id": "c9", "status": "completed", "result": "SB-1"}
    recorder.fold("tool_result", "SB-1", done)
    assert recorder.outcome.tool_calls["c9"]["args"] == {"summary": "Bug"}
    assert recorder.outcome.decisions == [{"tool_call_id": "c9", "decision": "approve"}]
    assert recorder.fold("approval_required", "Create?", {"tool_call_id": "c10"}) is Disposition.HOLD
    assert recorder.fold("error", "bad edit", {"code": "invalid_edit"}) is Disposition.HOLD
    assert recorder.outcome.paused
    recorder.interrupted()  # cancelled while paused: the turn ends instead
    assert not recorder.outcome.paused


async def test_streams_pause_while_a_turn_starts_and_go_on_at_its_first_token() -> None:
    admission = TurnAdmission(max_pause_s=5)
    assert await admission.yield_to_starting()  # nobody starting: no pause
    starting = admission.start_turn()
    pause = asyncio.create_task(admission.yield_to_starting())
    await asyncio.sleep(0.05)
    assert not pause.done()  # the stream waits for the starting turn
    starting.release()
    assert await asyncio.wait_for(pause, 1)
    starting.release()  # idempotent: the count stays right
    assert admission.starting == 0


async def test_a_pause_is_bounded_and_then_a_stream_sends_a_batch_unpaused() -> None:
    admission = TurnAdmission(max_pause_s=0.05)
    starting = admission.start_turn()
    pacer = StreamPacer(admission)
    began = time.monotonic()
    await pacer.between_tokens()  # pauses, runs out
    assert 0.04 <= time.monotonic() - began < 1
    began = time.monotonic()
    for _ in range(10):  # the batch after a pause that ran out goes without pausing
        await pacer.between_tokens()
    assert time.monotonic() - began < 0.04
    starting.release()


async def test_set_up_slots_are_bounded_and_a_turn_waiting_on_its_model_lets_go() -> None:
    admission = TurnAdmission(setup_slots=1)
    first, second = admission.start_turn(), admission.start_turn()
    await first.take_slot()
    waiting = asyncio.create_task(second.take_slot())
    await asyncio.sleep(0.02)
    assert not waiting.done()  # one set-up at a time
    first.agent_started()
    first.model_called()  # its model call began: the slot goes to the next turn
    await asyncio.wait_for(waiting, 1)
    assert admission.starting == 2  # both still hold back other streams until their first token
    # No first token within the grace after its model call (a slow hosted model): it lets go, well
    # before the longer grace that started with its agent run.
    await asyncio.sleep(MODEL_WAIT_GRACE_S + 0.1)
    assert first.released and admission.starting == 1
    second.agent_started()  # a turn whose tool runs first: no model call yet, so the longer grace
    await asyncio.sleep(MODEL_WAIT_GRACE_S + 0.1)
    assert not second.released
    await asyncio.sleep(AGENT_START_GRACE_S - MODEL_WAIT_GRACE_S)
    assert second.released and admission.starting == 0
