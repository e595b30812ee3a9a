"""The resources one running app owns, created by the lifespan and reachable from every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.config import Settings
from backend.db.session import Database
from backend.security.crypto import CredentialCipher, derive_fernet_key
from tools.net import OutboundPolicy


@dataclass
class AppContext:
    settings: Settings
    db: Database
    cipher: CredentialCipher
    outbound: OutboundPolicy
    # Filled in by later stages of the lifespan (agent runner, stream hub, HL7 engine, sandboxes...).
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        keys = [key.get_secret_value().encode() for key in settings.encryption_keys]
        if not keys:
            keys = [derive_fernet_key(settings.jwt_secret)]
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url),
            cipher=CredentialCipher(keys),
            outbound=OutboundPolicy.from_entries(settings.outbound_allowlist),
        )
