"""年度结息 (rulebook §5.6): a year's interest for every account of a region, in set-based SQL.

For each account, with the year's rules where its person lives:

    interest = round(B × rate) + round(Σ credits × rate_current × months_held / 12)

where B is the balance brought forward (all components) and months_held are the whole months
left in the year after a credit (none if the policy says this year's money earns nothing).
Each part is rounded by the policy's rule (HALF_UP to the fen, or 见分进角). The account's
interest is then shared out to its components in proportion to what each earned. Whole fen
cannot follow a proportion exactly, so each component keeps the fraction of a fen it was owed
or given beyond its share (``account_balance.interest_carry``) and that fraction counts in the
next year's sharing: no component gains on another year after year (two subsidies with the
same credits stay within a fen of each other, and of their exact share, however long), and the
components always add up to the account's interest exactly.

All arithmetic is integer (fen × parts per million), done by the database in chunks of
accounts; each chunk is one statement for the entries and one for the balances. A partial
unique index makes a (account, year, component) interest entry impossible to book twice, and
the statements skip accounts already credited, so an interrupted run can simply be run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    ForeignKey,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    extract,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit, jobs
from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.orm import Base, BigId, UtcDateTime, dialect_of, utcnow
from jubao.pension.accounts.ledger import (
    AccountBalance,
    AccountEntry,
    EntryKind,
    FundAccount,
    FundEntry,
    LedgerTxn,
)
from jubao.pension.accounts.money import Rounding
from jubao.pension.policy.params import PPM, CurrentYearCredits, PolicyBook
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import Placement, RegionKind
from jubao.pension.workflow.forms import Amount, Ref, RegionCodeText, Year
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import check_in_use
from jubao.tenants.scope import RegionScoped, Scope, unscoped

CHUNK = 50_000  # accounts per statement


class InterestError(ErrorCode):
    CONCURRENT = (
        "另一个 {year} 年的结息正在同时进行，本次已停止（已记入的利息保留，不会重复）；"
        "待其结束后重新运行即可完成",
        "Another run of {year}'s interest is crediting the same accounts: this one stopped "
        "(what was credited stays, nothing twice); run it again once that one is done",
    )
    YEAR_NOT_OVER = (
        "{year} 年尚未结束，不能结息",
        "{year} is not over yet; its interest cannot be posted",
    )
    EARLIER_YEAR = (
        "{region} 在 {year} 年以前已有资金，但 {previous} 年的利息尚未在该区划（或其上级）结算，"
        "请按年度顺序结息",
        "{region} has money from before {year}, but {previous}'s interest has not been posted "
        "for it (or a region above it); post the years in order",
    )
    ALREADY_POSTED = (
        "{year} 年度利息已在 {covered} 结算（结息批次 {run}），{region} 不再重复结息",
        "{year}'s interest has been posted for {covered} (run {run}); it is not posted again "
        "for {region}",
    )


class InterestRun(Base, RegionScoped):
    """One posting of a year's interest over a region. ``accounts`` and ``total`` grow with
    every chunk, in the chunk's own transaction, so that they always state what the run has
    credited; an interrupted run is completed by running it again (``attempts`` counts the
    goes), and is finished once ``finished_at`` is set."""

    __tablename__ = "interest_run"
    __scope_object__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(100))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    accounts: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(default=1, server_default="1")


class InterestRate(Base):
    """The rules applied to each village in a run, kept so that every fen can be explained."""

    __tablename__ = "interest_rate"

    run_id: Mapped[int] = mapped_column(ForeignKey("interest_run.id"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    rate: Mapped[int]  # ppm on the balance brought forward
    current_rate: Mapped[int]  # ppm on this year's credits, per whole month held (÷12)
    rounding: Mapped[str] = mapped_column(String(10))


def _total(value: Any, over: dict[str, Any] | None = None) -> Any:
    total = func.sum(value) if over is None else func.sum(value).over(**over)
    return cast(total, BigInteger)


def _round(numerator: Any, denominator: int, rounding: Any) -> Any:
    """SQL: round a non-negative exact amount ``numerator / denominator`` fen by rule."""
    half_up = (numerator * 2 + denominator) // (denominator * 2)
    jiao_up = (numerator + denominator * 10 - 1) // (denominator * 10) * 10
    return case((rounding == Rounding.JIAO_UP.value, jiao_up), else_=half_up)


def _interest_rows(
    run_id: int, year: int, lo: int, hi: int, scope: Scope, booked_at: datetime
) -> Any:
    """SELECT (person_id, component, region_code, amount) of the interest to book for the
    accounts with ids in [lo, hi) inside ``scope`` that have none for ``year`` yet."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    e = unscoped(AccountEntry).alias("e")
    b = unscoped(AccountBalance).alias("b")
    r = InterestRate.__table__.alias("r")
    # Every sum is cast back to BIGINT: PostgreSQL's SUM(bigint) is NUMERIC, and NUMERIC
    # division is not the integer division this arithmetic relies on.
    months_left = 12 - cast(extract("month", e.c.value_date), Integer)
    this_year = (
        select(
            e.c.person_id,
            e.c.component,
            _total(e.c.amount).label("since_start"),
            _total(
                case(
                    (
                        and_(e.c.value_date <= end, e.c.kind != EntryKind.INTEREST.value),
                        e.c.amount * months_left,
                    ),
                    else_=0,
                )
            ).label("amount_months"),
        )
        .where(e.c.person_id >= lo, e.c.person_id < hi, e.c.value_date >= start)
        .group_by(e.c.person_id, e.c.component)
        .cte("this_year")
    )
    credited = exists().where(
        unscoped(AccountEntry).c.person_id == b.c.person_id,
        unscoped(AccountEntry).c.kind == EntryKind.INTEREST.value,
        unscoped(AccountEntry).c.year == year,
    )
    prior = b.c.balance - func.coalesce(this_year.c.since_start, 0)
    amount_months = func.coalesce(this_year.c.amount_months, 0)
    # Exact interest of each component: prior × rate (÷ 1e6) and amount·months × rate' (÷ 12e6)
    parts = (
        select(
            b.c.person_id,
            b.c.component,
            b.c.region_code,
            r.c.rounding,
            case((prior > 0, prior * r.c.rate), else_=0).label("on_prior"),
            case((amount_months > 0, amount_months * r.c.current_rate), else_=0).label(
                "on_current"
            ),
            b.c.interest_carry.label("carry"),
        )
        .select_from(b)
        .join(r, and_(r.c.run_id == run_id, r.c.region_code == b.c.region_code))
        .outerjoin(
            this_year,
            and_(this_year.c.person_id == b.c.person_id, this_year.c.component == b.c.component),
        )
        .where(b.c.person_id >= lo, b.c.person_id < hi, scope.clause(b.c.region_code), ~credited)
        .cte("parts")
    )
    earning = select(parts).where(parts.c.on_prior + parts.c.on_current > 0).cte("earning")
    by_person = {"partition_by": earning.c.person_id}
    account_total = _round(
        _total(earning.c.on_prior, over=by_person), PPM, earning.c.rounding
    ) + _round(_total(earning.c.on_current, over=by_person), 12 * PPM, earning.c.rounding)
    # Exact interest in units of 1/(12·PPM) fen, where both parts are whole numbers.
    exact = earning.c.on_prior * 12 + earning.c.on_current
    weighed = select(
        earning.c.person_id,
        earning.c.component,
        earning.c.region_code,
        earning.c.carry,
        exact.label("exact"),
        account_total.label("account_total"),
        _total(exact, over=by_person).label("exact_sum"),
        func.row_number()
        .over(partition_by=earning.c.person_id, order_by=(exact.desc(), earning.c.component))
        .label("size_rank"),
    ).cte("weighed")
    # The account's rounding (what it was booked beyond or short of its exact interest) is
    # borne by its components by weight, so that their carried fractions always add up to 0.
    by_account = {"partition_by": weighed.c.person_id}
    residual = weighed.c.exact_sum - weighed.c.account_total * _UNIT
    weight = weighed.c.exact // (weighed.c.exact_sum // PPM + 1)  # at most ~a million
    part = _floor_div(residual * weight, _total(weight, over=by_account))
    borne = select(weighed, residual.label("residual"), part.label("part")).cte("borne")
    fixed = case(
        (
            borne.c.size_rank == 1,
            borne.c.residual - _total(borne.c.part, over={"partition_by": borne.c.person_id}),
        ),
        else_=0,
    )
    desired = borne.c.exact + borne.c.carry - borne.c.part - fixed
    aimed = select(borne, desired.label("desired")).cte("aimed")
    base = _floor_div(aimed.c.desired, _UNIT)
    ranked = select(
        aimed.c.person_id,
        aimed.c.component,
        aimed.c.region_code,
        aimed.c.desired,
        base.label("base"),
        (aimed.c.account_total - _total(base, over={"partition_by": aimed.c.person_id})).label(
            "left"
        ),
        (
            func.row_number().over(
                partition_by=aimed.c.person_id,
                order_by=((aimed.c.desired - base * _UNIT).desc(), aimed.c.component),
            )
            - 1
        ).label("rank"),
        func.count().over(partition_by=aimed.c.person_id).label("n"),
    ).cte("ranked")
    share = (
        ranked.c.base
        + _floor_div(ranked.c.left, ranked.c.n)
        + case((ranked.c.rank < _floor_mod(ranked.c.left, ranked.c.n), 1), else_=0)
    )
    return select(
        ranked.c.person_id,
        ranked.c.region_code,
        ranked.c.component,
        literal(EntryKind.INTEREST.value).label("kind"),
        cast(share, BigInteger).label("amount"),
        literal(end, Date).label("value_date"),
        literal(year).label("year"),
        literal(run_id).label("interest_run_id"),
        literal(booked_at, UtcDateTime()).label("booked_at"),
        literal(f"{year} 年利息").label("memo"),
        cast(ranked.c.desired - share * _UNIT, BigInteger).label("carry"),
    )


_UNIT = 12 * PPM  # a fen, in the units of the exact interest


def _floor_mod(a: Any, b: Any) -> Any:
    """SQL ``a mod b`` in [0, b) for b > 0 (``%`` keeps the sign of ``a`` on both databases)."""
    return ((a % b) + b) % b


def _floor_div(a: Any, b: Any) -> Any:
    """SQL floor(a / b) for b > 0, negative ``a`` included (``/`` truncates toward zero)."""
    return (a - _floor_mod(a, b)) // b


async def _rates(session: AsyncSession, run: InterestRun, scope: Scope, year: int) -> None:
    """Resolve the interest rules for every village with money in the region that the run has
    none for yet (a resumed run keeps the rules it began with)."""
    balances, rates = unscoped(AccountBalance), InterestRate.__table__
    known = select(rates.c.region_code).where(rates.c.run_id == run.id)
    regions = await session.scalars(
        select(balances.c.region_code)
        .where(scope.clause(balances.c.region_code), balances.c.region_code.not_in(known))
        .distinct()
    )
    book = PolicyBook(session)
    rows = []
    for code in regions:
        rules = (await book.for_region(RegionCode(code), year)).interest
        current = 0 if rules.current_year_credits is CurrentYearCredits.NONE else rules.current_rate
        rows.append(
            {
                "run_id": run.id,
                "region_code": code,
                "rate": rules.rate,
                "current_rate": current,
                "rounding": rules.rounding.value,
            }
        )
    for start in range(0, len(rows), 5000):
        await session.execute(insert(InterestRate), rows[start : start + 5000])
    if dialect_of(session) == "postgresql":
        # Without fresh statistics the planner takes these (tens of thousands of) rows for a
        # handful and walks the balances village by village for every chunk.
        await session.execute(text("ANALYZE interest_rate"))


async def _check_order(session: AsyncSession, scope: Scope, region: RegionCode, year: int) -> None:
    entries = unscoped(AccountEntry)
    earlier_money = await session.scalar(
        select(
            exists().where(
                entries.c.value_date < date(year, 1, 1), scope.clause(entries.c.region_code)
            )
        )
    )
    if not earlier_money:
        return
    runs = unscoped(InterestRun)
    previous_runs = await session.scalars(
        select(runs.c.region_code).where(runs.c.year == year - 1, runs.c.finished_at.is_not(None))
    )
    if not any(RegionCode(code).contains(region) for code in previous_runs):
        raise DomainError(
            InterestError.EARLIER_YEAR, region=region.code, year=year, previous=year - 1
        )


def _finished_over(region: RegionCode) -> ColumnElement[bool]:
    """Runs that finished over ``region`` or a region above it (an interrupted run has no
    finish time: running its year again completes it)."""
    runs = unscoped(InterestRun)
    covering = [region.code, *(a.code for a in region.ancestors)]
    return runs.c.region_code.in_(covering) & runs.c.finished_at.is_not(None)


async def last_posted_year(session: AsyncSession, region: RegionCode) -> int | None:
    """The latest year whose interest is posted for ``region``."""
    runs = unscoped(InterestRun)
    return await session.scalar(select(func.max(runs.c.year)).where(_finished_over(region)))


class ClosedYears:
    """``last_posted_year`` for batch work (a bank file, a hardship list): read once per
    region."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._found: dict[str, int | None] = {}

    async def last(self, region: RegionCode) -> int | None:
        if region.code not in self._found:
            self._found[region.code] = await last_posted_year(self._session, region)
        return self._found[region.code]


async def _check_not_posted(session: AsyncSession, region: RegionCode, year: int) -> None:
    runs = unscoped(InterestRun)
    found = (
        await session.execute(
            select(runs.c.id, runs.c.region_code).where(runs.c.year == year, _finished_over(region))
        )
    ).first()
    if found is not None:
        raise DomainError(
            InterestError.ALREADY_POSTED,
            field="year",
            year=year,
            region=region.code,
            covered=found.region_code,
            run=found.id,
        )


async def _check_may_post(
    session: AsyncSession, scope: Scope, region: RegionCode, year: int
) -> None:
    await _check_not_posted(session, region, year)
    await _check_order(session, scope, region, year)


UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def post_interest(
    unit_of_work: UnitOfWork,
    actor: Actor,
    region: RegionCode,
    year: int,
    *,
    today: date,
    application_id: int | None = None,
    chunk: int = CHUNK,
    parallel: int = 1,
    progress: Callable[[int], None] | None = None,
) -> InterestResult:
    """Post ``year``'s interest for every account under ``region``, one transaction per chunk
    (the caller's unit of work may also be one transaction for all: then ``parallel`` must
    stay 1), up to ``parallel`` chunks at a time."""
    async with unit_of_work() as session:
        run_id, chunks = await begin_run(
            session, actor, region, year, today=today, application_id=application_id, chunk=chunk
        )
    # Chunks cover disjoint accounts, so several may run at once, each in its own transaction
    # (on PostgreSQL; SQLite has one writer at a time anyway).
    lanes = asyncio.Semaphore(parallel)

    async def post(lo: int, hi: int) -> None:
        async with lanes, unit_of_work() as session:
            await post_chunk(session, run_id, year, lo, hi, region)
        if progress is not None:
            progress(hi - lo)

    await asyncio.gather(*(post(lo, hi) for lo, hi in chunks))
    async with unit_of_work() as session:
        return await finish_run(session, actor, run_id)


async def begin_run(
    session: AsyncSession,
    actor: Actor,
    region: RegionCode,
    year: int,
    *,
    today: date,
    application_id: int | None = None,
    chunk: int = CHUNK,
) -> tuple[int, list[tuple[int, int]]]:
    """Check that ``year`` may be posted for ``region``, take up its run (or begin one) with
    the rules of every village, and say how its accounts divide into chunks (id ranges)."""
    if year >= today.year:
        raise DomainError(InterestError.YEAR_NOT_OVER, field="year", year=year)
    scope = Scope.of([region.prefix])
    await _check_may_post(session, scope, region, year)
    run = await _run_to_complete(session, actor, region, year, application_id)
    await _rates(session, run, scope, year)
    ids = unscoped(AccountBalance).c.person_id
    bounds = await session.execute(
        select(func.min(ids), func.max(ids)).where(
            scope.clause(unscoped(AccountBalance).c.region_code)
        )
    )
    low, high = bounds.one()
    return run.id, _chunks(low, high, chunk)


async def finish_run(session: AsyncSession, actor: audit.AuditActor, run_id: int) -> InterestResult:
    """Close a run whose chunks are all posted."""
    # (the chunks counted on the record behind the ORM's back: read it afresh)
    done = await session.get(InterestRun, run_id, populate_existing=True)
    assert done is not None
    done.finished_at = utcnow()
    audit.record(
        session,
        actor,
        "interest.post",
        f"interest_run:{run_id}",
        region_code=done.region_code,
        year=done.year,
        accounts=done.accounts,
        total=done.total,
        attempts=done.attempts,
    )
    return InterestResult(run_id=run_id, accounts=done.accounts, total=done.total)


async def _run_to_complete(
    session: AsyncSession,
    actor: Actor,
    region: RegionCode,
    year: int,
    application_id: int | None,
) -> InterestRun:
    """The year's unfinished run over ``region``, taken up again (an interrupted run is
    completed, not begun anew: one record states all it did), or a new run."""
    runs = unscoped(InterestRun)
    unfinished = await session.scalar(
        select(runs.c.id).where(
            runs.c.year == year, runs.c.region_code == region.code, runs.c.finished_at.is_(None)
        )
    )
    if unfinished is not None:
        run = await session.get(InterestRun, unfinished, with_for_update=True)
        assert run is not None
        run.attempts += 1
        action = "interest.resume"
    else:
        run = InterestRun(
            year=year,
            region_code=region.code,
            actor=actor.label,
            application_id=application_id,
            started_at=utcnow(),
            attempts=1,
        )
        session.add(run)
        action = "interest.start"
    await session.flush()
    # Recorded as it begins: a run that is then killed is in the audit trail all the same.
    audit.record(
        session,
        actor,
        action,
        f"interest_run:{run.id}",
        region_code=region.code,
        year=year,
        accounts=run.accounts,
        total=run.total,
    )
    return run


def _chunks(low: int | None, high: int | None, size: int) -> list[tuple[int, int]]:
    if low is None or high is None:
        return []
    return [(lo, min(lo + size, high + 1)) for lo in range(low, high + 1, size)]


_COLUMNS = (
    "person_id",
    "region_code",
    "component",
    "kind",
    "amount",
    "value_date",
    "year",
    "interest_run_id",
    "booked_at",
    "memo",
)


async def post_chunk(
    session: AsyncSession, run_id: int, year: int, lo: int, hi: int, region: RegionCode
) -> tuple[int, int]:
    """Book one chunk's interest and count it on the run's record, in one transaction;
    returns (accounts, fen)."""
    try:
        accounts, total = await _book_chunk(session, run_id, year, lo, hi, region)
    except IntegrityError:
        # Another run of the year is crediting the same accounts at this moment: the unique
        # index let only one of them do it. This chunk's work is undone.
        raise DomainError(InterestError.CONCURRENT, year=year) from None
    runs = unscoped(InterestRun)
    await session.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(accounts=runs.c.accounts + accounts, total=runs.c.total + total)
    )
    return accounts, total


def _chunk_txn(run_id: int, year: int, region: RegionCode, booked_at: datetime) -> dict[str, Any]:
    """The transaction that holds a chunk's interest: its person legs and, per village, the
    mirror on the interest income account."""
    return {
        "kind": EntryKind.INTEREST.value,
        "region_code": region.code,
        "value_date": date(year, 12, 31),
        "year": year,
        "interest_run_id": run_id,
        "booked_at": booked_at,
        "memo": f"{year} 年利息",
    }


_FUND_COLUMNS = ("txn_id", "region_code", "account", "amount", "value_date", "year")


async def _book_chunk(
    session: AsyncSession, run_id: int, year: int, lo: int, hi: int, region: RegionCode
) -> tuple[int, int]:
    """Book one chunk's interest as one transaction, move the balances and keep each
    component's carried fraction; returns (accounts, fen)."""
    entries, balances = unscoped(AccountEntry), unscoped(AccountBalance)
    txns, funds = unscoped(LedgerTxn), unscoped(FundEntry)
    booked_at = utcnow()
    rows = _interest_rows(run_id, year, lo, hi, Scope.of([region.prefix]), booked_at)
    txn_values = _chunk_txn(run_id, year, region, booked_at)
    if dialect_of(session) == "postgresql":
        # The window sorts of a chunk need tens of megabytes; 4 MB (the default) spills them
        # to disk. For this transaction only.
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        # A lost chunk is simply posted again (the run is idempotent), so its commit need
        # not wait for the disk.
        await session.execute(text("SET LOCAL synchronous_commit = off"))
        # One statement: the shares computed once; a transaction opened if there is anything
        # to book; the shares booked on it as person legs, mirrored per village on the
        # interest income account; and the balances and carried fractions moved with them.
        shared = rows.cte("shared")
        txn = (
            insert(txns)
            .from_select(
                list(txn_values),
                select(*(literal(v, txns.c[k].type) for k, v in txn_values.items())).where(
                    exists().where(shared.c.amount != 0)
                ),
            )
            .returning(txns.c.id)
            .cte("txn")
        )
        booked = (
            insert(entries)
            .from_select(
                ["txn_id", *_COLUMNS],
                select(txn.c.id, *(shared.c[c] for c in _COLUMNS))
                .select_from(shared)
                .join(txn, true())
                .where(shared.c.amount != 0),
            )
            .returning(
                entries.c.txn_id, entries.c.region_code, entries.c.person_id, entries.c.amount
            )
            .cte("booked")
        )
        mirrored = (
            insert(funds)
            .from_select(
                _FUND_COLUMNS,
                select(
                    booked.c.txn_id,
                    booked.c.region_code,
                    literal(FundAccount.INTEREST.value),
                    -_total(booked.c.amount),
                    literal(date(year, 12, 31), Date),
                    literal(year),
                ).group_by(booked.c.txn_id, booked.c.region_code),
            )
            .cte("mirrored")
        )
        moved = (
            update(balances)
            .where(
                balances.c.person_id == shared.c.person_id,
                balances.c.component == shared.c.component,
            )
            .values(balance=balances.c.balance + shared.c.amount, interest_carry=shared.c.carry)
            .cte("moved")
        )
        summary = await session.execute(
            select(
                func.count(func.distinct(booked.c.person_id)),
                func.coalesce(func.sum(booked.c.amount), 0),
            )
            .add_cte(mirrored)
            .add_cte(moved)
        )
        accounts, total = summary.one()
        return int(accounts), int(total)
    # SQLite has no INSERT or UPDATE inside WITH: the chunk's shares come to Python (SQLite
    # serves a county at most) and go back as batches.
    found = (await session.execute(rows)).mappings().all()
    booking = [{c: row[c] for c in _COLUMNS} for row in found if row["amount"]]
    if booking:
        txn_id = await session.scalar(insert(txns).values(txn_values).returning(txns.c.id))
        await session.execute(insert(entries), [{**row, "txn_id": txn_id} for row in booking])
        by_village: dict[str, int] = {}
        for row in booking:
            by_village[row["region_code"]] = by_village.get(row["region_code"], 0) + row["amount"]
        await session.execute(
            insert(funds),
            [
                {
                    "txn_id": txn_id,
                    "region_code": code,
                    "account": FundAccount.INTEREST.value,
                    "amount": -amount,
                    "value_date": date(year, 12, 31),
                    "year": year,
                }
                for code, amount in by_village.items()
            ],
        )
    if found:
        await session.execute(
            update(balances)
            .where(
                balances.c.person_id == bindparam("whose"),
                balances.c.component == bindparam("which"),
            )
            .values(
                balance=balances.c.balance + bindparam("amount_"),
                interest_carry=bindparam("carry_"),
            ),
            [
                {
                    "whose": row["person_id"],
                    "which": row["component"],
                    "amount_": row["amount"],
                    "carry_": row["carry"],
                }
                for row in found
            ],
        )
    return len({row["person_id"] for row in booking}), sum(row["amount"] for row in booking)


class InterestForm(BaseModel):
    """年度结息 — post a year's interest for a region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Annotated[RegionCodeText, Field(description="结息区划")]
    year: Annotated[Year, Field(description="结息年度")]


class InterestResult(BaseModel):
    run_id: Annotated[int, Ref("InterestRun"), Field(description="结息批次 — the run")]
    accounts: Annotated[int, Field(description="计息账户数")]
    total: Annotated[Amount, Field(description="利息合计")]


class InterestPostingResult(BaseModel):
    run_id: Annotated[int, Ref("InterestRun"), Field(description="结息批次 — the run")]
    job_id: Annotated[
        int, Ref("Job"), Field(description="后台作业 — the background job that posts it")
    ]


class InterestPosting(RegionKind):
    """结息 through the API: finance staff submit, the agency reviews; the approval begins the
    run and queues its chunks as a background job (a province's accounts do not fit in one
    request)."""

    form = InterestForm
    result = InterestPostingResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: InterestForm, today: date
    ) -> Placement:
        region = RegionCode(form.region)
        await check_in_use(session, region)
        if form.year >= today.year:
            raise DomainError(InterestError.YEAR_NOT_OVER, field="year", year=form.year)
        await _check_may_post(session, Scope.of([region.prefix]), region, form.year)
        return Placement(region, form, subject=f"{region.prefix}:{form.year}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: InterestForm,
        today: date,
    ) -> InterestPostingResult:
        region = RegionCode(form.region)
        run_id, chunks = await begin_run(
            session, actor, region, form.year, today=today, application_id=application.id
        )
        job = await jobs.create(
            session,
            actor,
            jobs.JobKind.INTEREST,
            region,
            {"run_id": run_id, "year": form.year},
            chunks,
        )
        return InterestPostingResult(run_id=run_id, job_id=job.id)


async def _job_chunk(session: AsyncSession, job: jobs.Job, chunk: jobs.JobChunk) -> tuple[int, int]:
    return await post_chunk(
        session,
        job.params["run_id"],
        job.params["year"],
        chunk.lo,
        chunk.hi,
        RegionCode(job.region_code),
    )


async def _job_finish(session: AsyncSession, job: jobs.Job) -> None:
    await finish_run(session, jobs.WORKER, job.params["run_id"])


jobs.register(jobs.JobKind.INTEREST, jobs.Work(_job_chunk, _job_finish))
