"""Webhooks: `allow_phi`, set by an admin, lets one receive the patient data of an event.

Revision ID: sec_b_0005_webhook_allow_phi
Revises: 0004_platform
Create Date: 2026-12-04 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sec_b_0005_webhook_allow_phi"
down_revision: str | None = "sec_a_0005_access"  # after the access grants (merged)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("allow_phi", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("allow_phi")
