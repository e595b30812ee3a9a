"""Run `switchboard serve` as a real process on a loopback port (replicas, SIGTERM, restarts)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
from tools.sandbox_server import free_port


class ServerProcess:
    """One `switchboard serve` process; `url` answers once `start()` returns."""

    def __init__(self, database_url: str, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"server-{self.port}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": TEST_SECRET,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            # Like the in-process fixtures: limits high unless a test sets its own (RATE_LIMIT_*=...).
            "RATE_LIMIT_DEFAULT": "100000/minute",
            "RATE_LIMIT_AUTH": "100000/minute",
            "RATE_LIMIT_CHAT": "100000/minute",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30) -> str:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "backend.cli",
            "serve",
            "--port",
            str(self.port),
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as http:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"server exited during start-up:\n{self.log()}")
                try:
                    if (await http.get(f"{self.url}/health", timeout=1)).status_code == 200:
                        return self.url
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"server did not start:\n{self.log()}")
                await asyncio.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)

    async def wait(self, timeout: float = 40) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.terminate()
        try:
            await self.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@asynccontextmanager
async def server_process(database_url: str, data_dir: Path, **env: str) -> AsyncIterator[ServerProcess]:
    """A started server that is stopped (SIGTERM, then kill) when the block ends."""
    server = ServerProcess(database_url, data_dir, **env)
    try:
        await server.start()
        yield server
    finally:
        await server.stop()
