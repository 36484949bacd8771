"""银行回盘: recording a bank's results for a released payroll run.

Each line the bank was sent is paid or failed once: a result given again (the file imported
twice) is counted as already recorded, one that contradicts it is refused, and the money of the
lines recorded moves out of the bank clearing account in one balanced transaction — into the
spending accounts by funding level when paid, into 发放失败待重发 when not, from where a
supplementary run pays it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode, Lang, Text
from jubao.orm import dialect_of
from jubao.pension.accounts.ledger import FundAccount, TxnKind
from jubao.pension.benefits.payroll import (
    FUNDERS,
    FundLegs,
    LineState,
    PayLine,
    PayrollError,
    PayrollRun,
    insert_legs,
    open_txn,
    spending,
)
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import unscoped


@dataclass(frozen=True)
class BankResult:
    """One line of a bank's result file, as read: paid or not (with the bank's reason), and
    the amount and account the bank says it paid, where its file gives them."""

    line_id: int
    paid: bool
    reason: str | None = None
    reference: str | None = None
    settled_on: date | None = None
    amount: int | None = None
    bank_account: str | None = None


# what a result file may say of a line besides its outcome, named as in refusals
_AMOUNT = Text("发放金额", "amount")
_ACCOUNT = Text("银行账号", "bank account")


class ResultError(ErrorCode):
    UNKNOWN_LINE = ("发放明细 {line} 不属于批次 {run}", "Pay line {line} is not in run {run}")
    NOT_SENT = (
        "发放明细 {line} 未送银行（{state}），不能登记结果",
        "Pay line {line} was not sent to the bank ({state}): no result can be recorded",
    )
    CONFLICT = (
        "发放明细 {line} 已登记为“{state}”，与本次结果不符",
        "Pay line {line} is already recorded as {state}, unlike this result",
    )
    TWICE = ("发放明细 {line} 在文件中出现多次", "Pay line {line} appears more than once")
    MISMATCH = (
        "明细 {line} 的{column}与发放时不符",
        "Line {line}: the {column} differs from what was sent",
    )


@dataclass(frozen=True)
class Refusal:
    line_id: int
    code: ErrorCode
    params: dict[str, Any]

    def message(self, lang: Lang) -> str:
        return self.code.message(lang, **self.params)


@dataclass(frozen=True)
class Settlement:
    paid: int  # lines newly recorded as paid
    failed: int
    already: int  # results recorded before (the file imported again)
    refused: list[Refusal]

    def describe(self, lang: Lang) -> list[str]:
        return [f"{refusal.line_id}: {refusal.message(lang)}" for refusal in self.refused]


async def settle(
    session: AsyncSession,
    actor: Actor,
    run_id: int,
    results: Sequence[BankResult],
    *,
    today: date,
) -> Settlement:
    """Record the bank's results for a released run: each sent line paid or failed, once (a
    result given again is counted as already recorded; one that contradicts it, or names
    another amount or account than was sent, is refused), and the money moved out of
    clearing in one transaction."""
    # The run's row is the lock: results for one run are recorded one file at a time, so the
    # lines read below cannot change before they are written (one lock, not one per line).
    run = await session.get(PayrollRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise DomainError(PayrollError.NOT_FOUND, field="run")
    actor.require(Obj.PAYROLL, Act.PROCESS, RegionCode(run.region_code), field="run")
    lines = unscoped(PayLine)
    # the whole run in one read (a result file covers most of it): no list of ids to send
    found = {
        line.id: line
        for line in await session.execute(
            select(
                lines.c.id,
                lines.c.state,
                lines.c.region_code,
                lines.c.amount,
                lines.c.bank_account,
                lines.c.from_account,
                lines.c.from_pool,
                # a payout's spending (pension lines' items are not read: a million of them)
                case((lines.c.payee_name.is_not(None), lines.c["items"])).label("items"),
                *(lines.c[funder.column] for funder in FUNDERS),
            ).where(lines.c.run_id == run.id)
        )
    }
    refused: list[Refusal] = []
    seen: set[int] = set()
    applying: list[tuple[Any, BankResult]] = []
    already = 0
    for result in results:
        line = found.get(result.line_id)
        refusal = _refusal(run, line, result, seen)
        seen.add(result.line_id)
        if refusal is not None:
            refused.append(refusal)
        elif line is not None and LineState(line.state) is LineState.SENT:
            applying.append((line, result))
        else:
            already += 1
    if applying:
        await _book_results(session, run, applying, today)
    paid = sum(1 for _, r in applying if r.paid)
    audit.record(
        session,
        actor,
        "payroll.settle",
        f"payroll_run:{run.id}",
        region_code=run.region_code,
        paid=paid,
        failed=len(applying) - paid,
        already=already,
        refused=len(refused),
    )
    return Settlement(paid, len(applying) - paid, already, refused)


def _refusal(run: PayrollRun, line: Any, result: BankResult, seen: set[int]) -> Refusal | None:
    """Why a result cannot be recorded for ``line`` (None: it can, or it was before)."""
    number = result.line_id
    if number in seen:
        return Refusal(number, ResultError.TWICE, {"line": number})
    if line is None:
        return Refusal(number, ResultError.UNKNOWN_LINE, {"line": number, "run": run.id})
    wrong = (
        _AMOUNT
        if result.amount is not None and result.amount != line.amount
        else _ACCOUNT
        if result.bank_account is not None and result.bank_account != line.bank_account
        else None
    )
    if wrong is not None:
        return Refusal(number, ResultError.MISMATCH, {"line": number, "column": wrong})
    state = LineState(line.state)
    outcome = LineState.PAID if result.paid else LineState.FAILED
    if state in (LineState.SENT, outcome):
        return None
    code = (
        ResultError.CONFLICT
        if state in (LineState.PAID, LineState.FAILED)
        else ResultError.NOT_SENT
    )
    return Refusal(number, code, {"line": number, "state": state.text})


async def _book_results(
    session: AsyncSession, run: PayrollRun, applying: list[tuple[Any, BankResult]], today: date
) -> None:
    txn_id = await session.scalar(
        open_txn(TxnKind.BANK_RESULT, run, today, f"{run.period} 银行发放结果（批次 {run.id}）")
    )
    assert txn_id is not None
    funds = FundLegs()
    for line, result in applying:
        funds.add(line.region_code, FundAccount.CLEARING, -line.amount)
        paid_as = spending(line.items) if result.paid and line.items else None
        if paid_as is not None:
            for account, amount in paid_as:
                funds.add(line.region_code, account, amount)
        elif result.paid:
            for funder in FUNDERS:
                funds.add(line.region_code, funder.expense, getattr(line, funder.column))
            funds.add(
                line.region_code, FundAccount.ACCOUNT_PENSION, line.from_account + line.from_pool
            )
        else:
            funds.add(line.region_code, FundAccount.RETURNED, line.amount)
    await insert_legs(session, txn_id, [], funds, today, run.period.year)
    outcomes = [
        (
            line.id,
            (LineState.PAID if r.paid else LineState.FAILED).value,
            None if r.paid else (r.reason or "")[:200],
            None if r.reference is None else r.reference[:64],
            r.settled_on or today,
        )
        for line, r in applying
    ]
    if dialect_of(session) == "postgresql":
        # one statement for the run, its outcomes as arrays: a statement per line costs a
        # province's import minutes
        arrays = zip(*outcomes, strict=True)
        await session.execute(_SETTLE, dict(zip(_OUTCOME, map(list, arrays), strict=True)))
        return
    lines = unscoped(PayLine)
    await session.execute(
        update(lines)
        .where(lines.c.id == bindparam("line"))
        .values(
            state=bindparam("state_"),
            reason=bindparam("reason_"),
            bank_reference=bindparam("reference_"),
            settled_on=bindparam("on_"),
        ),
        [dict(zip(_OUTCOME, outcome, strict=True)) for outcome in outcomes],
    )


_OUTCOME = ("line", "state_", "reason_", "reference_", "on_")  # (named apart from the columns)
_SETTLE = text(
    """
    UPDATE pay_line l
    SET state = r.state, reason = r.reason, bank_reference = r.reference, settled_on = r.settled_on
    FROM unnest(CAST(:line AS bigint[]), CAST(:state_ AS varchar[]),
                CAST(:reason_ AS varchar[]), CAST(:reference_ AS varchar[]), CAST(:on_ AS date[]))
         AS r(id, state, reason, reference, settled_on)
    WHERE l.id = r.id
    """
)
