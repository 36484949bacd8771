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

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode, Lang
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
)
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import unscoped


@dataclass(frozen=True)
class BankResult:
    """One line of a bank's result file, as read: paid or not (with the bank's reason)."""

    line_id: int
    paid: bool
    reason: str | None = None
    reference: str | None = None
    settled_on: date | None = None


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
    result given again is counted as already recorded; one that contradicts it is refused),
    and the money moved out of clearing in one transaction."""
    run = await session.get(PayrollRun, run_id)
    if run is None:
        raise DomainError(PayrollError.NOT_FOUND, field="run")
    actor.require(Obj.PAYROLL, Act.PROCESS, RegionCode(run.region_code), field="run")
    lines = unscoped(PayLine)
    wanted = [r.line_id for r in results]
    found = {
        line.id: line
        for line in (
            await session.execute(
                select(
                    lines.c.id,
                    lines.c.state,
                    lines.c.region_code,
                    lines.c.amount,
                    lines.c.from_account,
                    lines.c.from_pool,
                    *(lines.c[funder.column] for funder in FUNDERS),
                )
                .where(lines.c.run_id == run.id, lines.c.id.in_(wanted))
                .with_for_update()
            )
        ).all()
    }
    refused: list[Refusal] = []
    seen: set[int] = set()
    applying: list[tuple[Any, BankResult]] = []
    already = 0
    for result in results:
        line = found.get(result.line_id)
        if result.line_id in seen:
            refused.append(Refusal(result.line_id, ResultError.TWICE, {"line": result.line_id}))
            continue
        seen.add(result.line_id)
        if line is None:
            refused.append(
                Refusal(
                    result.line_id,
                    ResultError.UNKNOWN_LINE,
                    {"line": result.line_id, "run": run.id},
                )
            )
            continue
        state = LineState(line.state)
        outcome = LineState.PAID if result.paid else LineState.FAILED
        if state is LineState.SENT:
            applying.append((line, result))
        elif state is outcome:
            already += 1
        elif state in (LineState.PAID, LineState.FAILED):
            refused.append(
                Refusal(line.id, ResultError.CONFLICT, {"line": line.id, "state": state.text})
            )
        else:
            refused.append(
                Refusal(line.id, ResultError.NOT_SENT, {"line": line.id, "state": state.text})
            )
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
        if result.paid:
            for funder in FUNDERS:
                funds.add(line.region_code, funder.expense, getattr(line, funder.column))
            funds.add(
                line.region_code, FundAccount.ACCOUNT_PENSION, line.from_account + line.from_pool
            )
        else:
            funds.add(line.region_code, FundAccount.RETURNED, line.amount)
    await insert_legs(session, txn_id, [], funds, today, run.period.year)
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
        [
            {
                "line": line.id,
                "state_": (LineState.PAID if r.paid else LineState.FAILED).value,
                "reason_": None if r.paid else (r.reason or "")[:200],
                "reference_": r.reference,
                "on_": r.settled_on or today,
            }
            for line, r in applying
        ],
    )
