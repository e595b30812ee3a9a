"""The README's runnable examples (sdk/python/examples) run as scripts against the live server."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from switchboard_client import AsyncSwitchboard

from tests.conftest import TestUser
from tools.hl7.mllp import MllpListener
from tools.sandbox_server import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "sdk" / "python" / "examples"


async def run_example(name: str, env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / name),
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode()
    assert process.returncode == 0, text
    return text


def credentials(live_server: str, user: TestUser) -> dict[str, str]:
    return {
        "SWITCHBOARD_URL": live_server,
        "SWITCHBOARD_USERNAME": user.username,
        "SWITCHBOARD_PASSWORD": user.password,
    }


async def test_quickstart(live_server: str, alice: TestUser) -> None:
    output = await run_example("quickstart.py", credentials(live_server, alice))
    assert "signed in as alice (user)" in output
    assert "session 'Quickstart': 4 messages" in output and "no such session: 404 not_found" in output


async def test_streaming_with_tool_calls_and_approvals(
    live_server: str, alice: TestUser, lab_lis: dict[str, Any], receiver: tuple[MllpListener, list[str]]
) -> None:
    env = credentials(live_server, alice)
    approved = await run_example("streaming_approvals.py", env, "--destination", "Lab LIS")
    assert "[approval] lab_lis__send" in approved and "[tool] lab_lis__send -> completed" in approved
    assert "ACK **AA**" in approved and "[final] finish_reason=stop" in approved
    assert len(receiver[1]) == 1

    rejected = await run_example(
        "streaming_approvals.py", env, "--destination", "Lab LIS", "--transport", "sse", "--reject"
    )
    assert "[tool] lab_lis__send -> failed" in rejected and "[final] finish_reason=stop" in rejected
    assert len(receiver[1]) == 1  # nothing more was sent


async def test_webhook_receiver_verifies_real_deliveries(alice_client: AsyncSwitchboard, allow_loopback: None) -> None:
    port = free_port()
    hook = await alice_client.webhooks.create("receiver", f"http://127.0.0.1:{port}/", ["integration.*"])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "webhook_receiver.py"),
        "--port",
        str(port),
        env={**os.environ, "SWITCHBOARD_WEBHOOK_SECRET": hook.secret},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        assert b"listening" in await asyncio.wait_for(process.stdout.readline(), 20)
        delivery = await alice_client.webhooks.test(hook.id)
        assert (delivery.status, delivery.response_code) == ("delivered", 204)
        assert b"verified webhook.test delivery" in await asyncio.wait_for(process.stdout.readline(), 10)

        async with httpx.AsyncClient() as forger:
            forged = await forger.post(
                f"http://127.0.0.1:{port}/",
                content=b'{"event":"webhook.test"}',
                headers={"X-Switchboard-Timestamp": "1700000000", "X-Switchboard-Signature": "sha256=" + "0" * 64},
            )
        assert forged.status_code == 401
        assert b"rejected delivery" in await asyncio.wait_for(process.stdout.readline(), 10)
    finally:
        process.terminate()
        await process.wait()
