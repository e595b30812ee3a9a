"""Prism (Stoplight's OpenAPI mock server, from npm) on a loopback port, serving `mock_spec`'s document.

Installed by the project's own files: `tests/contracts/jira/package.json` + `package-lock.json`,
`npm ci` by `make install` (and so `make test` and `.ci/run`). Without it the tests skip with the
command to run on a developer's machine and fail under CI (`CI=true`), like the browser tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.contracts.jira.mock_spec import write_mock_document
from tools.sandbox_server import free_port

PRISM = Path(__file__).with_name("node_modules") / ".bin" / "prism"
START_TIMEOUT_S = 120.0  # loading the document takes ~10 s on an idle machine, more on a busy one


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_prism() -> Path:
    if PRISM.exists():
        return PRISM
    reason = f"Prism is not installed ({PRISM}); run `make install` (npm ci in tests/contracts/jira)"
    if _in_ci():
        pytest.fail(f"{reason}: CI requires the Jira contract tests", pytrace=False)
    pytest.skip(reason)


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_prism(workdir: Path) -> Iterator[str]:
    """Prism serving Atlassian's examples; yields its base URL (the Jira site address)."""
    prism = require_prism()
    document = write_mock_document(workdir / "jira-mock.json")
    port = free_port()
    log_path = workdir / "prism.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(prism), "mock", "--host", "127.0.0.1", "--port", str(port), str(document)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops node's children too
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Prism did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
