"""注销登记 (rulebook §5.11–5.12): an insurance ended for a reason, by a reviewed application
(village or township → township → county by default); the account closed in one balanced
transaction, what the reason pays out owed to the payee (paid in the county's next one-off
run), what was paid that was not due recovered from it first and the rest owed on a recovery
order, and the person 终止参保. The figures are kept as the 注销登记表.

A death stops the pension from the month after it: whatever was paid for later months is an
overpayment. The refund of a death follows the rule in force on the day of death: since
2014-02-21 the whole balance, before it all but the government subsidies (those go back to the
pool). Someone also receiving an employees' pension (§5.14 art. 8) is refunded the balance
without subsidies, after the basic pension received here is recovered from it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import Base, BigId, hold_lock, utcnow
from jubao.pension.accounts.contributions import paid_years
from jubao.pension.accounts.ledger import (
    Component,
    EntryKind,
    FundAccount,
    LedgerTxn,
    balances,
)
from jubao.pension.benefits.award import payment_open
from jubao.pension.benefits.payroll import (
    FUNDERS,
    FundLegs,
    LineKind,
    LineState,
    PayLine,
    county_of,
    first_open_month,
    insert_legs,
    payroll_lock,
    replaced,
)
from jubao.pension.entitlement.holds import open_holds
from jubao.pension.month import Month
from jubao.pension.people.idnumber import IdNumber
from jubao.pension.people.persons import (
    EventKind,
    Person,
    PersonStatus,
    check_bank_account,
    move_to,
    save_change,
    visible_person,
)
from jubao.pension.policy.params import PolicyBook
from jubao.pension.termination.deaths import DeathReport, DeathSource
from jubao.pension.termination.payouts import Payout
from jubao.pension.termination.reasons import TerminationReason
from jubao.pension.termination.reckoning import Reckoning, funeral_grant, reckon
from jubao.pension.termination.recovery import RecoveryCause, RecoveryOrder, settle_by
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import Amount, Personal, PersonRef
from jubao.tenants.scope import RegionScoped, unscoped
from jubao.text import PERSON_NAME, TextField, quoted

RELATION = TextField("payee.relation", Text("与参保人关系", "The relation"), 20)
PROOF = TextField("proof", Text("证明材料", "The proof"), 200)


class TerminationError(ErrorCode):
    ENDED = ("{name}已终止参保", "{name}'s insurance has already ended")
    DIED_ON = (
        "死亡注销须填写死亡日期（不晚于今天、不早于出生日期）",
        "A death needs its date (not after today, not before the birth)",
    )
    NOT_DEATH = ("只有死亡注销填写死亡日期", "Only a death has a date of death")
    LOCAL_REASON = (
        "本地注销原因“{code}”不在本地政策的原因表中（可选：{known}）",
        "The local reason '{code}' is not in the local policy's list (known: {known})",
    )
    PAYEE = (
        "应支付 {amount} 元：须填写领款人（继承人或本人）及其银行账号",
        "{amount} yuan is to be paid: name the payee (heir or the person) and their bank account",
    )
    RUN_OPEN = (
        "{name}有尚未拨付或银行尚未回盘的待遇（{months}），办结后再注销",
        "{name} has pension lines not yet released or answered by the bank ({months}): finish "
        "them first",
    )
    UNPAID = (
        "{name}有未发放成功的待遇（{months}）：请补录账户（可为继承人账户）补发后再注销",
        "{name} has pension not yet paid ({months}): correct the account (the heir's may do) "
        "and pay it again first",
    )
    PAYMENT_OPEN = (
        "{name}还有待审核的缴费申请，办结后再注销",
        "{name} has a contribution waiting for review: decide it first",
    )


class PayeeForm(BaseModel):
    """领款人 — who is paid: an heir or beneficiary with the document proving the right, or the
    person themself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, PERSON_NAME, Field(description="姓名")]
    id_number: Annotated[str, Personal("id_number"), Field(description="公民身份号码")]
    relation: Annotated[str, RELATION, Field(description="与参保人关系（本人、配偶、子女…）")]
    bank_account: Annotated[str, Personal("bank_account"), Field(description="银行账号或社保卡号")]
    proof: Annotated[
        str | None,
        PROOF,
        Field(description="继承权证明（公证书、派出所或村居证明…）；本人领取可空"),
    ] = None


class TerminationForm(BaseModel):
    """注销登记 — end a person's insurance, and pay out what the reason pays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    reason: Annotated[TerminationReason, Field(description="注销原因")]
    local_reason: Annotated[
        str | None,
        Field(max_length=20, description="本地注销原因代码（原因为 LOCAL 时，按本地政策的原因表）"),
    ] = None
    died_on: Annotated[date | None, Field(description="死亡日期（死亡注销）")] = None
    proof: Annotated[str, PROOF, Field(description="证明材料（死亡证明、火化证明、户籍注销证明…）")]
    payee: Annotated[PayeeForm | None, Field(description="领款人")] = None
    fraud: Annotated[
        bool, Field(description="冒领系欺诈（另处罚款，按政策倍数） — obtained by fraud")
    ] = False


class TerminationResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    refund: Annotated[Amount, Field(description="个人账户余额支付")]
    to_pool: Annotated[Amount, Field(description="划回统筹基金")]
    funeral: Annotated[Amount, Field(description="丧葬补助金")]
    overpaid: Annotated[Amount, Field(description="应追回金额")]
    recovered: Annotated[Amount, Field(description="从支付中扣回")]
    payout: Annotated[Amount, Field(description="实际支付")]
    owed: Annotated[Amount, Field(description="尚欠（含罚款）")]


class Termination(Base, RegionScoped):
    """注销登记表: an ended insurance and its figures, kept unchanged."""

    __tablename__ = "termination"
    __scope_object__ = "termination"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    reason: Mapped[str] = mapped_column(String(20))
    local_reason: Mapped[str | None] = mapped_column(String(20))  # LOCAL: the policy's code
    died_on: Mapped[date | None] = mapped_column(Date)
    proof: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(20))
    balances: Mapped[dict[str, int]] = mapped_column(JSON)  # the account when it closed
    refund: Mapped[int] = mapped_column(BigInteger)
    to_pool: Mapped[int] = mapped_column(BigInteger)
    funeral: Mapped[int] = mapped_column(BigInteger)
    overpaid: Mapped[int] = mapped_column(BigInteger)
    recovered: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[int] = mapped_column(BigInteger)
    terminated_at: Mapped[datetime] = mapped_column(default=utcnow)
    terminated_by: Mapped[str] = mapped_column(String(100))


def _months(rows: list[Any]) -> str:
    return "、".join(sorted({str(Month.of(m)) for m in rows}))


async def _check_lines(session: AsyncSession, person: Person, last_due: Month | None) -> None:
    """No line in flight, none unpaid that the person was due (the months up to ``last_due``,
    all when None)."""
    lines = unscoped(PayLine)
    in_flight = list(
        await session.scalars(
            select(lines.c.month).where(
                lines.c.person_id == person.id,
                lines.c.state.in_((LineState.PENDING.value, LineState.SENT.value)),
            )
        )
    )
    if in_flight:
        raise DomainError(
            TerminationError.RUN_OPEN, field="person", name=person.name, months=_months(in_flight)
        )
    unpaid = select(lines.c.month).where(
        lines.c.person_id == person.id,
        lines.c.state.in_((LineState.FAILED.value, LineState.HELD.value)),
        ~replaced(lines.c.id),
    )
    if last_due is not None:
        unpaid = unpaid.where(lines.c.month <= last_due.first_day)
    owed = list(await session.scalars(unpaid))
    if owed:
        raise DomainError(
            TerminationError.UNPAID, field="person", name=person.name, months=_months(owed)
        )


async def _overpaid(
    session: AsyncSession, person: Person, form: TerminationForm, recover_pool: bool
) -> int:
    """What was paid that was not due: for a death, every line for a month after it; for a
    pension elsewhere, the basic pension received (and, where the policy says so, the account
    pension the pool paid)."""
    lines = unscoped(PayLine)
    paid = [
        lines.c.person_id == person.id,
        lines.c.state == LineState.PAID.value,
        lines.c.kind != LineKind.PAYOUT.value,
    ]
    if form.reason is TerminationReason.DEATH and form.died_on is not None:
        after = Month.of(form.died_on).next().first_day
        amount = await session.scalar(
            select(func.coalesce(func.sum(lines.c.amount), 0)).where(*paid, lines.c.month >= after)
        )
        return int(amount or 0)
    if form.reason is TerminationReason.OTHER_PENSION:
        columns = [lines.c[f.column] for f in FUNDERS]
        if recover_pool:
            columns.append(lines.c.from_pool)
        received: Any = sum(columns[1:], columns[0])
        amount = await session.scalar(select(func.coalesce(func.sum(received), 0)).where(*paid))
        return int(amount or 0)
    return 0


async def reckoning_of(
    session: AsyncSession, person: Person, form: TerminationForm, today: date
) -> Reckoning:
    """Every check, and the figures of closing the account as the records stand."""
    status = person.current_status
    if status is PersonStatus.TERMINATED:
        raise DomainError(TerminationError.ENDED, field="person", name=person.name)
    death = form.reason is TerminationReason.DEATH
    if death and (form.died_on is None or form.died_on > today or form.died_on < person.birth_date):
        raise DomainError(TerminationError.DIED_ON, field="diedOn")
    if not death and form.died_on is not None:
        raise DomainError(TerminationError.NOT_DEATH, field="diedOn")
    if await payment_open(session, person):
        raise DomainError(TerminationError.PAYMENT_OPEN, field="person", name=person.name)
    when = form.died_on if form.died_on is not None else today
    await _check_lines(session, person, Month.of(when) if death else None)
    policy = await PolicyBook(session).for_month(person.region, Month.of(when))
    rules = policy.termination
    scope = rules.refund[form.reason]
    if form.reason is TerminationReason.LOCAL or form.local_reason is not None:
        local = rules.local(form.local_reason) if form.reason is TerminationReason.LOCAL else None
        if local is None:
            known = "、".join(r.code for r in rules.local_reasons) or "无"
            raise DomainError(
                TerminationError.LOCAL_REASON,
                field="localReason",
                code=quoted(form.local_reason or ""),
                known=known,
            )
        scope = local.refund
    if death and form.died_on is not None and form.died_on < rules.death_rule_from:
        scope = rules.death_before
    receiving = status in (PersonStatus.RECEIVING, PersonStatus.BENEFIT_SUSPENDED)
    funeral = (
        funeral_grant(
            rules.funeral,
            receiving=receiving,
            years=len(await paid_years(session, person.id)),
            standard=policy.basic_pension_rules.monthly,
        )
        if death
        else 0
    )
    overpaid = await _overpaid(session, person, form, rules.recover_pool_pension)
    found = (await balances(session, [person.id])).get(person.id, {})
    reckoning = reckon(
        {Component(c): a for c, a in found.items()},
        scope,
        funeral=funeral,
        overpaid=overpaid,
        fine=overpaid * rules.fraud_fine if form.fraud else 0,
    )
    if reckoning.payout:
        if form.payee is None:
            raise DomainError(
                TerminationError.PAYEE, field="payee", amount=f"{reckoning.payout / 100:.2f}"
            )
        IdNumber.parse(form.payee.id_number, today=today, field="payee.idNumber")
        check_bank_account(form.payee.bank_account, field="payee.bankAccount")
    return reckoning


class TerminationKind(PersonKind):
    """注销登记: the insurance ends; the money as the reason says."""

    form = TerminationForm
    result = TerminationResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: TerminationForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        await reckoning_of(session, person, form, today)
        return Placement(person.region, form, person.id, subject=f"person:{person.id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: TerminationForm,
        today: date,
    ) -> TerminationResult:
        person = await visible_person(session, form.person_id)
        # a run of the county being prepared must not pay them meanwhile: wait for it
        await hold_lock(session, payroll_lock(county_of(person.region)))
        figures = await reckoning_of(session, person, form, today)
        await _book(session, person, figures, today)
        if figures.payout and form.payee is not None:
            payee = form.payee
            session.add(
                Payout(
                    person_id=person.id,
                    region_code=person.region_code,
                    application_id=application.id,
                    payee_name=payee.name,
                    payee_id_number=IdNumber.parse(payee.id_number, today=today).value,
                    relation=payee.relation,
                    proof=payee.proof,
                    bank_account=payee.bank_account,
                    amount=figures.payout,
                    items=[
                        {"account": FundAccount(f"expense.{k}").value, "amount": v}
                        for k, v in figures.paid_as().items()
                        if v
                    ],
                )
            )
        if figures.overpaid or figures.fine:
            cause = (
                RecoveryCause.AFTER_DEATH
                if form.reason is TerminationReason.DEATH
                else RecoveryCause.OTHER_PENSION
            )
            order = RecoveryOrder(
                person_id=person.id,
                region_code=person.region_code,
                application_id=application.id,
                cause=cause.value,
                overpaid=figures.overpaid,
                fine=figures.fine,
                recovered=0,
                made_on=today,
            )
            settle_by(order, figures.recovered, today)
            session.add(order)
        if form.reason is TerminationReason.DEATH and form.died_on is not None:
            reported = await session.scalar(
                select(DeathReport.id).where(
                    DeathReport.person_id == person.id,
                    DeathReport.source == DeathSource.REPORT.value,
                )
            )
            if reported is None:
                session.add(
                    DeathReport(
                        person_id=person.id,
                        region_code=person.region_code,
                        source=DeathSource.REPORT.value,
                        died_on=form.died_on,
                        recorded_by=actor.label,
                    )
                )
        month = await first_open_month(session, county_of(person.region), Month.of(today))
        for hold in await open_holds(session, person.id):
            hold.until_month = max(month, hold.start).first_day
            hold.back_pay = False
            hold.closed_by_application_id = application.id
            hold.closed_at = utcnow()
        session.add(
            Termination(
                person_id=person.id,
                region_code=person.region_code,
                application_id=application.id,
                reason=form.reason.value,
                local_reason=form.local_reason,
                died_on=form.died_on,
                proof=form.proof,
                scope=figures.scope.value,
                balances={c.value: a for c, a in figures.balances.items()},
                refund=figures.refund,
                to_pool=sum(figures.to_pool.values()),
                funeral=figures.funeral,
                overpaid=figures.overpaid,
                recovered=figures.recovered,
                payout=figures.payout,
                terminated_by=actor.label,
            )
        )
        before = person.status
        move_to(person, PersonStatus.TERMINATED)
        await save_change(
            session,
            actor,
            person,
            EventKind.TERMINATED,
            application_id=application.id,
            before={"status": before},
            after={"status": person.status, "reason": form.reason.text.zh},
        )
        return TerminationResult(
            person_id=person.id,
            refund=figures.refund,
            to_pool=sum(figures.to_pool.values()),
            funeral=figures.funeral,
            overpaid=figures.overpaid,
            recovered=figures.recovered,
            payout=figures.payout,
            owed=figures.owed,
        )


async def _book(session: AsyncSession, person: Person, figures: Reckoning, today: date) -> None:
    """注销结算 in one balanced transaction: the account emptied; the refund held for the payee
    with the funeral grant (the county's money), less what goes back to the fund towards the
    overpayment; the rest of the account back to the pool."""
    if not (figures.balances or figures.funeral):
        return
    txn_id = await session.scalar(
        insert(LedgerTxn)
        .values(
            kind=EntryKind.TERMINATION.value,
            region_code=person.region_code,
            value_date=today,
            year=today.year,
            booked_at=utcnow(),
            memo="注销结算",
        )
        .returning(LedgerTxn.id)
    )
    assert txn_id is not None
    village = person.region_code
    person_legs = [
        {
            "txn_id": txn_id,
            "person_id": person.id,
            "region_code": village,
            "component": component.value,
            "kind": EntryKind.TERMINATION.value,
            "amount": -amount,
            "value_date": today,
            "year": today.year,
            "booked_at": utcnow(),
            "memo": "注销结算",
        }
        for component, amount in sorted(figures.balances.items())
        if amount
    ]
    funds = FundLegs()
    funds.add(village, FundAccount.POOL, sum(figures.to_pool.values()))
    funds.add(village, FundAccount.FUNERAL_INCOME, -figures.funeral)
    funds.add(village, FundAccount.PAYOUT, figures.payout)
    funds.add(village, FundAccount.RECOVERED, figures.recovered)
    await insert_legs(session, txn_id, person_legs, funds, today, today.year)
