"""待遇暂停记录: a hold stops the payroll paying a recipient — or, for a non-custodial sentence,
keeps paying the amount of the month it began, without later increases — from a month until
the month a reviewed resumption (`jubao.pension.entitlement.pauses`) ends it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.orm import Base, BigId, utcnow
from jubao.pension.entitlement.reasons import HoldReason
from jubao.pension.month import Month
from jubao.tenants.scope import RegionScoped


class BenefitHold(Base, RegionScoped):
    """待遇暂停记录: one pause (or restriction) of a person's pension, from a month until a
    month. A person has at most one open pause, and at most one open restriction."""

    __tablename__ = "benefit_hold"
    __scope_object__ = "benefit"
    __table_args__ = (
        Index(
            "uq_benefit_hold_open",
            "person_id",
            "pays",
            unique=True,
            sqlite_where=text("until_month IS NULL"),
            postgresql_where=text("until_month IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    # paid at the amount of from_month (a restriction) rather than not paid (a pause)
    pays: Mapped[bool]
    began_on: Mapped[date | None] = mapped_column(Date)  # when the reason arose, as reported
    from_month: Mapped[date] = mapped_column(Date)  # first day of the first month held
    until_month: Mapped[date | None] = mapped_column(Date)  # first month paid again
    back_pay: Mapped[bool | None]  # decided when it ends: the held months are paid back
    back_paid_run_id: Mapped[int | None] = mapped_column(ForeignKey("payroll_run.id"))
    # a missed verification: the verification made since, which allows the resumption
    verification_id: Mapped[int | None] = mapped_column(ForeignKey("verification.id"))
    opened_by_application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    closed_by_application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(200))

    @property
    def why(self) -> HoldReason:
        return HoldReason(self.reason)

    @property
    def start(self) -> Month:
        return Month.of(self.from_month)

    @property
    def end(self) -> Month | None:
        return None if self.until_month is None else Month.of(self.until_month)


async def open_holds(session: AsyncSession, person_id: int) -> list[BenefitHold]:
    rows = await session.scalars(
        select(BenefitHold)
        .where(BenefitHold.person_id == person_id, BenefitHold.until_month.is_(None))
        .order_by(BenefitHold.id)
        .with_for_update()
    )
    return list(rows)
