"""login throttling by username and client address with growing waits instead of a lock: the
old per-username rows (kept forever for unknown names) give way to expiring hashed buckets

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jubao.orm

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Recent failures only: nothing in either table outlives an hour that matters, so neither
# direction carries rows over.


def upgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", jubao.orm.UtcDateTime(timezone=True), nullable=True),
        sa.Column("trusted_until", jubao.orm.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", jubao.orm.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("locked_until", jubao.orm.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", jubao.orm.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_updated_at"), ["updated_at"], unique=False
        )
