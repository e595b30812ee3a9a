"""The model provider fails mid-answer: the user gets `error` + `final` (finish_reason "error"), the
partial answer is stored, and the next turn in the same session works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import UserFactory, asgi_client, running_app, serving
from tests.reliability.flaky_llm import PARTIAL, WHOLE, create_flaky_llm
from tools.sandbox_server import LoopbackServer


@pytest.fixture
async def flaky_llm() -> AsyncIterator[Any]:
    app = create_flaky_llm()
    server = LoopbackServer(app)
    await server.start()
    app.state.url = server.url
    yield app
    app.state.release.set()
    await server.stop()


@pytest.fixture
async def llm_app(settings: Settings, flaky_llm: Any) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    configured = settings.model_copy(
        update={
            "llm_model": "openai:gpt-flaky",
            "openai_api_key": SecretStr("sk-test-flaky"),
            "openai_base_url": f"{flaky_llm.state.url}/v1",
            "llm_timeout_s": 1.0,
            "llm_max_retries": 0,
        }
    )
    async with running_app(configured) as application, asgi_client(application) as http, serving(application) as url:
        yield http, url


async def _turn(socket: ChatSocket, message: str) -> list[dict[str, Any]]:
    await socket.send({"type": "message", "message": message})
    return await socket.until_type("final", timeout=15)


@pytest.mark.parametrize("failure", ["break", "hang"])
async def test_provider_failure_mid_stream_ends_the_turn_and_keeps_the_partial_answer(
    failure: str, flaky_llm: Any, llm_app: tuple[httpx.AsyncClient, str], make_user: UserFactory
) -> None:
    http, url = llm_app
    user = await make_user(f"faulty_{failure}")
    created = await http.post("/api/v1/chat/sessions", json={"message": "status?"}, headers=user.headers)
    session_id = created.json()["session_id"]
    flaky_llm.state.mode = failure

    socket = await ChatSocket.open(url, session_id, user.access_token)
    frames = await socket.until_type("final", timeout=15)

    errors = of_type(frames, "error")
    assert len(errors) == 1 and errors[0]["metadata"]["code"] == "agent_error"
    assert "sk-test-flaky" not in errors[0]["content"]
    final = frames[-1]
    assert final["metadata"]["finish_reason"] == "error"
    streamed = "".join(f["content"] for f in of_type(frames, "token"))
    assert streamed == "".join(PARTIAL)
    assert final["content"] == streamed
    stored = (await http.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=user.headers)).json()["items"]
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[-1]["content"] == streamed
    assert stored[-1]["metadata"]["finish_reason"] == "error"

    # The provider recovers: the same session answers normally.
    flaky_llm.state.mode = "ok"
    frames = await _turn(socket, "and now?")
    await socket.close()
    assert frames[-1]["metadata"]["finish_reason"] == "stop"
    assert frames[-1]["content"] == "".join(WHOLE)
    stored = (await http.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=user.headers)).json()["items"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
