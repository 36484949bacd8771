"""追回: what was paid that was not due — pensions for months after a death (冒领), the basic
pension received beside another statutory pension — owed back until settled.

An order is made when the insurance ends, for the overpayment and, for a fraud, the fine (2–5
times, 经办条例 第五十五条). What the payout covers is taken from it at once; the rest is repaid
later (at the counter, by instalments: a reviewed 追回款缴回 application each), the overpayment
first, then the fine. The overpayment's money goes back into the fund (追回待遇款); a fine is
the treasury's, held for it apart.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Date, ForeignKey, String, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import Base, BigId, utcnow
from jubao.pension.accounts.ledger import FundAccount, LedgerTxn, TxnKind
from jubao.pension.benefits.payroll import FundLegs, insert_legs
from jubao.pension.people.persons import visible_person
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import PersonKind, Placement
from jubao.pension.workflow.forms import Amount, PersonRef
from jubao.tenants.scope import RegionScoped
from jubao.text import REASON


class RecoveryCause(StrEnum):
    AFTER_DEATH = "after_death"  # 死亡后冒领
    OTHER_PENSION = "other_pension"  # 重复领取（已享受职工养老保险待遇）

    @property
    def text(self) -> Text:
        return Text(
            {"after_death": "死亡后冒领", "other_pension": "重复领取待遇"}[self.value],
            self.value.replace("_", " "),
        )


class RecoveryOrder(Base, RegionScoped):
    """追回单: what one person (or their estate) owes the fund, and how much is settled."""

    __tablename__ = "recovery_order"
    __scope_object__ = "benefit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    cause: Mapped[str] = mapped_column(String(20))
    overpaid: Mapped[int] = mapped_column(BigInteger)  # fen
    fine: Mapped[int] = mapped_column(BigInteger, default=0)
    recovered: Mapped[int] = mapped_column(BigInteger, default=0)  # of both, overpayment first
    made_on: Mapped[date] = mapped_column(Date)
    settled_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def due(self) -> int:
        return self.overpaid + self.fine

    @property
    def outstanding(self) -> int:
        return self.due - self.recovered


class RecoveryError(ErrorCode):
    NO_ORDER = ("找不到该追回单", "No such recovery order")
    SETTLED = ("该追回单已结清", "The recovery order is settled")
    TOO_MUCH = (
        "缴回金额 {amount} 元超过尚欠的 {outstanding} 元",
        "{amount} yuan is more than the {outstanding} yuan still owed",
    )


def recovered_legs(funds: FundLegs, order: RecoveryOrder, amount: int) -> None:
    """The legs of ``amount`` recovered towards ``order`` (its fund side): the overpayment's
    share into the fund, the fine's into the treasury's holding."""
    to_overpayment = max(0, min(amount, order.overpaid - order.recovered))
    funds.add(order.region_code, FundAccount.RECOVERED, to_overpayment)
    funds.add(order.region_code, FundAccount.FINES, amount - to_overpayment)


def settle_by(order: RecoveryOrder, amount: int, today: date) -> None:
    order.recovered += amount
    if order.outstanding == 0:
        order.settled_on = today


class RepaymentForm(BaseModel):
    """追回款缴回 — money paid back towards a recovery order (at the counter or by transfer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Annotated[PersonRef, Field(description="参保人")]
    order_id: Annotated[int, Field(description="追回单编号")]
    amount: Annotated[Amount, Field(gt=0, description="缴回金额")]
    note: Annotated[str, REASON, Field(description="缴款凭证 — the receipt")]


class RepaymentResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人")]
    order_id: Annotated[int, Field(description="追回单编号")]
    outstanding: Annotated[Amount, Field(description="尚欠金额")]


async def _order(session: AsyncSession, form: RepaymentForm) -> RecoveryOrder:
    order = await session.get(RecoveryOrder, form.order_id, with_for_update=True)
    if order is None or order.person_id != form.person_id:
        raise DomainError(RecoveryError.NO_ORDER, field="orderId")
    if order.outstanding <= 0:
        raise DomainError(RecoveryError.SETTLED, field="orderId")
    if form.amount > order.outstanding:
        raise DomainError(
            RecoveryError.TOO_MUCH,
            field="amount",
            amount=f"{form.amount / 100:.2f}",
            outstanding=f"{order.outstanding / 100:.2f}",
        )
    return order


class Repayment(PersonKind):
    """追回款缴回: the money comes in (退回待遇收入) and settles the order, once reviewed."""

    form = RepaymentForm
    result = RepaymentResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: RepaymentForm, today: date
    ) -> Placement:
        person = await visible_person(session, form.person_id)
        await _order(session, form)
        return Placement(person.region, form, person.id, subject=f"recovery:{form.order_id}")

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: RepaymentForm,
        today: date,
    ) -> RepaymentResult:
        order = await _order(session, form)
        txn_id = await session.scalar(
            insert(LedgerTxn)
            .values(
                kind=TxnKind.RECOVERY.value,
                region_code=order.region_code,
                value_date=today,
                year=today.year,
                booked_at=utcnow(),
                memo=f"追回款缴回（追回单 {order.id}）",
            )
            .returning(LedgerTxn.id)
        )
        assert txn_id is not None
        funds = FundLegs()
        funds.add(order.region_code, FundAccount.REPAID, -form.amount)
        recovered_legs(funds, order, form.amount)
        await insert_legs(session, txn_id, [], funds, today, today.year)
        settle_by(order, form.amount, today)
        await session.flush()
        return RepaymentResult(
            person_id=order.person_id, order_id=order.id, outstanding=order.outstanding
        )
