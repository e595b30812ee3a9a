"""Registration approval, invites, user groups and grants on shared integrations; new API-key scopes.

Existing installs keep working as before: every existing user is approved, every shared integration
stays open to all users (`access = 'all'`), and keys that reached /patients or /messages over REST
(`integrations:read`, `messages:write`) get the finer scopes that now guard them (`patients:read`,
`messages:read`).

Revision ID: sec_a_0005_access
Revises: 0004_platform
Create Date: 2026-12-04 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "sec_a_0005_access"
down_revision: str | None = "0004_platform"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("(CURRENT_TIMESTAMP)")
# Scopes a key gains because a REST route it reached is now guarded by a finer scope.
_IMPLIED = {"integrations:read": "patients:read", "messages:write": "messages:read"}


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("updated_at", backend.db.base.UTCDateTime(timezone=True), server_default=_NOW, nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("approval_status", sa.String(16), server_default="approved", nullable=False))
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("access", sa.String(16), server_default="all", nullable=False))

    op.create_table(
        "user_groups",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_user_groups_name")),
    )
    op.create_table(
        "user_group_members",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["user_groups.id"], name=op.f("fk_user_group_members_group_id_user_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_group_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_user_group_members")),
    )
    op.create_index(op.f("ix_user_group_members_user_id"), "user_group_members", ["user_id"])
    op.create_table(
        "integration_grants",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name=op.f("ck_integration_grants_one_grantee")),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_grants_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_integration_grants_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["user_groups.id"], name=op.f("fk_integration_grants_group_id_user_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_grants")),
    )
    for column in ("integration_id", "user_id", "group_id"):
        op.create_index(op.f(f"ix_integration_grants_{column}"), "integration_grants", [column])
    op.create_table(
        "registration_invites",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("expires_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", backend.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", backend.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_registration_invites_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["used_by"], ["users.id"], name=op.f("fk_registration_invites_used_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_registration_invites_token_hash")),
    )
    _add_implied_scopes()


def _add_implied_scopes() -> None:
    keys = sa.table("api_keys", sa.column("id", sa.Uuid()), sa.column("scopes", sa.JSON()))
    connection = op.get_bind()
    for key_id, scopes in connection.execute(sa.select(keys.c.id, keys.c.scopes)).all():
        current = list(scopes or [])
        extended = current + [new for old, new in _IMPLIED.items() if old in current and new not in current]
        if extended != current:
            connection.execute(keys.update().where(keys.c.id == key_id).values(scopes=extended))


def downgrade() -> None:
    op.drop_table("registration_invites")
    op.drop_table("integration_grants")
    op.drop_table("user_group_members")
    op.drop_table("user_groups")
    with op.batch_alter_table("integrations") as batch:
        batch.drop_column("access")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("approval_status")

