"""A tiny OpenAI-compatible chat.completions server for tests: streams a tool call, then an answer.

It speaks the real wire format (SSE chunks, tool_call deltas, a usage chunk, `[DONE]`), so the
`openai:` provider path is exercised end to end without a network or a patched client.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "gpt-test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def create_app(tool_name: str, tool_args: dict[str, Any], answer_words: list[str]) -> FastAPI:
    app = FastAPI()
    app.state.requests = []

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        app.state.requests.append(body)
        last = body["messages"][-1]
        wants_tool = last["role"] == "user" and body.get("tools")
        if not body.get("stream"):
            return JSONResponse({"error": {"message": "this test server only streams"}}, status_code=400)

        async def events() -> AsyncIterator[str]:
            yield _chunk({"role": "assistant", "content": ""})
            if wants_tool:
                yield _chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_test_1",
                                "type": "function",
                                "function": {"name": tool_name, "arguments": ""},
                            }
                        ]
                    }
                )
                yield _chunk({"tool_calls": [{"index": 0, "function": {"arguments": json.dumps(tool_args)}}]})
                yield _chunk({}, "tool_calls")
            else:
                for word in answer_words:
                    yield _chunk({"content": word})
                yield _chunk({}, "stop")
            usage = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}
            yield (
                "data: "
                + json.dumps(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "gpt-test",
                        "choices": [],
                        "usage": usage,
                    }
                )
                + "\n\n"
            )
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app
