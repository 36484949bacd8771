"""a replayed refresh token ends its family's access tokens too: revoked families are recorded

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jubao.orm

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_token_family",
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", jubao.orm.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
            name=op.f("fk_revoked_token_family_operator_id_operator"),
        ),
        sa.PrimaryKeyConstraint("family", name=op.f("pk_revoked_token_family")),
    )
    with op.batch_alter_table("revoked_token_family", schema=None) as batch_op:
        batch_op.create_index(
            "ix_revoked_token_family_operator_id_revoked_at",
            ["operator_id", "revoked_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("revoked_token_family", schema=None) as batch_op:
        batch_op.drop_index("ix_revoked_token_family_operator_id_revoked_at")
    op.drop_table("revoked_token_family")
