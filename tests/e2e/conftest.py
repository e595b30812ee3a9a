"""End-to-end fixtures: a live `switchboard serve` (demo mode, offline model) and headless Chromium.

The server is a real subprocess on a free port with its own data directory and SQLite database, so
the browser talks to exactly what `make run` starts. Chromium is Debian's (`/usr/bin/chromium`, or
`CHROMIUM_PATH`). Without it the tests skip with a plain reason on a developer's machine; under CI
(`CI=true`) a missing or unlaunchable browser fails them instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.e2e.support import Account, LiveServer, register_first_admin, register_via_api, sign_in_context

ROOT = Path(__file__).resolve().parents[2]
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Slow enough that Stop lands mid-answer and streaming is visible, fast enough to keep the suite short.
TOKEN_DELAY_MS = "8"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    return candidate if os.access(candidate, os.X_OK) else None


def _unavailable(reason: str) -> None:
    if _under_ci():
        pytest.fail(f"{reason}: CI requires the browser end-to-end tests", pytrace=False)
    pytest.skip(f"{reason}: browser end-to-end tests skipped")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Process:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _start_server(data_dir: Path) -> tuple[_Process, str]:
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # The live server gets its own database and nothing of the developer's configuration.
        if key not in {"DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"}
    }
    env.update(
        {
            "ENVIRONMENT": "development",
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'switchboard.db'}",
            "SECRET_KEY": "e2e-secret-key-" + "k" * 40,
            "DEMO_MODE": "true",
            # The integration tests create their own HL7 receivers on loopback ports beside the sandboxes.
            "OUTBOUND_ALLOWLIST": "127.0.0.1",
            "LLM_MODEL": "offline",
            "OFFLINE_TOKEN_DELAY_MS": TOKEN_DELAY_MS,
            "HL7_LISTEN_PORT": str(_free_port()),
            "LOG_LEVEL": "WARNING",
            # Every test signs in and the app polls as users do; the limits themselves are tested elsewhere.
            "RATE_LIMIT_AUTH": "600/minute",
            "RATE_LIMIT_DEFAULT": "6000/minute",
            "RATE_LIMIT_CHAT": "600/minute",
        }
    )
    log_path = data_dir / "server.log"
    command = [str(Path(sys.executable).with_name("switchboard")), "serve", "--migrate", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    return _Process(process, log_path), f"http://127.0.0.1:{port}"


def _wait_ready(server: _Process, url: str, timeout_s: float = 45) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"switchboard serve exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"switchboard serve was not ready after {timeout_s} s:\n{server.log_tail()}")


def _stop(server: _Process) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@pytest.fixture(scope="session")
def live_app() -> Iterator[LiveServer]:
    if not DIST_INDEX.is_file():
        pytest.fail("frontend/dist is not built: run `make frontend` first", pytrace=False)
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-e2e-"))
    server, url = _start_server(data_dir)
    try:
        _wait_ready(server, url)
        yield LiveServer(url=url, data_dir=data_dir)
    finally:
        _stop(server)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    executable = chromium_path()
    if executable is None:
        _unavailable(f"Chromium not found at {os.environ.get('CHROMIUM_PATH') or '/usr/bin/chromium'}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    try:
        launched = playwright_instance.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    except Exception as exc:
        # Chromium is installed but will not start: that is a broken setup, never a quiet skip.
        pytest.fail(f"Chromium could not be launched: {exc}", pytrace=False)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser, live_app: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_app.url, viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def admin_account(browser: Browser, live_app: LiveServer) -> Account:
    """The first account, registered through the sign-up form: it becomes the admin."""
    return register_first_admin(browser, live_app)


@pytest.fixture(scope="session")
def user_account(admin_account: Account, live_app: LiveServer) -> Account:
    """A normal user (registered after the admin)."""
    return register_via_api(live_app, "nora")


@pytest.fixture
def admin_page(context: BrowserContext, admin_account: Account, live_app: LiveServer) -> Page:
    sign_in_context(context, live_app, admin_account)
    return context.new_page()


@pytest.fixture
def user_page(context: BrowserContext, user_account: Account, live_app: LiveServer) -> Page:
    sign_in_context(context, live_app, user_account)
    return context.new_page()
