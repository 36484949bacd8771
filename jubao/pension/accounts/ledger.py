"""个人账户: an append-only ledger per person and component, with balances kept beside it.

Every credit (and, later, every payout and correction) is an entry; a balance is the sum of a
person's entries for a component. ``account_balance`` holds those sums so that reads are one
row each, and is updated in the same statement batch as the entries; ``check_balances`` (and
``jubao ledger check``) proves the two agree. Corrections are reversing entries, never updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    String,
    and_,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.errors import ErrorCode, Lang, Text
from jubao.orm import Base, BigId, among, dialect_of, utcnow
from jubao.pension.accounts.money import format_yuan
from jubao.tenants.scope import RegionScoped


class Component(StrEnum):
    """What an amount in the account came from (rulebook §2.3): kept apart because refunds
    and inheritance treat government money differently."""

    PERSONAL = "personal"  # 个人缴费
    COLLECTIVE = "collective"  # 集体补助
    AID = "aid"  # 其他社会经济组织、公益慈善组织、个人资助
    SUBSIDY_PROVINCE = "subsidy_province"  # 省级财政补贴
    SUBSIDY_CITY = "subsidy_city"  # 市级财政补贴
    SUBSIDY_COUNTY = "subsidy_county"  # 县级财政补贴
    HARDSHIP = "hardship"  # 政府代缴

    @property
    def text(self) -> Text:
        return Text(_COMPONENT_ZH[self], self.value.replace("_", " "))

    @property
    def government(self) -> bool:
        return self in GOVERNMENT


_COMPONENT_ZH = {
    Component.PERSONAL: "个人缴费",
    Component.COLLECTIVE: "集体补助",
    Component.AID: "其他资助",
    Component.SUBSIDY_PROVINCE: "省级补贴",
    Component.SUBSIDY_CITY: "市级补贴",
    Component.SUBSIDY_COUNTY: "县级补贴",
    Component.HARDSHIP: "政府代缴",
}
GOVERNMENT = frozenset(
    {
        Component.SUBSIDY_PROVINCE,
        Component.SUBSIDY_CITY,
        Component.SUBSIDY_COUNTY,
        Component.HARDSHIP,
    }
)


class EntryKind(StrEnum):
    CONTRIBUTION = "contribution"  # a credit from a contribution (any component)
    INTEREST = "interest"  # 结息, booked on the component that earned it
    REVERSAL = "reversal"  # 冲正


class AccountEntry(Base, RegionScoped):
    __tablename__ = "account_entry"
    __scope_object__ = "account"
    __table_args__ = (
        Index("ix_account_entry_person_id_component", "person_id", "component"),
        # A year's interest is credited to an account once, whatever happens (re-runs, races).
        Index(
            "uq_account_entry_interest",
            "person_id",
            "component",
            "year",
            unique=True,
            sqlite_where=text("kind = 'interest'"),
            postgresql_where=text("kind = 'interest'"),
        ),
    )

    # Entries are written in bulk (a year's interest for a province at a time), so they carry
    # only the indexes their reads need: by person, and the once-a-year interest guarantee.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    region_code: Mapped[str] = mapped_column(String(12))
    component: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)  # fen, negative for debits
    value_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int]  # the year the amount belongs to (费款所属年度, or the interest year)
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id"))
    interest_run_id: Mapped[int | None] = mapped_column(ForeignKey("interest_run.id"))
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    memo: Mapped[str | None] = mapped_column(String(200))


class AccountBalance(Base, RegionScoped):
    __tablename__ = "account_balance"
    __scope_object__ = "account"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    component: Mapped[str] = mapped_column(String(20), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    # the fraction of a fen (in 1/12,000,000 fen) this component was owed beyond, or given
    # beyond, its share of the account's interest so far: counted in the next sharing
    interest_carry: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


@dataclass(frozen=True)
class Credit:
    component: Component
    amount: int


@lru_cache(maxsize=2)
def upsert_balances(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE balance = balance + new`` for SQLite or PostgreSQL, one
    statement whatever the rows (executed for many: compiled once, not per batch size)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(AccountBalance)
    return statement.on_conflict_do_update(
        index_elements=["person_id", "component"],
        set_={"balance": AccountBalance.balance + statement.excluded.balance},
    )


async def post(
    session: AsyncSession,
    *,
    person_id: int,
    region_code: str,
    credits: Iterable[Credit],
    kind: EntryKind,
    value_date: date,
    year: int,
    contribution_id: int | None = None,
    memo: str | None = None,
) -> None:
    """Append entries (zero amounts are skipped) and move the balances with them: two
    statements for all of them (no object per entry: entries are never read back here)."""
    booked_at = utcnow()
    entries = [
        {
            "person_id": person_id,
            "region_code": region_code,
            "component": credit.component.value,
            "kind": kind.value,
            "amount": credit.amount,
            "value_date": value_date,
            "year": year,
            "contribution_id": contribution_id,
            "booked_at": booked_at,
            "memo": memo,
        }
        for credit in credits
        if credit.amount
    ]
    if not entries:
        return
    await session.execute(insert(AccountEntry), entries)
    await session.execute(
        upsert_balances(dialect_of(session)),
        [
            {
                "person_id": person_id,
                "component": e["component"],
                "region_code": region_code,
                "balance": e["amount"],
                "interest_carry": 0,
            }
            for e in entries
        ],
    )


async def balances(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Component balances for each person (components with no money are absent)."""
    rows = await session.execute(
        select(AccountBalance.person_id, AccountBalance.component, AccountBalance.balance).where(
            among(AccountBalance.person_id, person_ids, dialect_of(session))
        )
    )
    found: dict[int, dict[str, int]] = {p: {} for p in person_ids}
    for person_id, component, balance in rows:
        found[person_id][component] = balance
    return found


@dataclass(frozen=True)
class StatementLine:
    value_date: date
    component: Component
    kind: EntryKind
    amount: int
    year: int
    memo: str | None


@dataclass(frozen=True)
class Statement:
    """个人账户对账单 for one calendar year."""

    person_id: int
    year: int
    opening: dict[Component, int]
    lines: list[StatementLine]
    closing: dict[Component, int]

    @property
    def opening_total(self) -> int:
        return sum(self.opening.values())

    @property
    def closing_total(self) -> int:
        return sum(self.closing.values())

    def total(self, kind: EntryKind) -> int:
        return sum(line.amount for line in self.lines if line.kind is kind)


async def statements(
    session: AsyncSession, person_ids: Sequence[int], year: int
) -> dict[int, Statement]:
    """Each person's statement for ``year``, in two queries however many people there are."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    whose = among(AccountEntry.person_id, person_ids, dialect_of(session))
    opening = {p: dict.fromkeys(Component, 0) for p in person_ids}
    sums = await session.execute(
        select(AccountEntry.person_id, AccountEntry.component, func.sum(AccountEntry.amount))
        .where(whose, AccountEntry.value_date < start)
        .group_by(AccountEntry.person_id, AccountEntry.component)
    )
    for person_id, component, amount in sums:
        opening[person_id][Component(component)] = int(amount)
    lines: dict[int, list[StatementLine]] = {p: [] for p in person_ids}
    entries = await session.scalars(
        select(AccountEntry)
        .where(whose, AccountEntry.value_date >= start, AccountEntry.value_date <= end)
        .order_by(AccountEntry.person_id, AccountEntry.value_date, AccountEntry.id)
    )
    for e in entries:
        lines[e.person_id].append(
            StatementLine(
                e.value_date, Component(e.component), EntryKind(e.kind), e.amount, e.year, e.memo
            )
        )
    found = {}
    for person_id in person_ids:
        closing = dict(opening[person_id])
        for line in lines[person_id]:
            closing[line.component] += line.amount
        found[person_id] = Statement(person_id, year, opening[person_id], lines[person_id], closing)
    return found


async def statement(session: AsyncSession, person_id: int, year: int) -> Statement:
    return (await statements(session, [person_id], year))[person_id]


@dataclass(frozen=True)
class Mismatch:
    person_id: int
    component: str
    stored: int
    entries: int

    def describe(self, lang: Lang) -> str:
        return LedgerError.MISMATCH.message(
            lang,
            person=self.person_id,
            component=Component(self.component).text,
            stored=format_yuan(self.stored),
            entries=format_yuan(self.entries),
        )


class LedgerError(ErrorCode):
    MISMATCH = (
        "参保人 {person} 的{component}：余额 {stored} 元，明细合计 {entries} 元",
        "Person {person}, {component}: balance {stored} yuan, entries {entries} yuan",
    )
    MISMATCHES = (
        "{count} 个余额与明细合计不符",
        "{count} balances differ from the sum of their entries",
    )


async def check_balances(session: AsyncSession, *, limit: int = 1000) -> list[Mismatch]:
    """Stored balances that differ from the sum of their entries (both directions)."""
    sums = (
        select(
            AccountEntry.person_id.label("person_id"),
            AccountEntry.component.label("component"),
            func.sum(AccountEntry.amount).label("amount"),
        )
        .group_by(AccountEntry.person_id, AccountEntry.component)
        .subquery()
    )
    stored_without_entries = select(
        AccountBalance.person_id,
        AccountBalance.component,
        AccountBalance.balance,
        literal(0, BigInteger),
    ).where(
        ~select(sums.c.person_id)
        .where(
            sums.c.person_id == AccountBalance.person_id,
            sums.c.component == AccountBalance.component,
        )
        .exists(),
        AccountBalance.balance != 0,
    )
    compared = (
        select(
            sums.c.person_id,
            sums.c.component,
            func.coalesce(AccountBalance.balance, 0),
            sums.c.amount,
        )
        .select_from(sums)
        .outerjoin(
            AccountBalance,
            and_(
                AccountBalance.person_id == sums.c.person_id,
                AccountBalance.component == sums.c.component,
            ),
        )
        .where(func.coalesce(AccountBalance.balance, 0) != sums.c.amount)
    )
    rows = await session.execute(union_all(compared, stored_without_entries).limit(limit))
    return [Mismatch(int(p), str(c), int(s), int(e)) for p, c, s, e in rows]
