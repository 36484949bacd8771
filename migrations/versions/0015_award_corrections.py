"""award corrections: an award may be followed by corrected versions, each replacing the one
before from a month on (the award table stays append-only)

Revision ID: 0015_award_corrections
Revises: 0014_pay_line_room
Create Date: 2026-12-05 12:27:48.583374
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jubao.orm
from jubao.orm import append_only, not_append_only

revision: str = "0015_award_corrections"
down_revision: str | None = "0014_pay_line_room"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _execute(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    # the awards already made take effect from their start; SQLite alters the table by
    # copying it, which would leave its triggers behind
    _execute(not_append_only("benefit_award", dialect))
    with op.batch_alter_table("benefit_award", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corrects_id", jubao.orm.BigId, nullable=True))
        batch_op.add_column(sa.Column("effective_month", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_benefit_award_person_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_benefit_award_person_id"), ["person_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_benefit_award_corrects_id"), ["corrects_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_benefit_award_corrects_id_benefit_award"),
            "benefit_award",
            ["corrects_id"],
            ["id"],
        )
    op.execute("UPDATE benefit_award SET effective_month = start_month")
    with op.batch_alter_table("benefit_award", schema=None) as batch_op:
        batch_op.alter_column("effective_month", existing_type=sa.Date(), nullable=False)
    _execute(append_only("benefit_award", dialect))


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    _execute(not_append_only("benefit_award", dialect))
    # a person's first award stays; its corrections cannot be kept in one row per person
    op.execute("DELETE FROM benefit_award WHERE corrects_id IS NOT NULL")
    with op.batch_alter_table("benefit_award", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_benefit_award_corrects_id_benefit_award"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_benefit_award_corrects_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_benefit_award_person_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_benefit_award_person_id"), ["person_id"])
        batch_op.drop_column("reason")
        batch_op.drop_column("effective_month")
        batch_op.drop_column("corrects_id")
    _execute(append_only("benefit_award", dialect))
