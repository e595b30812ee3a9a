"""Stream a turn over WebSocket (or SSE) with typed events: tokens, tool calls, and an approval.

Asks the agent to send an HL7 message to an HL7 integration; the send tool needs a person's
approval, which this script gives (or refuses with --reject).

    SWITCHBOARD_USERNAME=ada SWITCHBOARD_PASSWORD=... python sdk/python/examples/streaming_approvals.py \
        [--destination "Demo HL7 receiver"] [--transport ws|sse] [--reject]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Literal

from switchboard_client import (
    ApprovalRequiredEvent,
    AsyncSwitchboard,
    ErrorEvent,
    FinalEvent,
    TokenEvent,
    ToolCallEvent,
    ToolResultEvent,
)

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG001|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"


async def main(destination: str, transport: Literal["ws", "sse"], reject: bool) -> None:
    async with AsyncSwitchboard(
        os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8000"),
        username=os.environ["SWITCHBOARD_USERNAME"],
        password=os.environ["SWITCHBOARD_PASSWORD"],
    ) as client:
        session = await client.sessions.create(f"Please send this to {destination}:\n{ADT}")
        # No message: the stream answers the session's first message.
        async with client.chat.stream(session.session_id, transport=transport) as stream:
            while True:
                async for event in stream:
                    if isinstance(event, ToolCallEvent):
                        print(f"\n[tool] {event.metadata.tool_name}({event.metadata.args})")
                    elif isinstance(event, ToolResultEvent):
                        print(f"[tool] {event.metadata.tool_name} -> {event.metadata.status}")
                    elif isinstance(event, ApprovalRequiredEvent):
                        print(f"[approval] {event.metadata.tool_name} wants to run: {event.metadata.description}")
                    elif isinstance(event, ErrorEvent):
                        print(f"[error] {event.metadata.code}: {event.content}")
                    elif isinstance(event, TokenEvent):
                        print(event.content, end="", flush=True)
                    elif isinstance(event, FinalEvent):
                        print(f"\n[final] finish_reason={event.metadata.finish_reason}")
                # The iteration stops at the end of the turn, or when it waits for a decision.
                if stream.pending_approval is None:
                    break
                if reject:
                    await stream.reject(reason="not today")
                else:
                    await stream.approve()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--destination", default="Demo HL7 receiver")
    parser.add_argument("--transport", choices=["ws", "sse"], default="ws")
    parser.add_argument("--reject", action="store_true")
    arguments = parser.parse_args()
    transport: Literal["ws", "sse"] = "sse" if arguments.transport == "sse" else "ws"
    asyncio.run(main(arguments.destination, transport, arguments.reject))
