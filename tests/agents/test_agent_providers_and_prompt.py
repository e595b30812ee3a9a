"""Model specs, checkpointer URLs and the system prompt."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.checkpoint import _postgres_dsn, _sqlite_path
from agents.offline.model import OfflineChatModel
from agents.prompts import system_prompt
from agents.providers import ModelConfigError, load_chat_model


def test_offline_and_bad_specs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(load_chat_model("offline"), OfflineChatModel)
    assert isinstance(load_chat_model(" Offline "), OfflineChatModel)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for spec in ("gpt-4", "nosuch:model", "openai:gpt-4.1-mini"):  # the last: no key anywhere
        with pytest.raises(ModelConfigError):
            load_chat_model(spec)


def test_a_local_openai_compatible_server_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = load_chat_model("openai:llama3", base_url="http://127.0.0.1:11434/v1")
    assert getattr(model, "streaming", False) is True and getattr(model, "stream_usage", False) is True


def test_checkpointer_urls_from_the_apps_settings() -> None:
    assert _sqlite_path("sqlite+aiosqlite:///./data/x.db") == "./data/x.db"
    assert _sqlite_path("sqlite+aiosqlite:////abs/x.db?timeout=5") == "/abs/x.db"
    assert _sqlite_path("sqlite+aiosqlite://") == ":memory:"
    assert _postgres_dsn("postgresql+psycopg://u:p@h:5432/db") == "postgresql://u:p@h:5432/db"
    assert _postgres_dsn("postgresql://u@h/db") == "postgresql://u@h/db"


def test_system_prompt_names_role_date_systems_and_rules() -> None:
    prompt = system_prompt([("Acme Jira", "jira"), ("Lab feed", "hl7")], now=datetime(2026, 3, 4, tzinfo=UTC))
    assert "Switchboard" in prompt and "Wednesday 04 March 2026" in prompt
    assert "- Acme Jira (Jira)" in prompt and "- Lab feed (HL7 v2 over MLLP)" in prompt
    assert "Never invent data" in prompt and "approval" in prompt and "sensitive" in prompt
    assert "none yet" in system_prompt([])
