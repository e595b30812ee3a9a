"""Re-encrypt every secret stored at rest under the newest encryption key (`switchboard rotate-key`).

Rotation is two steps for an operator: put the new key first in `ENCRYPTION_KEYS` (keep the old ones
after it, so everything stays readable), run `switchboard rotate-key`, then drop the old keys.
Rows are re-encrypted in batches, each batch its own transaction, so a large table never holds one
long lock and an interrupted run can simply be started again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from backend.context import AppContext
from backend.models.integration import Integration
from backend.models.webhook import Webhook
from backend.security.crypto import CredentialsUnreadable

BATCH_SIZE = 200


@dataclass(frozen=True)
class EncryptedColumn:
    """A column holding Fernet tokens made by `CredentialCipher`."""

    label: str
    column: InstrumentedAttribute[str | None]


def encrypted_columns() -> list[EncryptedColumn]:
    """Every column that stores secrets encrypted with the app's cipher."""
    return [
        EncryptedColumn("integration credentials", Integration.credentials_encrypted),
        EncryptedColumn("webhook secrets", Webhook.secret_encrypted),
    ]


@dataclass
class RotationReport:
    label: str
    rotated: int = 0
    unreadable: int = 0


async def rotate_column(app: AppContext, target: EncryptedColumn) -> RotationReport:
    """Re-encrypt one column's tokens; rows no configured key can read are counted, not touched."""
    report = RotationReport(target.label)
    model = target.column.class_
    primary_key = model.id
    last_id = None
    while True:
        async with app.db.session() as session:
            query = select(model).where(target.column.is_not(None)).order_by(primary_key).limit(BATCH_SIZE)
            if last_id is not None:
                query = query.where(primary_key > last_id)
            rows = list(await session.scalars(query))
            for row in rows:
                token = getattr(row, target.column.key)
                try:
                    setattr(row, target.column.key, app.cipher.rotate(token))
                    report.rotated += 1
                except CredentialsUnreadable:
                    report.unreadable += 1
        if len(rows) < BATCH_SIZE:
            return report
        last_id = rows[-1].id


async def rotate_all(app: AppContext) -> list[RotationReport]:
    """Rotate every encrypted column; returns one report per column."""
    return [await rotate_column(app, target) for target in encrypted_columns()]
