"""The scheme's money in balanced transactions (复式记账), and the individual accounts in it.

Every movement of money is a transaction (``ledger_txn``) whose legs sum to zero. A leg is an
amount of money into (+) or out of (−) an account:

* a person's account component (个人账户, by component): ``account_entry`` rows, whose sums are
  the balances a person sees;
* a fund account (``fund_entry`` rows): the fund's income by source (个人缴费收入, 财政补贴收入
  by level, 利息收入 …) and, as benefits are paid, its spending by category.

An income account gives the money it brings in, so its balance is negative by what it has
brought: a contribution of 100.00 is +100.00 to the person's ``personal`` component and
−100.00 to ``income.personal``. Reports show income with the sign turned.

``account_balance`` holds each person's component sums so that reads are one row each, and is
updated in the same statement batch as the entries. ``jubao ledger check`` proves that every
transaction sums to zero and every balance equals its legs. Corrections are reversing
transactions, never updates: all three tables refuse UPDATE and DELETE in the database.
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
from jubao.tenants.scope import RegionScoped, unscoped


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

    @property
    def income(self) -> FundAccount:
        """The fund income account the component's money comes from."""
        return FundAccount(f"income.{self.value}")


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


class FundAccount(StrEnum):
    """The fund's own accounts (基金收支科目), by source and funding level."""

    PERSONAL = "income.personal"  # 个人缴费收入
    COLLECTIVE = "income.collective"  # 集体补助收入
    AID = "income.aid"  # 其他资助收入
    SUBSIDY_PROVINCE = "income.subsidy_province"  # 省级缴费补贴收入
    SUBSIDY_CITY = "income.subsidy_city"  # 市级缴费补贴收入
    SUBSIDY_COUNTY = "income.subsidy_county"  # 县级缴费补贴收入
    HARDSHIP = "income.hardship"  # 政府代缴收入
    INTEREST = "income.interest"  # 利息收入
    BASIC_NATIONAL = "income.basic_national"  # 中央财政基础养老金补助收入
    BASIC_PROVINCE = "income.basic_province"  # 省级财政基础养老金补助收入
    BASIC_CITY = "income.basic_city"  # 市级财政基础养老金补助收入
    BASIC_COUNTY = "income.basic_county"  # 县级财政基础养老金补助收入
    POOL = "pool"  # 统筹基金: the account pension once the account is exhausted
    CLEARING = "clearing.payroll"  # 银行代发待清算: sent to the bank, no result yet
    RETURNED = "payable.returned"  # 发放失败待重发: the bank could not pay it
    EXPENSE_NATIONAL = "expense.basic_national"  # 基础养老金支出（中央）
    EXPENSE_PROVINCE = "expense.basic_province"  # 基础养老金支出（省级）
    EXPENSE_CITY = "expense.basic_city"  # 基础养老金支出（市级）
    EXPENSE_COUNTY = "expense.basic_county"  # 基础养老金支出（县级）
    ACCOUNT_PENSION = "expense.account_pension"  # 个人账户养老金支出
    FUNERAL_INCOME = "income.funeral"  # 丧葬补助金财政补助收入 (the county's budget)
    PAYOUT = "payable.payout"  # 一次性支付待发放: held for a payee until the bank pays it
    RECOVERED = "fund.recovered"  # 追回待遇款: overpayments got back
    REFUND = "expense.refund"  # 个人账户余额支付（退保、继承）
    FUNERAL = "expense.funeral"  # 丧葬抚恤补助支出
    REPAID = "income.repaid"  # 退回待遇收入: overpayments paid back from outside the fund
    FINES = "payable.fines"  # 罚款待缴国库: a fraud's fine, the treasury's money

    @property
    def text(self) -> Text:
        return Text(_FUND_ZH[self], self.value)


_FUND_ZH = {
    FundAccount.PERSONAL: "个人缴费收入",
    FundAccount.COLLECTIVE: "集体补助收入",
    FundAccount.AID: "其他资助收入",
    FundAccount.SUBSIDY_PROVINCE: "省级缴费补贴收入",
    FundAccount.SUBSIDY_CITY: "市级缴费补贴收入",
    FundAccount.SUBSIDY_COUNTY: "县级缴费补贴收入",
    FundAccount.HARDSHIP: "政府代缴收入",
    FundAccount.INTEREST: "利息收入",
    FundAccount.BASIC_NATIONAL: "中央财政基础养老金补助收入",
    FundAccount.BASIC_PROVINCE: "省级财政基础养老金补助收入",
    FundAccount.BASIC_CITY: "市级财政基础养老金补助收入",
    FundAccount.BASIC_COUNTY: "县级财政基础养老金补助收入",
    FundAccount.POOL: "统筹基金",
    FundAccount.CLEARING: "银行代发待清算",
    FundAccount.RETURNED: "发放失败待重发",
    FundAccount.EXPENSE_NATIONAL: "基础养老金支出（中央）",
    FundAccount.EXPENSE_PROVINCE: "基础养老金支出（省级）",
    FundAccount.EXPENSE_CITY: "基础养老金支出（市级）",
    FundAccount.EXPENSE_COUNTY: "基础养老金支出（县级）",
    FundAccount.ACCOUNT_PENSION: "个人账户养老金支出",
    FundAccount.FUNERAL_INCOME: "丧葬补助金财政补助收入",
    FundAccount.PAYOUT: "一次性支付待发放",
    FundAccount.RECOVERED: "追回待遇款",
    FundAccount.REFUND: "个人账户余额支付",
    FundAccount.FUNERAL: "丧葬抚恤补助支出",
    FundAccount.REPAID: "退回待遇收入",
    FundAccount.FINES: "罚款待缴国库",
}


class EntryKind(StrEnum):
    """What a person's leg records (and the transaction that holds it)."""

    CONTRIBUTION = "contribution"  # a credit from a contribution (any component)
    INTEREST = "interest"  # 结息, booked on the component that earned it
    REVERSAL = "reversal"  # 冲正
    PENSION = "pension"  # 待遇发放: a payroll run released (the account pension debited)
    TERMINATION = "termination"  # 注销结算: the account closed, refunded or back to the pool


class TxnKind(StrEnum):
    """Transactions that move only the fund's money (no person legs)."""

    BANK_RESULT = "bank_result"  # 银行回盘: paid, or returned to be paid again
    RECOVERY = "recovery"  # 追回款缴回: an overpayment paid back


class LedgerTxn(Base, RegionScoped):
    """One movement of money: its legs (person and fund) sum to zero."""

    __tablename__ = "ledger_txn"
    __scope_object__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    # the region whose books hold it: the person's village, or the region of a batch
    region_code: Mapped[str] = mapped_column(String(12))
    value_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int]
    contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id"))
    interest_run_id: Mapped[int | None] = mapped_column(ForeignKey("interest_run.id"))
    payroll_run_id: Mapped[int | None] = mapped_column(ForeignKey("payroll_run.id"), index=True)
    booked_at: Mapped[datetime] = mapped_column(default=utcnow)
    memo: Mapped[str | None] = mapped_column(String(200))


class FundEntry(Base, RegionScoped):
    """A leg on one of the fund's accounts, placed in the region whose money it is."""

    __tablename__ = "fund_entry"
    __scope_object__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    txn_id: Mapped[int] = mapped_column(ForeignKey("ledger_txn.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    account: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)  # fen: + into the account, − out of it
    value_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int]


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
    # only the indexes their reads need: by person, and the once-a-year interest guarantee
    # (none by transaction: the check of the sums reads them all anyway).
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    txn_id: Mapped[int] = mapped_column(ForeignKey("ledger_txn.id"))
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
    # (the table, not the mapped class: the ORM's bulk path costs more than the statement)
    table = unscoped(AccountBalance)
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["person_id", "component"],
        set_={"balance": table.c.balance + statement.excluded.balance},
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
    """Book one transaction: each credit (zero amounts are skipped) on the person's component,
    its mirror on the component's income account, and the balances moved with them, in four
    statements (no object per leg: legs are never read back here)."""
    legs = [(credit.component, credit.amount) for credit in credits if credit.amount]
    if not legs:
        return
    booked_at = utcnow()
    txn_id = await session.scalar(
        insert(LedgerTxn)
        .values(
            kind=kind.value,
            region_code=region_code,
            value_date=value_date,
            year=year,
            contribution_id=contribution_id,
            booked_at=booked_at,
            memo=memo,
        )
        .returning(LedgerTxn.id)
    )
    common = {"txn_id": txn_id, "region_code": region_code, "value_date": value_date, "year": year}
    await session.execute(
        insert(AccountEntry),
        [
            {
                **common,
                "person_id": person_id,
                "component": component.value,
                "kind": kind.value,
                "amount": amount,
                "contribution_id": contribution_id,
                "booked_at": booked_at,
                "memo": memo,
            }
            for component, amount in legs
        ],
    )
    await session.execute(
        insert(FundEntry),
        [
            {**common, "account": component.income.value, "amount": -amount}
            for component, amount in legs
        ],
    )
    await session.execute(
        upsert_balances(dialect_of(session)),
        [
            {
                "person_id": person_id,
                "component": component.value,
                "region_code": region_code,
                "balance": amount,
                "interest_carry": 0,
            }
            for component, amount in legs
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


async def balances_on(session: AsyncSession, person_id: int, day: date) -> dict[str, int]:
    """The person's component balances on ``day`` before any pension was paid from them: the
    legs of that day and earlier, whenever booked (a late posting counts on its value date)."""
    rows = await session.execute(
        select(AccountEntry.component, func.sum(AccountEntry.amount))
        .where(
            AccountEntry.person_id == person_id,
            AccountEntry.value_date <= day,
            AccountEntry.kind != EntryKind.PENSION.value,
        )
        .group_by(AccountEntry.component)
    )
    return {component: int(amount) for component, amount in rows if amount}


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


@dataclass(frozen=True)
class Unbalanced:
    txn_id: int
    total: int

    def describe(self, lang: Lang) -> str:
        return LedgerError.UNBALANCED.message(lang, txn=self.txn_id, total=format_yuan(self.total))


class LedgerError(ErrorCode):
    MISMATCH = (
        "参保人 {person} 的{component}：余额 {stored} 元，明细合计 {entries} 元",
        "Person {person}, {component}: balance {stored} yuan, entries {entries} yuan",
    )
    UNBALANCED = (
        "记账交易 {txn} 不平：各分录合计 {total} 元，应为 0",
        "Transaction {txn} does not balance: its legs sum to {total} yuan, not 0",
    )
    PROBLEMS = (
        "账务检查发现 {count} 处不符",
        "The ledger check found {count} discrepancies",
    )


async def check_ledger(session: AsyncSession, *, limit: int = 1000) -> list[Mismatch | Unbalanced]:
    """Everything that breaks the books (up to ``limit`` of each kind): transactions whose legs
    do not sum to zero, and balances that differ from the sum of their legs."""
    problems: list[Mismatch | Unbalanced] = []
    problems += await check_transactions(session, limit=limit)
    problems += await check_balances(session, limit=limit)
    return problems


async def check_transactions(session: AsyncSession, *, limit: int = 1000) -> list[Unbalanced]:
    """Transactions whose legs, person and fund together, do not sum to zero."""
    legs = union_all(
        select(AccountEntry.txn_id, AccountEntry.amount),
        select(FundEntry.txn_id, FundEntry.amount),
    ).subquery()
    total = func.sum(legs.c.amount)
    rows = await session.execute(
        select(legs.c.txn_id, total)
        .group_by(legs.c.txn_id)
        .having(total != 0)
        .order_by(legs.c.txn_id)
        .limit(limit)
    )
    return [Unbalanced(int(txn), int(amount)) for txn, amount in rows]


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
