"""Chat through the client: streaming over WebSocket and SSE (async and sync), tool calls, approvals,
cancel and resume, against the live server with the offline model."""

from __future__ import annotations

from typing import Any

import pytest
from switchboard_client import (
    ApprovalRequiredEvent,
    AsyncSwitchboard,
    ConnectionEstablishedEvent,
    ErrorEvent,
    FinalEvent,
    StreamError,
    StreamEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)

from tests.conftest import TestUser, UserFactory
from tests.sdk.conftest import ADT, FAST_RETRY, in_thread, sync_client
from tools.hl7.mllp import MllpListener


def assert_turn(events: list[StreamEvent]) -> FinalEvent:
    """The contract's invariants for one turn; returns its final event."""
    final = events[-1]
    assert isinstance(final, FinalEvent)
    tokens = [e.content for e in events if isinstance(e, TokenEvent)]
    assert tokens and "".join(tokens) == final.content
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    calls = [e.metadata.tool_call_id for e in events if isinstance(e, ToolCallEvent)]
    results = [e.metadata.tool_call_id for e in events if isinstance(e, ToolResultEvent)]
    assert sorted(calls) == sorted(results)
    return final


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_stream_first_message_then_follow_up(alice_client: AsyncSwitchboard, transport: Any) -> None:
    sid = (await alice_client.sessions.create("hello")).session_id
    async with alice_client.chat.stream(sid, transport=transport) as stream:
        first = [event async for event in stream]
        if transport == "ws":
            assert isinstance(first[0], ConnectionEstablishedEvent)
            first = first[1:]
        final = assert_turn(first)
        assert final.metadata.finish_reason == "stop" and stream.final == final

        await stream.send("what can you do?")
        second = [event async for event in stream]
        assert_turn(second)
        assert second[0].seq > final.seq and second[-1].run_id != final.run_id
    messages = [m.role async for m in alice_client.sessions.iter_messages(sid)]
    assert messages == ["user", "assistant", "user", "assistant"]


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_tool_turn_events_in_order(alice_client: AsyncSwitchboard, transport: Any) -> None:
    sid = (await alice_client.sessions.create("hi")).session_id
    await alice_client.chat.send(sid, "hi again")  # answers the first message too
    async with alice_client.chat.stream(sid, "Explain this message:\n" + ADT, transport=transport) as stream:
        events = [e for e in [event async for event in stream] if not isinstance(e, ConnectionEstablishedEvent)]
    kinds = [e.type for e in events]
    assert kinds[:3] == ["agent_event", "tool_call", "tool_result"]
    assert set(kinds[3:-1]) == {"token"} and kinds[-1] == "final"
    call, result = events[1], events[2]
    assert isinstance(call, ToolCallEvent) and call.metadata.tool_name == "hl7_explain"
    assert isinstance(result, ToolResultEvent) and result.metadata.status == "completed"
    assert "DOE^JANE" in assert_turn(events).content


async def test_approval_over_websocket(
    alice_client: AsyncSwitchboard, lab_lis: dict[str, Any], receiver: tuple[MllpListener, list[str]]
) -> None:
    sid = (await alice_client.sessions.create("Please send this to Lab LIS:\n" + ADT)).session_id
    async with alice_client.chat.stream(sid) as stream:
        paused = [event async for event in stream]  # iteration stops at the approval
        request = paused[-1]
        assert isinstance(request, ApprovalRequiredEvent)
        assert request.metadata.tool_name == "lab_lis__send" and receiver[1] == []
        assert (await alice_client.sessions.get(sid)).status == "awaiting_approval"

        await stream.edit({"message": "x"})  # arguments that do not fit: refused, still pending
        refused = [event async for event in stream]
        assert [e.type for e in refused] == ["error", "approval_required"]
        assert isinstance(refused[0], ErrorEvent) and refused[0].metadata.code == "invalid_edit"

        await stream.approve()
        resumed = [event async for event in stream]
    result = next(e for e in resumed if isinstance(e, ToolResultEvent))
    assert result.metadata.status == "completed" and result.metadata.result["code"] == "AA"
    final = resumed[-1]
    assert isinstance(final, FinalEvent) and "ACK **AA**" in final.content and final.run_id == request.run_id
    assert len(receiver[1]) == 1 and "MSG777" in receiver[1][0]


async def test_approval_over_sse_reject(
    alice_client: AsyncSwitchboard, lab_lis: dict[str, Any], receiver: tuple[MllpListener, list[str]]
) -> None:
    sid = (await alice_client.sessions.create("hi")).session_id
    await alice_client.chat.send(sid, "hi")
    async with alice_client.chat.stream(sid, "send this to Lab LIS:\n" + ADT, transport="sse") as stream:
        paused = [event async for event in stream]
        assert isinstance(paused[-1], ApprovalRequiredEvent)
        with pytest.raises(StreamError) as unknown:
            await stream.approve("not-the-call")
        assert unknown.value.code == "unknown_tool_call"
        await stream.reject(reason="wrong patient")
        resumed = [event async for event in stream]
    result = next(e for e in resumed if isinstance(e, ToolResultEvent))
    assert result.metadata.status == "failed"
    assert "rejected" in assert_turn(paused + resumed).content and receiver[1] == []


async def test_sync_streams_and_approval(
    live_server: str, alice: TestUser, lab_lis: dict[str, Any], receiver: tuple[MllpListener, list[str]]
) -> None:
    def scenario() -> None:
        with sync_client(live_server, alice) as client:
            sid = client.sessions.create("hello").session_id
            with client.chat.stream(sid, transport="sse") as stream:
                assert_turn(list(stream))
            with client.chat.stream(sid, "Please send this to Lab LIS:\n" + ADT) as stream:
                events = list(stream)
                assert isinstance(events[-1], ApprovalRequiredEvent)
                stream.approve()
                assert "ACK **AA**" in assert_turn(events[1:] + list(stream)).content

    await in_thread(scenario)
    assert len(receiver[1]) == 1


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_cancel_keeps_the_partial_answer(slow_server: str, make_user: UserFactory, transport: Any) -> None:
    user = await make_user()
    async with AsyncSwitchboard(slow_server, username=user.username, password=user.password, retry=FAST_RETRY) as sb:
        sid = (await sb.sessions.create("what can you do?")).session_id
        events: list[StreamEvent] = []
        async with sb.chat.stream(sid, transport=transport) as stream:
            async for event in stream:
                events.append(event)
                if sum(isinstance(e, TokenEvent) for e in events) == 3:
                    await stream.cancel()
        final = assert_turn([e for e in events if not isinstance(e, ConnectionEstablishedEvent)])
        assert final.metadata.finish_reason == "cancelled"
        stored = [m async for m in sb.sessions.iter_messages(sid)]
        assert stored[-1].role == "assistant" and stored[-1].content == final.content


@pytest.mark.parametrize("transport", ["ws", "sse"])
async def test_resume_after_a_dropped_connection(slow_server: str, make_user: UserFactory, transport: Any) -> None:
    user = await make_user()
    async with AsyncSwitchboard(slow_server, username=user.username, password=user.password, retry=FAST_RETRY) as sb:
        sid = (await sb.sessions.create("what can you do?")).session_id
        before: list[StreamEvent] = []
        async with sb.chat.stream(sid, transport=transport) as stream:
            async for event in stream:
                before.append(event)
                if sum(isinstance(e, TokenEvent) for e in before) == 4:
                    break  # the connection drops mid-turn; the turn goes on on the server
        last_seq = before[-1].seq
        async with sb.chat.resume(sid, last_seq, transport=transport) as resumed:
            after = [event async for event in resumed]
        after = [e for e in after if not isinstance(e, ConnectionEstablishedEvent)]
        assert after and all(e.seq > last_seq for e in after)
        turn = [e for e in before if not isinstance(e, ConnectionEstablishedEvent)] + after
        assert assert_turn(turn).metadata.finish_reason == "stop"
