"""一次性支付: what ending an insurance pays out (the refund, a funeral grant, less what was
recovered), to the payee — an heir with the document that proves the right, or the person —
through the payroll's own path: a county's one-off run, prepared, reviewed and released by three
people, written to the bank's file and settled from the bank's answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError
from jubao.orm import Base, BigId, insert_many, utcnow
from jubao.pension.benefits.payroll import (
    FUNDERS,
    LineKind,
    LineState,
    PayLine,
    PayrollError,
    PayrollRun,
    RunKind,
    RunState,
    check_county,
    count_run,
)
from jubao.pension.month import Month
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import RegionScoped, Scope, unscoped


class Payout(Base, RegionScoped):
    """一次性支付: one payment owed by an ended insurance, until a run pays it."""

    __tablename__ = "payout"
    __scope_object__ = "payroll"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    payee_name: Mapped[str] = mapped_column(String(50))
    payee_id_number: Mapped[str] = mapped_column(String(18))
    relation: Mapped[str] = mapped_column(String(20))  # 本人, 配偶, 子女, …
    proof: Mapped[str | None] = mapped_column(String(200))  # the document proving the right
    bank_account: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int] = mapped_column(BigInteger)
    # [{"account": "expense.refund" | "expense.funeral", "amount": fen}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("pay_line.id"), unique=True)


async def prepare_payouts(
    session: AsyncSession, actor: Actor, region: RegionCode, *, today: date
) -> PayrollRun:
    """A county's one-off run: every payout not yet in a run, a line each."""
    county = check_county(region)
    actor.require(Obj.BENEFIT, Act.PROCESS, county, field="region")
    payouts = unscoped(Payout)
    waiting = (
        await session.execute(
            select(payouts)
            .where(
                Scope.of([county.prefix]).clause(payouts.c.region_code), payouts.c.line_id.is_(None)
            )
            .order_by(payouts.c.id)
            .with_for_update()
        )
    ).all()
    if not waiting:
        raise DomainError(PayrollError.NOTHING, field="region", region=county.code)
    run = PayrollRun(
        region_code=county.code,
        month=Month.of(today).first_day,
        kind=RunKind.ONE_OFF.value,
        state=RunState.PREPARED.value,
        prepared_by=actor.operator_id,
        prepared_by_name=actor.label,
        prepared_at=utcnow(),
    )
    session.add(run)
    await session.flush()
    columns = (
        "run_id",
        "person_id",
        "region_code",
        "month",
        "kind",
        "state",
        "amount",
        "items",
        "bank_account",
        "payee_name",
        "payee_id_number",
        "from_returned",
        "from_account",
        "from_pool",
        *(f.column for f in FUNDERS),
    )
    await insert_many(
        session,
        unscoped(PayLine),
        columns,
        [
            (
                run.id,
                p.person_id,
                p.region_code,
                run.month,
                LineKind.PAYOUT.value,
                LineState.PENDING.value,
                p.amount,
                p.items,
                p.bank_account,
                p.payee_name,
                p.payee_id_number,
                False,
                0,
                0,
                *(0 for _ in FUNDERS),
            )
            for p in waiting
        ],
    )
    lines = unscoped(PayLine)
    found = dict(
        (
            await session.execute(
                select(lines.c.person_id, lines.c.id).where(lines.c.run_id == run.id)
            )
        ).all()
    )
    for payout in waiting:
        try:
            await session.execute(
                payouts.update()
                .where(payouts.c.id == payout.id, payouts.c.line_id.is_(None))
                .values(line_id=found[payout.person_id])
            )
        except IntegrityError:  # (a line is one payout's)
            raise DomainError(PayrollError.CONCURRENT, field="region", run=run.id) from None
    await count_run(session, run)
    audit.record(
        session,
        actor,
        "payroll.prepare",
        f"payroll_run:{run.id}",
        region_code=county.code,
        kind=RunKind.ONE_OFF.value,
        lines=run.lines,
        total=run.total,
    )
    return run
