"""The servers `bench/stream.py` compares the product against, each run as its own process.

  bare        a FastAPI WebSocket endpoint streaming the guide's tokens, pre-made (the floor)
  langgraph   a FastAPI WebSocket endpoint streaming the offline model through a one-node LangGraph
              graph (`stream_mode="messages"`), in-process
  openai      an OpenAI-compatible `POST /v1/chat/completions` streaming server (SSE) that waits
              `--first-token-ms` before its first token and `--token-ms` between tokens: a real model's
              latency, for the product's `openai:` provider path

Usage: `python bench/stream_servers.py {bare,langgraph,openai} --port N [--first-token-ms 300]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Give me a detailed guide to Switchboard"


def _guide_model() -> Any:
    """The offline model bound to the shared tools a new user has (so it answers with the guide)."""
    from agents.offline.model import OfflineChatModel
    from tools.base import ToolServices
    from tools.registry import connectors

    async def no_audit(_: Any) -> None:
        return None

    services = ToolServices(user_id="bench", audit=no_audit, hl7_store=None)
    shared = [tool for c in connectors().values() for tool in c.build_shared_tools([], services)]
    return OfflineChatModel().bind_tools(shared)


def guide_answer(model: Any) -> tuple[str, list[str]]:
    """The guide as that model gives it, and its tokens."""
    from langchain_core.messages import HumanMessage

    from agents.offline.model import split_tokens

    answer = str(model.invoke([HumanMessage(QUESTION)]).content)
    return answer, split_tokens(answer)


def websocket_app(kind: str) -> FastAPI:
    """`bare` or `langgraph`: one turn per connection, after the client's first frame."""
    from langchain_core.messages import HumanMessage
    from langgraph.graph import END, START, MessagesState, StateGraph

    model = _guide_model()
    answer, premade = guide_answer(model)

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState).add_node("model", call_model)
    graph = builder.add_edge(START, "model").add_edge("model", END).compile()
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        try:
            await socket.receive_text()
        except WebSocketDisconnect:  # the readiness probe
            return
        seq = 0
        if kind == "bare":
            for token in premade:
                seq += 1
                await socket.send_text(json.dumps({"type": "token", "content": token, "seq": seq}))
        else:
            stream = graph.astream({"messages": [HumanMessage(QUESTION)]}, stream_mode="messages")
            async for chunk, _ in stream:
                text = getattr(chunk, "content", "")
                if text:
                    seq += 1
                    await socket.send_text(json.dumps({"type": "token", "content": text, "seq": seq}))
        await socket.send_text(json.dumps({"type": "final", "content": answer, "seq": seq + 1}))
        await socket.close()

    return app


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "bench-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def openai_app(first_token_s: float, token_s: float) -> FastAPI:
    """Streams the guide's words after `first_token_s`, one every `token_s` (the wire format of OpenAI)."""
    _, tokens = guide_answer(_guide_model())
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> StreamingResponse:
        await request.body()
        started = time.monotonic()

        async def events() -> AsyncIterator[str]:
            yield _chunk({"role": "assistant", "content": ""})
            await asyncio.sleep(first_token_s)
            for index, token in enumerate(tokens):
                # Paced against the start, so a busy loop does not stretch the model's own schedule.
                due = started + first_token_s + index * token_s
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield _chunk({"content": token})
            yield _chunk({}, "stop")
            usage = {"prompt_tokens": 40, "completion_tokens": len(tokens), "total_tokens": 40 + len(tokens)}
            body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": "bench-model"}
            yield "data: " + json.dumps({**body, "choices": [], "usage": usage}) + "\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("kind", choices=["bare", "langgraph", "openai"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--token-ms", type=float, default=10.0)
    args = parser.parse_args()
    if args.kind == "openai":
        app = openai_app(args.first_token_ms / 1000, args.token_ms / 1000)
    else:
        app = websocket_app(args.kind)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", ws_per_message_deflate=False)


if __name__ == "__main__":
    sys.path[0] = str(ROOT)  # the checkout's packages, not bench/ siblings
    main()
