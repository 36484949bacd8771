"""policy takes effect by the month: a national increase is paid from July

Revision ID: 0009_policy_months
Revises: 0008_import_runs
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_policy_months"
down_revision: str | None = "0008_import_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The national minimum of 70 yuan is paid from July 2014; it was stored as a 2015 set while sets
# took effect by the year.
_SEEDED_2014 = "人社部发〔2015〕5号%"


def upgrade() -> None:
    with op.batch_alter_table("policy_set", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("effective_month", sa.SmallInteger(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint("uq_policy_set_region_prefix_effective_year", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_policy_set_region_prefix_effective_year_effective_month"),
            ["region_prefix", "effective_year", "effective_month"],
        )
    op.execute(
        sa.text(
            "UPDATE policy_set SET effective_year = 2014, effective_month = 7 "
            "WHERE region_prefix = '' AND effective_year = 2015 AND title LIKE :title"
        ).bindparams(title=_SEEDED_2014)
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE policy_set SET effective_year = 2015, effective_month = 1 "
            "WHERE region_prefix = '' AND effective_year = 2014 AND effective_month = 7 "
            "AND title LIKE :title"
        ).bindparams(title=_SEEDED_2014)
    )
    with op.batch_alter_table("policy_set", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_policy_set_region_prefix_effective_year_effective_month", type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_policy_set_region_prefix_effective_year"),
            ["region_prefix", "effective_year"],
        )
        batch_op.drop_column("effective_month")
