"""Integration health: the live snapshot of real calls (last success / failure, last hour's error rate).

Revision ID: browser_0005_integration_health
Revises: 0004_platform
Create Date: 2026-12-04 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "browser_0005_integration_health"
down_revision: str | None = "sec_b_0005_webhook_allow_phi"  # after the security migrations (merged)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("health", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("health")
