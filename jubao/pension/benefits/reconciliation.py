"""账账相符: a payroll run's figures from its pay lines against the sums over its legs.

Each check reckons one figure two ways — from the lines' states and amounts, and from the legs
of the run's ledger transactions — and holds when both agree to the fen: what was released is
what went into bank clearing; what awaits the bank is clearing's balance; failures are what
came back to be paid again; the account pension paid from accounts is what the accounts were
debited; and each spending account (basic pension by funding level, account pension) is the
lines the bank paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.errors import DomainError, Text
from jubao.pension.accounts.ledger import (
    AccountEntry,
    EntryKind,
    FundAccount,
    FundEntry,
    LedgerTxn,
    TxnKind,
)
from jubao.pension.benefits.payroll import Funder, LineState, PayLine, PayrollError, PayrollRun
from jubao.tenants.scope import unscoped


@dataclass(frozen=True)
class Check:
    """One figure reckoned two ways: from the pay lines and from the ledger's legs."""

    name: Text
    lines: int
    ledger: int

    @property
    def ok(self) -> bool:
        return self.lines == self.ledger


async def reconcile(session: AsyncSession, run_id: int) -> list[Check]:
    """A run's figures from its lines against the sums over its transactions' legs."""
    run = await session.get(PayrollRun, run_id)
    if run is None:
        raise DomainError(PayrollError.NOT_FOUND, field="run")
    lines, txns = unscoped(PayLine), unscoped(LedgerTxn)
    funds, entries = unscoped(FundEntry), unscoped(AccountEntry)
    of_run = lines.c.run_id == run.id

    async def line_sum(value: Any, *states: LineState, extra: Any = True) -> int:
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(value), 0)).where(
                    of_run, lines.c.state.in_([s.value for s in states]), extra
                )
            )
            or 0
        )

    async def leg_sum(account: FundAccount, kind: EntryKind | TxnKind | None = None) -> int:
        where = [txns.c.payroll_run_id == run.id, funds.c.account == account.value]
        if kind is not None:
            where.append(txns.c.kind == kind.value)
        return int(
            await session.scalar(
                select(func.coalesce(func.sum(funds.c.amount), 0))
                .select_from(funds)
                .join(txns, txns.c.id == funds.c.txn_id)
                .where(*where)
            )
            or 0
        )

    sent = (LineState.SENT, LineState.PAID, LineState.FAILED)
    debited = await session.scalar(
        select(func.coalesce(func.sum(entries.c.amount), 0))
        .select_from(entries)
        .join(txns, txns.c.id == entries.c.txn_id)
        .where(txns.c.payroll_run_id == run.id)
    )
    checks = [
        Check(
            Text("拨付总额 = 银行待清算入账", "released = credited to clearing"),
            await line_sum(lines.c.amount, *sent),
            await leg_sum(FundAccount.CLEARING, EntryKind.PENSION),
        ),
        Check(
            Text("未回盘金额 = 银行待清算余额", "awaiting the bank = clearing balance"),
            await line_sum(lines.c.amount, LineState.SENT),
            await leg_sum(FundAccount.CLEARING),
        ),
        Check(
            Text("发放失败金额 = 发放失败待重发", "failed = returned for paying again"),
            await line_sum(lines.c.amount, LineState.FAILED),
            await leg_sum(FundAccount.RETURNED, TxnKind.BANK_RESULT),
        ),
        Check(
            Text("个人账户支出 = 个人账户冲减", "paid from accounts = account debits"),
            await line_sum(lines.c.from_account, *sent, extra=~lines.c.from_returned),
            -int(debited or 0),
        ),
        Check(
            Text("个人账户养老金支出", "account pension spending"),
            await line_sum(lines.c.from_account + lines.c.from_pool, LineState.PAID),
            await leg_sum(FundAccount.ACCOUNT_PENSION),
        ),
    ]
    for funder in Funder:
        checks.append(
            Check(
                Text(
                    f"基础养老金支出（{_FUNDER_ZH[funder]}）", f"basic pension spending ({funder})"
                ),
                await line_sum(lines.c[f"basic_{funder.value}"], LineState.PAID),
                await leg_sum(funder.expense),
            )
        )
    return checks


_FUNDER_ZH = {
    Funder.NATIONAL: "中央",
    Funder.PROVINCE: "省级",
    Funder.CITY: "市级",
    Funder.COUNTY: "县级",
}
