"""待遇发放: the monthly payroll of a county, from preparation to the bank and back.

A run (``payroll_run``) pays one county for one month: one pay line per recipient in 正常待遇
whose pension has started, with the basic pension by funding level (as the month's policy
says, age and years top-ups included) and the account pension fixed at award, plus 补发 lines
for months already paid when a back-dated increase raised what was due for them. Recipients
without a bank account get a line held back (待补录账户) for the township to complete.

Three people move a run on, each a different operator: the county processor prepares it, the
county reviewer reviews it, the finance officer releases it to the bank. Release books one
balanced transaction: each recipient's account pension debited from their account, component
by component in proportion to the balances (largest remainder, so that the debits add up to the
fen), the rest of the account pension from the pooled fund once the account is empty, the basic
pension from each funding level's income, the whole amount into the bank clearing account. The
bank's results move each line's money out of clearing: into the spending accounts when paid,
into 发放失败待重发 when not. A failed or held line is paid in a supplementary run, once: a new
line replaces it (the failure stays on record), and the unique index on replacements refuses a
second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    String,
    and_,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from jubao import audit, jobs
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import Base, BigId, among, dialect_of, hold_lock, insert_many, utcnow
from jubao.pension.accounts.ledger import (
    AccountBalance,
    AccountEntry,
    EntryKind,
    FundAccount,
    FundEntry,
    LedgerTxn,
    TxnKind,
    upsert_balances,
)
from jubao.pension.accounts.money import split_by_ratio
from jubao.pension.benefits.award import Award, in_effect
from jubao.pension.benefits.rules import age_in_month
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.entitlement.verification import pause_overdue
from jubao.pension.month import Month
from jubao.pension.people.persons import Person, PersonStatus
from jubao.pension.policy.params import BasicPension, PensionLine, PolicyBook, PolicySet
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import Region, check_in_use
from jubao.tenants.scope import RegionScoped, Scope, unscoped

CHUNK = 2000  # recipients read and written at a time


class Funder(StrEnum):
    """Who pays a layer of the basic pension (基础养老金 by funding level)."""

    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"

    @classmethod
    def of(cls, prefix: str) -> Funder:
        """The level that set a layer: its region prefix ("" is the national minimum). A
        layer set below the county is the county's money (townships have no budget of their
        own for pensions)."""
        if not prefix:
            return cls.NATIONAL
        level = RegionCode.from_prefix(prefix).level
        return {Level.PROVINCE: cls.PROVINCE, Level.CITY: cls.CITY}.get(level, cls.COUNTY)

    @property
    def column(self) -> str:
        """The pay line's column for the layer it funds."""
        return _COLUMN[self]

    @property
    def income(self) -> FundAccount:
        return _INCOME[self]

    @property
    def expense(self) -> FundAccount:
        return _EXPENSE[self]


# (looked up per line and funder in runs of a million lines: built once)
_COLUMN = {funder: f"basic_{funder.value}" for funder in Funder}
_INCOME = {funder: FundAccount(f"income.basic_{funder.value}") for funder in Funder}
_EXPENSE = {funder: FundAccount(f"expense.basic_{funder.value}") for funder in Funder}
FUNDERS = tuple(Funder)


class RunKind(StrEnum):
    REGULAR = "regular"  # 正常发放: the month's pensions and any 补发
    SUPPLEMENTARY = "supplementary"  # 补充发放: failed and held lines, paid again
    ONE_OFF = "one_off"  # 一次性支付: heirs' payments and refunds of terminated insurance


class RunState(StrEnum):
    PREPARED = "prepared"  # 已生成
    REVIEWED = "reviewed"  # 已审核
    RELEASED = "released"  # 已拨付 (sent to the bank; immutable)

    @property
    def text(self) -> Text:
        return Text(_RUN_STATE_ZH[self], self.value)


_RUN_STATE_ZH = {
    RunState.PREPARED: "已生成",
    RunState.REVIEWED: "已审核",
    RunState.RELEASED: "已拨付",
}


class LineKind(StrEnum):
    REGULAR = "regular"  # 正常: the run's month
    ARREARS = "arrears"  # 补发: what a back-dated increase added to a month already paid
    REISSUE = "reissue"  # 重发: a failed or held line paid again
    BACK_PAY = "back_pay"  # 恢复补发: a month a pause held back, paid after it ended
    PAYOUT = "payout"  # 一次性支付: what ending an insurance pays out, to the payee named


# the kinds that pay a month's pension itself: one line of these per person and month
MONTHLY = (LineKind.REGULAR.value, LineKind.BACK_PAY.value)


class LineState(StrEnum):
    PENDING = "pending"  # in a run not yet released
    HELD = "held"  # no bank account: not sent, waits for the township
    SENT = "sent"  # released to the bank, no result yet
    PAID = "paid"  # the bank paid it
    FAILED = "failed"  # the bank could not pay it (reason given)

    @property
    def text(self) -> Text:
        return Text(_LINE_STATE_ZH[self], self.value)


_LINE_STATE_ZH = {
    LineState.PENDING: "待拨付",
    LineState.HELD: "待补录账户",
    LineState.SENT: "已送银行",
    LineState.PAID: "发放成功",
    LineState.FAILED: "发放失败",
}


class PayrollRun(Base, RegionScoped):
    __tablename__ = "payroll_run"
    __scope_object__ = "payroll"
    __table_args__ = (
        # one monthly run per county: a second preparation of the month is refused
        Index(
            "uq_payroll_run_regular",
            "region_code",
            "month",
            unique=True,
            sqlite_where=text("kind = 'regular'"),
            postgresql_where=text("kind = 'regular'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)  # the county
    month: Mapped[date] = mapped_column(Date)  # its first day
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    lines: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # fen, lines to be sent
    held: Mapped[int] = mapped_column(default=0)  # lines held back (no bank account)
    prepared_by: Mapped[int | None]
    prepared_by_name: Mapped[str] = mapped_column(String(100))
    prepared_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[int | None]
    reviewed_by_name: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    released_by: Mapped[int | None]
    released_by_name: Mapped[str | None] = mapped_column(String(100))
    released_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def period(self) -> Month:
        return Month.of(self.month)


class PayLine(Base, RegionScoped):
    __tablename__ = "pay_line"
    __scope_object__ = "payroll"
    __table_args__ = (
        # a month's pension is prepared once for a person, whatever runs cover them
        Index(
            "uq_pay_line_monthly",
            "person_id",
            "month",
            unique=True,
            sqlite_where=text("kind IN ('regular', 'back_pay')"),
            postgresql_where=text("kind IN ('regular', 'back_pay')"),
        ),
        Index("ix_pay_line_person_id_month", "person_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    region_code: Mapped[str] = mapped_column(String(12), index=True)  # the person's village
    month: Mapped[date] = mapped_column(Date)  # the month paid for (its first day)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    # the basic pension by funding level, the account pension from the account and from the
    # pooled fund (after the account is exhausted); amount is their sum
    basic_national: Mapped[int] = mapped_column(BigInteger, default=0)
    basic_province: Mapped[int] = mapped_column(BigInteger, default=0)
    basic_city: Mapped[int] = mapped_column(BigInteger, default=0)
    basic_county: Mapped[int] = mapped_column(BigInteger, default=0)
    from_account: Mapped[int] = mapped_column(BigInteger, default=0)
    from_pool: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger)
    # [{"prefix", "item", "amount"}]: each layer's items as the month's policy gave them
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    bank_account: Mapped[str | None] = mapped_column(String(32))
    # a payout's payee (an heir), when not the person
    payee_name: Mapped[str | None] = mapped_column(String(50))
    payee_id_number: Mapped[str | None] = mapped_column(String(18))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("pay_line.id"), unique=True)
    # paid again after the bank failed it: its money is in 发放失败待重发 already
    from_returned: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(200))  # the bank's, for a failure
    bank_reference: Mapped[str | None] = mapped_column(String(64))
    settled_on: Mapped[date | None] = mapped_column(Date)

    def basic(self, funder: Funder) -> int:
        return int(getattr(self, funder.column))

    @property
    def account_pension(self) -> int:
        return self.from_account + self.from_pool


class PayrollError(ErrorCode):
    NOT_COUNTY = (
        "待遇发放按县（区）进行，{region} 不是县级区划",
        "A payroll run covers a county; {region} is not one",
    )
    FUTURE = (
        "{month} 的待遇还不能发放（本月为 {today}）",
        "Pensions for {month} cannot be paid yet (this month is {today})",
    )
    ALREADY = (
        "{region} {month} 的待遇已生成发放批次 {run}",
        "The {month} payroll of {region} is already prepared as run {run}",
    )
    NOT_FOUND = ("发放批次不存在", "No such payroll run")
    STATE = (
        "发放批次 {run} 当前为“{state}”，不能{action}",
        "Payroll run {run} is {state}: it cannot be {action}",
    )
    SAME_PERSON = (
        "同一批次的生成、审核、拨付须由三个不同的人完成",
        "Three different people prepare, review and release a run",
    )
    NOBODY = (
        "{region} {month} 没有应发待遇的人员",
        "Nobody in {region} is due a pension for {month}",
    )
    NOTHING = (
        "{region} 没有需要重新发放的待遇",
        "Nothing in {region} waits to be paid again",
    )
    CONCURRENT = (
        "发放批次 {run} 正由他人处理，请刷新后重试",
        "Payroll run {run} was changed by someone else; reload and try again",
    )


_ACTIONS = {
    "review": Text("审核", "reviewed"),
    "release": Text("拨付", "released"),
}


@dataclass(frozen=True)
class Due:
    """What a recipient is due for a month: each layer's items, by funder; the account
    pension (fixed at award)."""

    lines: tuple[PensionLine, ...]
    account_pension: int

    def basic(self, funder: Funder) -> int:
        return sum(line.amount for line in self.lines if Funder.of(line.prefix) is funder)

    @property
    def basic_total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class Recipient:
    """What a pay line needs of a person in 正常待遇 and their award."""

    person_id: int
    region_code: str
    birth_date: date
    bank_account: str | None
    years_for_topup: int
    account_pension: int


class Rules:
    """The basic pension in force per village and month, resolved once per preparation (a
    county's people live in a few hundred villages)."""

    def __init__(self, session: AsyncSession) -> None:
        self._book = PolicyBook(session)
        self._found: dict[tuple[str, Month], BasicPension] = {}

    async def due(self, recipient: Recipient, month: Month) -> Due:
        key = (recipient.region_code, month)
        if key not in self._found:
            policy = await self._book.for_month(RegionCode(recipient.region_code), month)
            self._found[key] = policy.basic_pension
        lines = self._found[key].lines(
            age_in_month(recipient.birth_date, month), recipient.years_for_topup
        )
        return Due(tuple(lines), recipient.account_pension)


def _items(lines: Iterable[PensionLine]) -> list[dict[str, Any]]:
    return [{"prefix": ln.prefix, "item": ln.item.value, "amount": ln.amount} for ln in lines]


def _basic_columns(amounts: dict[Funder, int]) -> dict[str, int]:
    return {funder.column: amounts.get(funder, 0) for funder in FUNDERS}


async def counties_under(session: AsyncSession, region: RegionCode) -> list[RegionCode]:
    """The counties in use at or under ``region`` (the province may start them all at once)."""
    if region.level is Level.COUNTY:
        return [region]
    regions = unscoped(Region)
    codes = await session.scalars(
        select(regions.c.code)
        .where(
            regions.c.level == int(Level.COUNTY),
            Scope.of([region.prefix]).clause(regions.c.code),
            regions.c.valid_to.is_(None),
        )
        .order_by(regions.c.code)
    )
    return [RegionCode(code) for code in codes]


async def prepare_all(
    session: AsyncSession, actor: Actor, region: RegionCode, month: Month, *, today: date
) -> jobs.Job:
    """The province (or a city) starts every county's run of ``month`` at once: a background
    job of one chunk per county, each prepared as if by ``actor`` (who may then not review
    them). A county already prepared, or with nobody to pay, is passed over."""
    actor.require(Obj.BENEFIT, Act.PROCESS, region, field="region")
    await check_in_use(session, region)
    _check_month(month, today)
    counties = await counties_under(session, region)
    params = {
        "month": str(month),
        "today": today.isoformat(),
        "operator_id": actor.operator_id,
        "label": actor.label,
    }
    ranges = [(int(county.code), int(county.code)) for county in counties]
    return await jobs.create(session, actor, jobs.JobKind.PAYROLL, region, params, ranges)


async def _county_chunk(
    session: AsyncSession, job: jobs.Job, chunk: jobs.JobChunk
) -> tuple[int, int]:
    params = job.params
    actor = Actor(operator_id=params["operator_id"], label=params["label"], principal=None)
    try:
        async with session.begin_nested():  # a county passed over leaves nothing behind
            run = await prepare(
                session,
                actor,
                RegionCode(f"{chunk.lo:012d}"),
                Month.parse(params["month"]),
                today=date.fromisoformat(params["today"]),
            )
    except DomainError as error:
        if error.code in (PayrollError.ALREADY, PayrollError.NOBODY):
            return 0, 0
        raise
    return run.lines + run.held, run.total


async def _all_prepared(session: AsyncSession, job: jobs.Job) -> None:
    audit.record(
        session,
        jobs.WORKER,
        "payroll.prepare_all",
        f"job:{job.id}",
        region_code=job.region_code,
        month=job.params["month"],
    )


jobs.register(jobs.JobKind.PAYROLL, jobs.Work(_county_chunk, _all_prepared))


def payroll_lock(county: RegionCode) -> str:
    """The lock a county's regular preparation holds: what decides which month a change is
    paid from (an award correction) waits for a run being prepared to be committed."""
    return f"payroll.prepare:{county.code}"


async def first_open_month(session: AsyncSession, county: RegionCode, earliest: Month) -> Month:
    """The first month from ``earliest`` on that no regular run of ``county`` has been prepared
    for: where a pause or a resumption takes effect (the caller holds `payroll_lock`, so that
    a run being prepared counts)."""
    runs = unscoped(PayrollRun)
    last = await session.scalar(
        select(func.max(runs.c.month)).where(
            runs.c.region_code == county.code, runs.c.kind == RunKind.REGULAR.value
        )
    )
    return earliest if last is None else max(earliest, Month.of(last).next())


def _check_month(month: Month, today: date) -> None:
    if month > Month.of(today):
        raise DomainError(
            PayrollError.FUTURE, field="month", month=str(month), today=str(Month.of(today))
        )


def county_of(region: RegionCode) -> RegionCode:
    """The county whose payroll pays the people of ``region``."""
    return RegionCode.from_prefix(region.prefix_at(Level.COUNTY))


def check_county(region: RegionCode) -> RegionCode:
    if region.level is not Level.COUNTY:
        raise DomainError(PayrollError.NOT_COUNTY, field="region", region=region.code)
    return region


async def prepare(
    session: AsyncSession, actor: Actor, region: RegionCode, month: Month, *, today: date
) -> PayrollRun:
    """Prepare ``region``'s (a county's) regular run for ``month``: the month's lines and the
    补发 for months already paid."""
    county = check_county(region)
    actor.require(Obj.BENEFIT, Act.PROCESS, county, field="region")
    await check_in_use(session, county)
    _check_month(month, today)
    await hold_lock(session, payroll_lock(county))
    runs = unscoped(PayrollRun)
    found = await session.scalar(
        select(runs.c.id).where(
            runs.c.region_code == county.code,
            runs.c.month == month.first_day,
            runs.c.kind == RunKind.REGULAR.value,
        )
    )
    if found is not None:
        raise DomainError(
            PayrollError.ALREADY, field="month", region=county.code, month=str(month), run=found
        )
    previous = await session.scalar(
        select(func.max(runs.c.prepared_at)).where(
            runs.c.region_code == county.code, runs.c.kind == RunKind.REGULAR.value
        )
    )
    run = PayrollRun(
        region_code=county.code,
        month=month.first_day,
        kind=RunKind.REGULAR.value,
        state=RunState.PREPARED.value,
        prepared_by=actor.operator_id,
        prepared_by_name=actor.label,
        prepared_at=utcnow(),
    )
    session.add(run)
    try:
        await session.flush()
    except IntegrityError:  # another preparation of the same month won the race
        raise DomainError(
            PayrollError.ALREADY, field="month", region=county.code, month=str(month), run="…"
        ) from None
    # nobody overdue for their verification is paid from this month on
    await pause_overdue(session, county, month)
    horizon = await _arrears_horizon(session, previous, month)
    rules = Rules(session)
    scope = Scope.of([county.prefix])
    people, awards, lines = unscoped(Person), unscoped(Award), unscoped(PayLine)
    # Keyset on (village, id): the index on the village code finds a county's recipients in
    # that order, where a walk in id order alone would read the province's people to find them.
    after: tuple[str, int] = ("", 0)
    while True:
        chunk = [
            Recipient(*row)
            for row in await session.execute(
                select(
                    people.c.id,
                    people.c.region_code,
                    people.c.birth_date,
                    people.c.bank_account,
                    awards.c.years_for_topup,
                    awards.c.account_pension,
                )
                .join(awards, awards.c.person_id == people.c.id)
                .where(
                    scope.clause(people.c.region_code),
                    people.c.status == PersonStatus.RECEIVING.value,
                    in_effect(awards, month.first_day),  # (the first from the start month)
                    tuple_(people.c.region_code, people.c.id) > tuple_(*after),
                )
                .order_by(people.c.region_code, people.c.id)
                .limit(CHUNK)
            )
        ]
        if not chunk:
            break
        after = (chunk[-1].region_code, chunk[-1].person_id)
        rows = await _lines_for(session, rules, run, month, horizon, chunk)
        if rows:
            columns = tuple(rows[0])
            await insert_many(session, lines, columns, [tuple(r[c] for c in columns) for r in rows])
    await count_run(session, run)
    if not run.lines and not run.held:
        raise DomainError(PayrollError.NOBODY, field="region", region=county.code, month=str(month))
    audit.record(
        session,
        actor,
        "payroll.prepare",
        f"payroll_run:{run.id}",
        region_code=county.code,
        month=str(month),
        lines=run.lines,
        total=run.total,
    )
    return run


async def _arrears_horizon(
    session: AsyncSession, previous: datetime | None, month: Month
) -> Month | None:
    """The first month a back-dated change may have raised since the last run was prepared:
    the earliest month in effect of the policy sets saved since then (None: nothing to look
    at again)."""
    if previous is None:
        return None
    sets = unscoped(PolicySet)
    changed = (
        await session.execute(
            select(sets.c.effective_year, sets.c.effective_month)
            .where(sets.c.updated_at > previous)
            .order_by(sets.c.effective_year, sets.c.effective_month)
            .limit(1)
        )
    ).first()
    if changed is None:
        return None
    first = Month(changed.effective_year, changed.effective_month)
    return first if first < month else None


@dataclass(frozen=True)
class Version:
    """What a version of an award fixes for the months from ``effective`` on."""

    effective: Month
    years_for_topup: int
    account_pension: int


@dataclass
class Holds:
    """A chunk's restrictions (paid at the amount of the month they began: (from, until)) and
    the ended pauses whose held-back months are still to be paid (id, from, until)."""

    restricted: dict[int, list[tuple[Month, Month | None]]]
    back_pay: dict[int, list[tuple[int, Month, Month]]]

    def frozen_at(self, person_id: int, month: Month) -> Month | None:
        """The month whose amount ``month`` pays under a restriction (None: none applies)."""
        for began, ended in self.restricted.get(person_id, ()):
            if began <= month and (ended is None or month < ended):
                return began
        return None


async def _lines_for(
    session: AsyncSession,
    rules: Rules,
    run: PayrollRun,
    month: Month,
    horizon: Month | None,
    chunk: Sequence[Recipient],
) -> list[dict[str, Any]]:
    ids = [recipient.person_id for recipient in chunk]
    paid = await _paid_basic(session, ids, horizon, month) if horizon else {}
    holds = await _holds_for(session, ids, month)
    earlier_ids = list({*paid, *holds.back_pay})
    versions = await _versions(session, earlier_ids) if earlier_ids else {}
    prepared = await _months_prepared(session, list(holds.back_pay)) if holds.back_pay else {}
    left = await _accounts_left(session, ids)
    rows = []

    async def due(recipient: Recipient, when: Month) -> Due:
        return await rules.due(recipient, holds.frozen_at(recipient.person_id, when) or when)

    def monthly(common: dict[str, Any], when: Month, kind: LineKind, found: Due) -> dict[str, Any]:
        person = common["person_id"]
        from_account = min(found.account_pension, left.get(person, 0))
        left[person] = left.get(person, 0) - from_account
        return {
            **common,
            "month": when.first_day,
            "kind": kind.value,
            **_basic_columns({f: found.basic(f) for f in Funder}),
            "from_account": from_account,
            "from_pool": found.account_pension - from_account,
            "amount": found.basic_total + found.account_pension,
            "items": _items(found.lines),
        }

    for recipient in chunk:
        person = recipient.person_id
        common = {
            "run_id": run.id,
            "person_id": person,
            "region_code": recipient.region_code,
            "bank_account": recipient.bank_account,
            "state": (LineState.PENDING if recipient.bank_account else LineState.HELD).value,
            "replaces_id": None,
            "from_returned": False,
        }
        # the months a pause held back, oldest first, by the award version of each month
        for _, began, ended in holds.back_pay.get(person, ()):
            held = began
            while held < min(ended, month):
                if held not in prepared.get(person, ()):
                    then = _version_in(versions[person], held)
                    as_then = replace(
                        recipient,
                        years_for_topup=then.years_for_topup,
                        account_pension=then.account_pension,
                    )
                    rows.append(monthly(common, held, LineKind.BACK_PAY, await due(as_then, held)))
                held = held.next()
        rows.append(monthly(common, month, LineKind.REGULAR, await due(recipient, month)))
        for earlier, before in sorted(paid.get(person, {}).items()):
            if holds.frozen_at(person, earlier):
                continue  # a restriction's months take no increase
            # the years of the award version that paid that month (a later correction of the
            # award does not reach back)
            then = _version_in(versions[person], earlier)
            now = await rules.due(replace(recipient, years_for_topup=then.years_for_topup), earlier)
            raised = {f: now.basic(f) - before.get(f, 0) for f in Funder}
            if sum(raised.values()) <= 0 or min(raised.values()) < 0:
                # a decrease (or a shift between levels) is not paid back here: recovering
                # an overpayment is a reviewed decision of its own
                continue
            rows.append(
                {
                    **common,
                    "month": earlier.first_day,
                    "kind": LineKind.ARREARS.value,
                    **_basic_columns(raised),
                    "from_account": 0,
                    "from_pool": 0,
                    "amount": sum(raised.values()),
                    "items": _items(now.lines),
                }
            )
    if holds.back_pay:
        await _mark_back_paid(session, run, holds)
    return rows


async def _holds_for(session: AsyncSession, person_ids: list[int], month: Month) -> Holds:
    """The restrictions that reach ``month`` and the ended pauses to pay back, of a chunk."""
    table = unscoped(BenefitHold)
    rows = await session.execute(
        select(
            table.c.id,
            table.c.person_id,
            table.c.pays,
            table.c.from_month,
            table.c.until_month,
            table.c.back_pay,
        ).where(
            among(table.c.person_id, person_ids, dialect_of(session)),
            or_(
                and_(
                    table.c.pays,
                    table.c.from_month <= month.first_day,
                    or_(table.c.until_month.is_(None), table.c.until_month > month.first_day),
                ),
                and_(
                    ~table.c.pays,
                    table.c.back_pay.is_(True),
                    table.c.back_paid_run_id.is_(None),
                ),
            ),
        )
    )
    found = Holds(defaultdict(list), defaultdict(list))
    for hold_id, person_id, pays, began, ended, _ in rows:
        if pays:
            found.restricted[person_id].append((Month.of(began), ended and Month.of(ended)))
        else:
            found.back_pay[person_id].append((hold_id, Month.of(began), Month.of(ended)))
    return found


async def _mark_back_paid(session: AsyncSession, run: PayrollRun, holds: Holds) -> None:
    table = unscoped(BenefitHold)
    ids = [hold_id for held in holds.back_pay.values() for hold_id, _, _ in held]
    await session.execute(
        update(table)
        .where(among(table.c.id, ids, dialect_of(session)))
        .values(back_paid_run_id=run.id)
    )


async def _months_prepared(session: AsyncSession, person_ids: list[int]) -> dict[int, set[Month]]:
    """The months each person already has a month's line for (whatever became of it)."""
    lines = unscoped(PayLine)
    rows = await session.execute(
        select(lines.c.person_id, lines.c.month).where(
            among(lines.c.person_id, person_ids, dialect_of(session)),
            lines.c.kind.in_(MONTHLY),
        )
    )
    found: dict[int, set[Month]] = defaultdict(set)
    for person_id, paid_month in rows:
        found[person_id].add(Month.of(paid_month))
    return found


async def _versions(session: AsyncSession, person_ids: list[int]) -> dict[int, list[Version]]:
    """The versions of the people's awards, by the month each took effect, in the order they
    were made."""
    awards = unscoped(Award)
    rows = await session.execute(
        select(
            awards.c.person_id,
            awards.c.effective_month,
            awards.c.years_for_topup,
            awards.c.account_pension,
        )
        .where(among(awards.c.person_id, person_ids, dialect_of(session)))
        .order_by(awards.c.id)
    )
    found: dict[int, list[Version]] = defaultdict(list)
    for person_id, effective, years, account_pension in rows:
        found[person_id].append(Version(Month.of(effective), years, account_pension))
    return found


def _version_in(versions: list[Version], month: Month) -> Version:
    """The last version in effect by ``month`` (see ``award.in_effect``)."""
    return [v for v in versions if v.effective <= month][-1]


async def _accounts_left(session: AsyncSession, person_ids: list[int]) -> dict[int, int]:
    """Each account's balance less what prepared, unreleased lines will take from it (two
    queries for a chunk of people)."""
    balances, lines = unscoped(AccountBalance), unscoped(PayLine)
    held = await session.execute(
        select(balances.c.person_id, func.sum(balances.c.balance))
        .where(among(balances.c.person_id, person_ids, dialect_of(session)))
        .group_by(balances.c.person_id)
    )
    found = {int(person): int(amount) for person, amount in held}
    pending = await session.execute(
        select(lines.c.person_id, func.sum(lines.c.from_account))
        .where(
            among(lines.c.person_id, person_ids, dialect_of(session)),
            lines.c.state.in_([LineState.PENDING.value, LineState.HELD.value]),
            lines.c.from_account > 0,
            ~lines.c.from_returned,
            ~replaced(lines.c.id),
        )
        .group_by(lines.c.person_id)
    )
    for person, amount in pending:
        found[int(person)] = found.get(int(person), 0) - int(amount)
    return {person: max(0, amount) for person, amount in found.items()}


async def _paid_basic(
    session: AsyncSession, person_ids: list[int], horizon: Month, month: Month
) -> dict[int, dict[Month, dict[Funder, int]]]:
    """For months in [horizon, month): the basic pension each person's lines pay (a replaced
    line's replacement counts, not the line), by funder."""
    lines = unscoped(PayLine)
    rows = await session.execute(
        select(
            lines.c.person_id,
            lines.c.month,
            *(func.sum(lines.c[f"basic_{f.value}"]) for f in Funder),
        )
        .where(
            among(lines.c.person_id, person_ids, dialect_of(session)),
            lines.c.month >= horizon.first_day,
            lines.c.month < month.first_day,
            ~replaced(lines.c.id),
        )
        .group_by(lines.c.person_id, lines.c.month)
    )
    found: dict[int, dict[Month, dict[Funder, int]]] = defaultdict(dict)
    for person_id, paid_month, *amounts in rows:
        found[person_id][Month.of(paid_month)] = {
            f: int(a) for f, a in zip(Funder, amounts, strict=True)
        }
    return found


def spending(items: list[dict[str, Any]]) -> list[tuple[FundAccount, int]] | None:
    """What a payout line (or its reissue) spends, by account (None: a pension line, spent by
    its columns)."""
    if not items or "account" not in items[0]:
        return None
    return [(FundAccount(item["account"]), int(item["amount"])) for item in items]


def replaced(line_id: Any) -> Any:
    """Whether a later line paid again the line with id ``line_id`` (a column)."""
    later = unscoped(PayLine).alias("later")
    return select(later.c.id).where(later.c.replaces_id == line_id).exists()


async def count_run(session: AsyncSession, run: PayrollRun) -> None:
    lines = unscoped(PayLine)
    sent = lines.c.state != LineState.HELD.value
    counts = (
        await session.execute(
            select(
                func.count().filter(sent),
                func.coalesce(func.sum(lines.c.amount).filter(sent), 0),
                func.count().filter(~sent),
            ).where(lines.c.run_id == run.id)
        )
    ).one()
    run.lines, run.total, run.held = int(counts[0]), int(counts[1]), int(counts[2])
    await session.flush()


async def _run_for(session: AsyncSession, run_id: int, state: RunState, action: str) -> PayrollRun:
    run = await session.get(PayrollRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise DomainError(PayrollError.NOT_FOUND, field="run")
    if RunState(run.state) is not state:
        raise DomainError(
            PayrollError.STATE,
            field="run",
            run=run.id,
            state=RunState(run.state).text,
            action=_ACTIONS[action],
        )
    return run


async def review(session: AsyncSession, actor: Actor, run_id: int) -> PayrollRun:
    """审核: a second person checks the prepared run."""
    run = await _run_for(session, run_id, RunState.PREPARED, "review")
    actor.require(Obj.PAYROLL, Act.REVIEW, RegionCode(run.region_code), field="run")
    if actor.operator_id is None or actor.operator_id == run.prepared_by:
        raise DomainError(PayrollError.SAME_PERSON, field="run")
    run.state = RunState.REVIEWED.value
    run.reviewed_by, run.reviewed_by_name, run.reviewed_at = (
        actor.operator_id,
        actor.label,
        utcnow(),
    )
    await _flush(session, run)
    audit.record(
        session, actor, "payroll.review", f"payroll_run:{run.id}", region_code=run.region_code
    )
    return run


async def release(session: AsyncSession, actor: Actor, run_id: int, *, today: date) -> PayrollRun:
    """拨付: a third person sends the reviewed run to the bank; its money moves in one
    transaction, and the run is immutable from now on."""
    run = await _run_for(session, run_id, RunState.REVIEWED, "release")
    actor.require(Obj.PAYROLL, Act.PROCESS, RegionCode(run.region_code), field="run")
    if actor.operator_id is None or actor.operator_id in (run.prepared_by, run.reviewed_by):
        raise DomainError(PayrollError.SAME_PERSON, field="run")
    run.state = RunState.RELEASED.value
    run.released_by, run.released_by_name, run.released_at = (
        actor.operator_id,
        actor.label,
        utcnow(),
    )
    await _flush(session, run)
    await _book_release(session, run, today)
    lines = unscoped(PayLine)
    await session.execute(
        update(lines)
        .where(lines.c.run_id == run.id, lines.c.state == LineState.PENDING.value)
        .values(state=LineState.SENT.value)
    )
    audit.record(
        session,
        actor,
        "payroll.release",
        f"payroll_run:{run.id}",
        region_code=run.region_code,
        lines=run.lines,
        total=run.total,
    )
    return run


async def _flush(session: AsyncSession, run: PayrollRun) -> None:
    try:
        await session.flush()
    except StaleDataError:
        raise DomainError(PayrollError.CONCURRENT, field="run", run=run.id) from None


def open_txn(kind: EntryKind | TxnKind, run: PayrollRun, today: date, memo: str) -> Any:
    return (
        insert(LedgerTxn)
        .values(
            kind=kind.value,
            region_code=run.region_code,
            value_date=today,
            year=run.period.year,
            payroll_run_id=run.id,
            booked_at=utcnow(),
            memo=memo,
        )
        .returning(LedgerTxn.id)
    )


class FundLegs:
    """Fund legs of one transaction, summed per (village, account) as they are added."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, FundAccount], int] = defaultdict(int)

    def add(self, region_code: str, account: FundAccount, amount: int) -> None:
        if amount:
            self._sums[region_code, account] += amount

    COLUMNS = ("txn_id", "region_code", "account", "amount", "value_date", "year")

    def rows(self, txn_id: int, value_date: date, year: int) -> list[tuple[Any, ...]]:
        """The legs as records of ``COLUMNS``."""
        return [
            (txn_id, region, account.value, amount, value_date, year)
            for (region, account), amount in self._sums.items()
            if amount
        ]


async def _book_release(session: AsyncSession, run: PayrollRun, today: date) -> None:
    lines = unscoped(PayLine)
    sending = (
        await session.execute(
            select(
                lines.c.person_id,
                lines.c.region_code,
                lines.c.amount,
                lines.c.from_account,
                lines.c.from_pool,
                lines.c.from_returned,
                lines.c.kind,
                *(lines.c[funder.column] for funder in FUNDERS),
            ).where(lines.c.run_id == run.id, lines.c.state == LineState.PENDING.value)
        )
    ).all()
    if not sending:
        return
    txn_id = await session.scalar(
        open_txn(EntryKind.PENSION, run, today, f"{run.period} 待遇发放（批次 {run.id}）")
    )
    assert txn_id is not None
    funds = FundLegs()
    owed: dict[int, int] = defaultdict(int)  # a person's account pension of the run's lines
    village: dict[int, str] = {}
    for line in sending:
        if line.from_returned:
            # its money left the accounts and the funders when the line it replaces was
            # released, and came back into 发放失败待重发: it goes to the bank from there
            funds.add(line.region_code, FundAccount.RETURNED, -line.amount)
        elif line.kind == LineKind.PAYOUT.value:
            # booked when the insurance ended, and held for the payee since
            funds.add(line.region_code, FundAccount.PAYOUT, -line.amount)
        else:
            for funder in FUNDERS:
                funds.add(line.region_code, funder.income, -getattr(line, funder.column))
            funds.add(line.region_code, FundAccount.POOL, -line.from_pool)
            if line.from_account:
                owed[line.person_id] += line.from_account
                village[line.person_id] = line.region_code
        funds.add(line.region_code, FundAccount.CLEARING, line.amount)
    common = {
        "txn_id": txn_id,
        "kind": EntryKind.PENSION.value,
        "value_date": today,
        "year": run.period.year,
        "booked_at": utcnow(),
        "memo": f"{run.period} 个人账户养老金",
    }
    if dialect_of(session) == "postgresql":
        await _debit_in_sql(session, run, common)
        await insert_legs(session, txn_id, [], funds, today, run.period.year)
        return
    person_legs = [
        {
            **common,
            "person_id": person_id,
            "region_code": village[person_id],
            "component": component,
            "amount": -amount,
        }
        for person_id, split in (await _account_debits(session, owed)).items()
        for component, amount in split.items()
    ]
    await insert_legs(session, txn_id, person_legs, funds, today, run.period.year)


# The split of `_account_debits` (largest remainder, ties to the component first in name order)
# as one statement: a province's release does not carry its accounts through Python.
_DEBITS = text(
    """
    WITH owed AS (
        SELECT person_id, min(region_code) AS region_code, sum(from_account)::bigint AS amount
        FROM pay_line
        WHERE run_id = :run AND state = 'pending' AND NOT from_returned AND from_account > 0
        GROUP BY person_id
    ), held AS (
        SELECT o.person_id, o.region_code, o.amount, b.component, b.balance,
               (sum(b.balance) OVER (PARTITION BY o.person_id))::bigint AS total
        FROM owed o JOIN account_balance b ON b.person_id = o.person_id AND b.balance > 0
    ), parts AS (
        SELECT *, amount * balance / total AS base, amount * balance % total AS rest FROM held
    ), ranked AS (
        SELECT *, amount - (sum(base) OVER (PARTITION BY person_id))::bigint AS left_over,
               row_number() OVER (PARTITION BY person_id ORDER BY rest DESC, component) AS rank
        FROM parts
    ), booked AS (
        INSERT INTO account_entry
            (txn_id, person_id, region_code, component, kind, amount, value_date, year,
             booked_at, memo)
        SELECT CAST(:txn_id AS bigint), person_id, region_code, component,
               CAST(:kind AS varchar), -(base + CASE WHEN rank <= left_over THEN 1 ELSE 0 END),
               CAST(:value_date AS date), CAST(:year AS integer),
               CAST(:booked_at AS timestamptz), CAST(:memo AS varchar)
        FROM ranked
        WHERE base + CASE WHEN rank <= left_over THEN 1 ELSE 0 END <> 0
        RETURNING person_id, component, amount
    )
    UPDATE account_balance b SET balance = b.balance + booked.amount
    FROM booked
    WHERE b.person_id = booked.person_id AND b.component = booked.component
    """
)
# Preparation leaves in each account what unreleased lines will take from it.
_SHORT = text(
    """
    SELECT o.person_id FROM (
        SELECT person_id, sum(from_account) AS amount FROM pay_line
        WHERE run_id = :run AND state = 'pending' AND NOT from_returned AND from_account > 0
        GROUP BY person_id
    ) o
    WHERE coalesce((SELECT sum(b.balance) FROM account_balance b
                    WHERE b.person_id = o.person_id AND b.balance > 0), 0) < o.amount
    LIMIT 1
    """
)


async def _debit_in_sql(session: AsyncSession, run: PayrollRun, common: dict[str, Any]) -> None:
    short = await session.scalar(_SHORT, {"run": run.id})
    if short is not None:
        raise RuntimeError(f"account of person {short} holds less than its debit")
    await session.execute(_DEBITS, {"run": run.id, **common})


async def insert_legs(
    session: AsyncSession,
    txn_id: int,
    person_legs: list[dict[str, Any]],
    funds: FundLegs,
    value_date: date,
    year: int,
) -> None:
    if person_legs:
        columns = tuple(person_legs[0])
        await insert_many(
            session,
            unscoped(AccountEntry),
            columns,
            [tuple(leg[c] for c in columns) for leg in person_legs],
        )
        await session.execute(
            upsert_balances(dialect_of(session)),
            [
                {
                    "person_id": leg["person_id"],
                    "component": leg["component"],
                    "region_code": leg["region_code"],
                    "balance": leg["amount"],
                    "interest_carry": 0,
                }
                for leg in person_legs
            ],
        )
    await insert_many(
        session, unscoped(FundEntry), FundLegs.COLUMNS, funds.rows(txn_id, value_date, year)
    )


async def _account_debits(
    session: AsyncSession, amounts: dict[int, int]
) -> dict[int, dict[str, int]]:
    """Each person's debit split over their components in proportion to the balances
    (按比例冲减; largest remainder, ties to the component first in name order)."""
    if not amounts:
        return {}
    balances = unscoped(AccountBalance)
    held: dict[int, dict[str, int]] = defaultdict(dict)
    for start in range(0, len(amounts), 5000):
        ids = list(amounts)[start : start + 5000]
        rows = await session.execute(
            select(balances.c.person_id, balances.c.component, balances.c.balance)
            .where(balances.c.person_id.in_(ids), balances.c.balance > 0)
            .order_by(balances.c.person_id, balances.c.component)
        )
        for person_id, component, balance in rows:
            held[person_id][component] = int(balance)
    found = {}
    for person_id, amount in amounts.items():
        components = held.get(person_id, {})
        total = sum(components.values())
        if total < amount:
            # preparation leaves in the account what unreleased lines will take from it
            raise RuntimeError(f"account of person {person_id} holds less than its debit")
        parts = split_by_ratio(amount, list(components.values()))
        found[person_id] = {c: p for c, p in zip(components, parts, strict=True) if p}
    return found


# --- paying again -------------------------------------------------------------------------------


async def prepare_supplementary(
    session: AsyncSession, actor: Actor, region: RegionCode, *, today: date
) -> PayrollRun:
    """补充发放: a run of the county's failed and held lines whose recipients now have a bank
    account (the township corrected it), each paid again once, as it was."""
    county = check_county(region)
    actor.require(Obj.BENEFIT, Act.PROCESS, county, field="region")
    lines, runs, people = unscoped(PayLine), unscoped(PayrollRun), unscoped(Person)
    waiting = (
        await session.execute(
            select(lines, people.c.bank_account.label("account_now"))
            .join(runs, runs.c.id == lines.c.run_id)
            .join(people, people.c.id == lines.c.person_id)
            .where(
                runs.c.region_code == county.code,
                runs.c.state == RunState.RELEASED.value,
                lines.c.state.in_([LineState.FAILED.value, LineState.HELD.value]),
                ~replaced(lines.c.id),
                or_(
                    and_(
                        people.c.bank_account.is_not(None),
                        people.c.status == PersonStatus.RECEIVING.value,
                    ),
                    # a payout is the payee's, whatever became of the person
                    lines.c.payee_name.is_not(None),
                ),
            )
            .order_by(lines.c.id)
        )
    ).all()
    if not waiting:
        raise DomainError(PayrollError.NOTHING, field="region", region=county.code)
    run = PayrollRun(
        region_code=county.code,
        month=Month.of(today).first_day,
        kind=RunKind.SUPPLEMENTARY.value,
        state=RunState.PREPARED.value,
        prepared_by=actor.operator_id,
        prepared_by_name=actor.label,
        prepared_at=utcnow(),
    )
    session.add(run)
    await session.flush()
    copied = (
        "person_id",
        "region_code",
        "month",
        "amount",
        "from_account",
        "from_pool",
        "items",
        "payee_name",
        "payee_id_number",
    )
    rows = [
        {
            **{c: getattr(line, c) for c in copied},
            **{f.column: getattr(line, f.column) for f in FUNDERS},
            "run_id": run.id,
            "kind": LineKind.REISSUE.value,
            "state": LineState.PENDING.value,
            "bank_account": line.bank_account if line.payee_name else line.account_now,
            "replaces_id": line.id,
            "from_returned": line.state == LineState.FAILED.value or line.from_returned,
        }
        for line in waiting
    ]
    try:
        await session.execute(insert(PayLine), rows)
    except IntegrityError:  # another supplementary run took these lines at the same moment
        raise DomainError(PayrollError.CONCURRENT, field="region", run=run.id) from None
    await count_run(session, run)
    audit.record(
        session,
        actor,
        "payroll.prepare",
        f"payroll_run:{run.id}",
        region_code=county.code,
        kind=RunKind.SUPPLEMENTARY.value,
        lines=run.lines,
        total=run.total,
    )
    return run
