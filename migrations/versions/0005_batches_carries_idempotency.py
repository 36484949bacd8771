"""bank collection batches (a result line is posted only against a line of its batch); the
fraction of a fen each account component carries between interest sharings; the attempts of
an interest run; the answers kept for Idempotency-Key retries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 15:22:47
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jubao.orm

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_batch",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", jubao.orm.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_batch")),
    )
    with op.batch_alter_table("bank_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_batch_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "idempotency_record",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", jubao.orm.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("operator_id", "key", name=op.f("pk_idempotency_record")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_record_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "bank_batch_line",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("grade", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "contribution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("posted_at", jubao.orm.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["bank_batch.id"], name=op.f("fk_bank_batch_line_batch_id_bank_batch")
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_bank_batch_line_contribution_id_contribution"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_bank_batch_line_person_id_person")
        ),
        sa.PrimaryKeyConstraint("batch_id", "person_id", name=op.f("pk_bank_batch_line")),
    )
    with op.batch_alter_table("bank_batch_line", schema=None) as batch_op:
        batch_op.create_index("ix_bank_batch_line_person_id", ["person_id"], unique=False)

    with op.batch_alter_table("account_balance", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interest_carry", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("interest_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("interest_run", schema=None) as batch_op:
        batch_op.drop_column("attempts")
    with op.batch_alter_table("account_balance", schema=None) as batch_op:
        batch_op.drop_column("interest_carry")

    with op.batch_alter_table("bank_batch_line", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_batch_line_person_id")

    op.drop_table("bank_batch_line")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_created_at"))

    op.drop_table("idempotency_record")
    with op.batch_alter_table("bank_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_batch_region_code"))

    op.drop_table("bank_batch")
