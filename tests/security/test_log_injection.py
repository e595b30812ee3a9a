"""Text from outside (a URL path, an upstream's error) can never forge a line in the log (finding 12)."""

from __future__ import annotations

import logging

import pytest

from backend.config import Settings
from backend.logging import configure_logging
from tests.conftest import asgi_client, running_app

FORGED = "2026-12-04 03:00:00,000 INFO    switchboard.audit [-] admin granted"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_newline_in_the_url_does_not_forge_an_access_log_line(
    settings: Settings, capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    quiet = settings.model_copy(update={"log_format": log_format})
    async with running_app(quiet) as app, asgi_client(app) as http:
        capsys.readouterr()
        for escape in ("%0a", "%0d", "%0d%0a", "%e2%80%a8", "%1b[2K"):
            await http.get(f"/api/v1/nowhere{escape}{FORGED.replace(' ', '%20')}")
    lines = capsys.readouterr().err.splitlines()
    access = [line for line in lines if "nowhere" in line]
    assert len(access) == 5, lines  # one line per request, each intact
    assert not [line for line in lines if line.startswith(FORGED[:19])], lines
    assert all("\x1b" not in line for line in lines)


def test_exception_text_keeps_its_lines_but_none_looks_like_a_record(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json_lines=False)
    try:
        raise ValueError(f"upstream said\n{FORGED}")
    except ValueError:
        logging.getLogger("switchboard.test").exception("call failed for %s", "id\r\nforged")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith("call failed for id\\r\\nforged")
    assert all(line.startswith("  | ") for line in lines[1:]) and any("upstream said" in line for line in lines)


def test_each_control_character_is_spelled_out(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json_lines=False)
    logging.getLogger("switchboard.test").info("%s", "a\nb\rc\td\x1be\x85f\u2028g plain ü")
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith("a\\nb\\rc\\td\\x1be\\x85f\\u2028g plain ü")
