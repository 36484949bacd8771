"""double entry: every movement of money is a transaction whose legs sum to zero; the account
entries become its person legs and each gets its mirror on the fund's income account

Revision ID: 0011_double_entry
Revises: 0010_benefit_awards
Create Date: 2026-12-05 07:37:52
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import jubao.orm
from jubao.orm import append_only, not_append_only

revision: str = "0011_double_entry"
down_revision: str | None = "0010_benefit_awards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _execute(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def _interest_index(create: bool) -> None:
    # Recreating a SQLite table (batch mode) would not keep the index's WHERE clause.
    if create:
        op.create_index(
            "uq_account_entry_interest",
            "account_entry",
            ["person_id", "component", "year"],
            unique=True,
            sqlite_where=sa.text("kind = 'interest'"),
            postgresql_where=sa.text("kind = 'interest'"),
        )
    else:
        op.drop_index("uq_account_entry_interest", table_name="account_entry")


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.create_table(
        "ledger_txn",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("contribution_id", Id, nullable=True),
        sa.Column("interest_run_id", Id, nullable=True),
        sa.Column("booked_at", jubao.orm.UtcDateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_ledger_txn_contribution_id_contribution"),
        ),
        sa.ForeignKeyConstraint(
            ["interest_run_id"],
            ["interest_run.id"],
            name=op.f("fk_ledger_txn_interest_run_id_interest_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_txn")),
    )
    op.create_table(
        "fund_entry",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("txn_id", Id, nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["txn_id"], ["ledger_txn.id"], name=op.f("fk_fund_entry_txn_id_ledger_txn")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_entry")),
    )
    op.create_index(op.f("ix_fund_entry_txn_id"), "fund_entry", ["txn_id"], unique=False)

    _execute(not_append_only("account_entry", dialect))
    op.add_column("account_entry", sa.Column("txn_id", Id, nullable=True))
    # Number the transactions in place, then write one ledger_txn per number. Legs written
    # together are equal in every column that made them (NULLs rank as equal): a
    # contribution's credits in one call (one moment), a chunk of a year's interest in one
    # statement (one transaction per village here).
    op.execute(
        """UPDATE account_entry SET txn_id = numbered.txn
           FROM (SELECT id, DENSE_RANK() OVER (ORDER BY
                   kind, region_code, value_date, year,
                   contribution_id, interest_run_id, booked_at, memo) AS txn
                 FROM account_entry) AS numbered
           WHERE numbered.id = account_entry.id"""
    )
    op.execute(
        """INSERT INTO ledger_txn (id, kind, region_code, value_date, year,
                                   contribution_id, interest_run_id, booked_at, memo)
           SELECT txn_id, kind, region_code, value_date, year,
                  contribution_id, interest_run_id, booked_at, memo
           FROM account_entry
           GROUP BY txn_id, kind, region_code, value_date, year,
                    contribution_id, interest_run_id, booked_at, memo"""
    )
    if dialect == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_txn', 'id'), "
            "COALESCE((SELECT MAX(id) FROM ledger_txn), 0) + 1, false)"
        )
    # Each leg's mirror: money into a component came out of the fund's income account for
    # its source (interest out of the interest income account).
    op.execute(
        """INSERT INTO fund_entry (txn_id, region_code, account, amount, value_date, year)
           SELECT txn_id, region_code,
                  CASE WHEN kind = 'interest' THEN 'income.interest'
                       ELSE 'income.' || component END,
                  -SUM(amount), value_date, year
           FROM account_entry
           GROUP BY txn_id, region_code, kind, component, value_date, year"""
    )
    if dialect == "sqlite":
        _interest_index(create=False)
    with op.batch_alter_table("account_entry", schema=None) as batch_op:
        batch_op.alter_column("txn_id", existing_type=Id, nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_account_entry_txn_id_ledger_txn"), "ledger_txn", ["txn_id"], ["id"]
        )
    if dialect == "sqlite":
        _interest_index(create=True)
    for table in ("account_entry", "ledger_txn", "fund_entry"):
        _execute(append_only(table, dialect))


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    for table in ("account_entry", "ledger_txn", "fund_entry"):
        _execute(not_append_only(table, dialect))
    if dialect == "sqlite":
        _interest_index(create=False)
    with op.batch_alter_table("account_entry", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_account_entry_txn_id_ledger_txn"), type_="foreignkey"
        )
        batch_op.drop_column("txn_id")
    if dialect == "sqlite":
        _interest_index(create=True)
    op.drop_index(op.f("ix_fund_entry_txn_id"), table_name="fund_entry")
    op.drop_table("fund_entry")
    op.drop_table("ledger_txn")
    _execute(append_only("account_entry", dialect))
