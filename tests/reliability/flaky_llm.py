"""An OpenAI-compatible chat.completions server whose behaviour the test controls turn by turn.

Modes: `ok` streams the whole answer; `break` streams a few words then drops the connection;
`hang` streams a few words then stalls until the test ends. Real SSE on a real socket, so the
`openai:` provider path (httpx, the OpenAI SDK, LangChain) meets the failure as it would in life.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

PARTIAL = ["The ", "answer ", "starts "]
WHOLE = ["All ", "systems ", "are ", "fine."]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-flaky",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "gpt-flaky",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


class BrokenStream(Exception):
    """Raised inside the response body: uvicorn then aborts the connection mid-stream."""


def create_flaky_llm() -> FastAPI:
    app = FastAPI()
    app.state.mode = "ok"
    app.state.release = asyncio.Event()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> StreamingResponse:
        await request.json()
        mode = app.state.mode

        async def events() -> AsyncIterator[str]:
            yield _chunk({"role": "assistant", "content": ""})
            words = WHOLE if mode == "ok" else PARTIAL
            for word in words:
                yield _chunk({"content": word})
                await asyncio.sleep(0.01)
            if mode == "break":
                raise BrokenStream("connection dropped by the test")
            if mode == "hang":
                await app.state.release.wait()
                return
            yield _chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app
