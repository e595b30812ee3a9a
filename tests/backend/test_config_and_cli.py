"""Settings fail fast with one clear line; the CLI migrates, creates admins and checks health."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backend.config import SettingsError, load_settings


def test_postgres_urls_map_to_the_async_driver() -> None:
    for raw in ("postgresql://u@h/db", "postgres://u@h/db"):
        settings = load_settings(database_url=raw, _env_file=None)
        assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"environment": "production"}, "SECRET_KEY is required"),
        ({"environment": "production", "secret_key": "s" * 40, "demo_mode": True}, "DEMO_MODE"),
        ({"secret_key": "changeme"}, "at least 32 characters"),
        ({"database_url": "mysql://x"}, "DATABASE_URL"),
        ({"access_token_expire_minutes": 0}, "ACCESS_TOKEN_EXPIRE_MINUTES"),
    ],
)
def test_bad_settings_fail_with_one_line(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None, **overrides)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_dev_secret_key_is_generated_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    key = settings.jwt_secret
    path = tmp_path / "secret_key"
    assert path.read_text() == key and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path, _env_file=None).jwt_secret == key


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "ENVIRONMENT")}
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=tmp_path,
        env={**clean, "DATA_DIR": str(tmp_path / "data"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_migrate_create_admin_and_check(tmp_path: Path) -> None:
    assert _cli(tmp_path, "migrate").returncode == 0
    created = _cli(
        tmp_path,
        "create-admin",
        "--email",
        "root@example.com",
        "--username",
        "root",
        "--password",
        "correct horse battery",
    )
    assert created.returncode == 0, created.stderr
    assert "created admin root" in created.stdout
    duplicate = _cli(
        tmp_path,
        "create-admin",
        "--email",
        "root@example.com",
        "--username",
        "root",
        "--password",
        "correct horse battery",
    )
    assert duplicate.returncode != 0
    check = _cli(tmp_path, "check")
    assert check.returncode == 0
    assert "database" in check.stdout and "ok" in check.stdout


def test_cli_refuses_bad_settings_with_one_line(tmp_path: Path) -> None:
    result = _cli(tmp_path, "check", ENVIRONMENT="production")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "SECRET_KEY is required" in result.stderr
