"""an import batch is one file over all its runs: how many runs it took

Revision ID: 0008_import_runs
Revises: 0007
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_import_runs"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Until now every run made a batch of its own: each existing batch is one run.
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runs", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.alter_column("runs", server_default="0")


def downgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_column("runs")
