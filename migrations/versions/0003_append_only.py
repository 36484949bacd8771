"""append-only records: the ledger's entries, the people's files, review decisions and the
audit trail refuse UPDATE and DELETE in the database itself, from any program

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A correction is a new row (a reversal entry, a new event), never an edit of an old one.
TABLES = ("account_entry", "person_event", "application_review", "audit_event")


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """CREATE FUNCTION jubao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 -- the default SQLSTATE (P0001), not an integrity error: code reads those as
                 -- a lost race, and this is a program's mistake
                 RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
               END $$"""
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION jubao_append_only()"
            )
        return
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION jubao_append_only()")
        return
    for table in TABLES:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{operation}")
