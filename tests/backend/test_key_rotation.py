"""`switchboard rotate-key`: stored credentials move to the newest key and stay readable."""

from __future__ import annotations

import asyncio
import os
import sys

from cryptography.fernet import Fernet
from sqlalchemy import select

from backend.config import Settings
from backend.context import AppContext
from backend.models.integration import Integration
from backend.security.crypto import CredentialCipher, CredentialsUnreadable
from tests.conftest import TEST_SECRET, empty_database

OLD_KEY = Fernet.generate_key()
NEW_KEY = Fernet.generate_key()
STRANGER_KEY = Fernet.generate_key()


async def _store(settings: Settings, key: bytes, name: str, credentials: dict[str, str]) -> None:
    ctx = AppContext.from_settings(settings)
    cipher = CredentialCipher([key])
    try:
        async with ctx.db.session() as session:
            session.add(
                Integration(
                    name=name,
                    integration_type="hl7",
                    config={},
                    credentials_encrypted=cipher.encrypt(credentials),
                )
            )
    finally:
        await ctx.db.dispose()


async def _tokens(settings: Settings) -> dict[str, str]:
    ctx = AppContext.from_settings(settings)
    try:
        async with ctx.db.session() as session:
            rows = await session.scalars(select(Integration))
            return {row.name: str(row.credentials_encrypted) for row in rows}
    finally:
        await ctx.db.dispose()


async def _rotate(settings: Settings, keys: list[bytes]) -> tuple[int, str]:
    env = {
        **os.environ,
        "DATABASE_URL": settings.resolved_database_url,
        "SECRET_KEY": TEST_SECRET,
        "ENCRYPTION_KEYS": ",".join(key.decode() for key in keys),
        "DATA_DIR": str(settings.data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "rotate-key",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_rotation_moves_credentials_to_the_newest_key(settings: Settings) -> None:
    await empty_database(settings.resolved_database_url)
    await _store(settings, OLD_KEY, "epic", {"client_secret": "s3cret-epic"})
    await _store(settings, OLD_KEY, "jira", {"api_token": "s3cret-jira"})

    code, output = await _rotate(settings, [NEW_KEY, OLD_KEY])

    assert code == 0, output
    assert "integration credentials: 2 re-encrypted, 0 unreadable" in output
    assert "s3cret" not in output
    tokens = await _tokens(settings)
    new_only = CredentialCipher([NEW_KEY])
    assert new_only.decrypt(tokens["epic"]) == {"client_secret": "s3cret-epic"}
    assert new_only.decrypt(tokens["jira"]) == {"api_token": "s3cret-jira"}
    old_only = CredentialCipher([OLD_KEY])
    for token in tokens.values():
        try:
            old_only.decrypt(token)
        except CredentialsUnreadable:
            continue
        raise AssertionError("a rotated token is still readable with the retired key")


async def test_rotation_reports_rows_no_key_can_read_and_leaves_them_alone(settings: Settings) -> None:
    await empty_database(settings.resolved_database_url)
    await _store(settings, OLD_KEY, "readable", {"token": "a"})
    await _store(settings, STRANGER_KEY, "foreign", {"token": "b"})
    before = await _tokens(settings)

    code, output = await _rotate(settings, [NEW_KEY, OLD_KEY])

    assert code == 1
    assert "1 re-encrypted, 1 unreadable" in output
    after = await _tokens(settings)
    assert after["foreign"] == before["foreign"]
    assert CredentialCipher([NEW_KEY]).decrypt(after["readable"]) == {"token": "a"}


async def test_rotation_refuses_without_configured_keys(settings: Settings) -> None:
    env = {**os.environ, "DATABASE_URL": settings.resolved_database_url, "SECRET_KEY": TEST_SECRET}
    env.pop("ENCRYPTION_KEYS", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "backend.cli", "rotate-key", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 2
    assert b"ENCRYPTION_KEYS" in err
