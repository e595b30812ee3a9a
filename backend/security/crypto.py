"""Encryption of integration credentials at rest (MultiFernet: the first key encrypts, all decrypt).

Keys come from `ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first). Without it, one key
is derived from the secret key with HKDF so a development install works out of the box.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be decrypted with any configured key."""


def derive_fernet_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"switchboard-credentials", info=b"fernet")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


class CredentialCipher:
    """Encrypts dicts to Fernet tokens and back."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise CredentialsUnreadable("credentials cannot be decrypted with the configured keys") from exc
        if not isinstance(data, dict):
            raise CredentialsUnreadable("stored credentials are not an object")
        return data

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise CredentialsUnreadable("credentials cannot be decrypted with the configured keys") from exc
