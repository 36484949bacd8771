"""资格认证 and 暂停 in the API: a recipient's verification cycle and pauses, recording a
verification, and the villages' lists of who is due, overdue and paused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import strawberry

from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError
from jubao.pension.entitlement import verification
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.entitlement.reasons import HoldReason
from jubao.pension.entitlement.verification import ListKind, Method, Verification
from jubao.pension.month import Month
from jubao.pension.people.persons import Person, PersonError, visible_person
from jubao.platform.api.applications import Application
from jubao.platform.api.context import Info
from jubao.platform.api.ids import INT64, int_key_of
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First
from jubao.platform.api.people import PersonNode, person_page
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.user_errors import UserError, attempt
from jubao.tenants.codes import RegionCode


@strawberry.type(name="Verification", description="资格认证记录 — one verification")
class VerificationNode:
    verified_on: date = strawberry.field(description="认证日期")
    method: Method = strawberry.field(description="认证方式")
    source: str | None = strawberry.field(description="数据比对的来源文件 — a data file's name")
    recorded_by: str = strawberry.field(description="记录人")
    recorded_at: datetime = strawberry.field(description="记录时间")

    @classmethod
    def of(cls, row: Verification) -> Self:
        return cls(
            verified_on=row.verified_on,
            method=Method(row.method),
            source=row.source,
            recorded_by=row.recorded_by_name,
            recorded_at=row.recorded_at,
        )


@strawberry.type(description="资格认证状态 — where a recipient stands in the verification cycle")
class VerificationStatus:
    cycle_start: Month = strawberry.field(description="本认证期起始年月")
    cycle_months: int = strawberry.field(description="认证周期（月）")
    due_month: Month = strawberry.field(
        description="最迟认证年月 — the last month of the cycle; not verified by then, the "
        "pension is paused from the first month not yet prepared after it"
    )
    last: VerificationNode | None = strawberry.field(description="最近一次认证（无则为空）")


@strawberry.type(
    name="BenefitHold", description="待遇暂停记录 — a pause (or restriction) of a pension"
)
class BenefitHoldNode:
    reason: HoldReason = strawberry.field(description="原因")
    pays: bool = strawberry.field(
        description="照发（按开始月份的标准，不参加调待）而非停发 — paid, without increases"
    )
    began_on: date | None = strawberry.field(description="原因发生日期")
    from_month: Month = strawberry.field(description="暂停起始年月")
    until_month: Month | None = strawberry.field(description="恢复发放年月（未恢复为空）")
    back_pay: bool | None = strawberry.field(
        description="暂停期间是否补发（恢复时决定；未恢复为空）"
    )
    note: str | None = strawberry.field(description="依据")

    @classmethod
    def of(cls, row: BenefitHold) -> Self:
        return cls(
            reason=row.why,
            pays=row.pays,
            began_on=row.began_on,
            from_month=row.start,
            until_month=row.end,
            back_pay=row.back_pay,
            note=row.note,
        )


async def verification_of(info: Info, person: Person) -> VerificationStatus | None:
    """A recipient's cycle, for those who may read verifications where they live."""
    if person.cycle_start is None or not info.context.actor.can(
        Obj.VERIFICATION, Act.READ, person.region
    ):
        return None
    today = Month.of(info.context.services.clock.today())
    # both asked before either is awaited, so that a page's people share one read of each
    verifications = info.context.loaders.verifications.load(person.id)
    book = await info.context.loaders.policies()
    cycle = book.resolve(person.region, today.year, today.month).entitlement.cycle_months
    found = await verifications
    return VerificationStatus(
        cycle_start=Month.of(person.cycle_start),
        cycle_months=cycle,
        due_month=Month.of(person.cycle_start).plus(cycle - 1),
        last=VerificationNode.of(found[-1]) if found else None,
    )


async def holds_of(info: Info, person: Person) -> list[BenefitHoldNode]:
    if not info.context.actor.can(Obj.BENEFIT, Act.READ, person.region):
        return []
    return [BenefitHoldNode.of(row) for row in await info.context.loaders.holds.load(person.id)]


@strawberry.input(description="资格认证 — record that a recipient was verified")
class VerificationInput:
    person: strawberry.ID = strawberry.field(description="参保人")
    verified_on: date = strawberry.field(description="认证日期")
    method: Method = strawberry.field(description="认证方式")


@strawberry.type(name="VerificationError", description="资格认证错误")
class VerificationUserError(UserError):
    pass


@strawberry.type
class VerificationPayload:
    verification: VerificationNode | None = None
    resumption: Application | None = strawberry.field(
        default=None,
        description=(
            "因未按期认证而暂停者：提交审核的待遇恢复申请 — for someone paused for a missed "
            "verification, the resumption now waiting for review"
        ),
    )
    user_errors: list[VerificationUserError] = strawberry.field(default_factory=list)


@strawberry.type
class VerificationMutations:
    @strawberry.mutation(
        description=(
            "资格认证 — record a recipient's verification (counter, phone, terminal, other): a "
            "new cycle from the month after; someone paused for a missed verification gets a "
            "resumption application, reviewed by someone else"
        ),
        permission_classes=[LoggedIn],
    )
    async def verification_record(
        self, info: Info, input: VerificationInput
    ) -> VerificationPayload:
        context = info.context

        async def work() -> VerificationPayload:
            key = int_key_of(input.person, "Person", INT64)
            if key is None:
                raise DomainError(PersonError.NOT_FOUND, field="person")
            async with context.transaction() as session:
                person = await visible_person(session, key)
                done = await verification.record(
                    session,
                    context.actor,
                    person,
                    input.verified_on,
                    input.method,
                    today=context.services.clock.today(),
                )
            resumption = done.resumption
            return VerificationPayload(
                verification=VerificationNode.of(done.verification),
                resumption=Application.of(resumption) if resumption else None,
            )

        return await attempt(context.lang, VerificationPayload, VerificationUserError, work())


@strawberry.type(description="认证情况 — a region's recipients on each of a month's lists")
class VerificationTally:
    region_code: RegionCode = strawberry.field(description="区划代码")
    due: int = strawberry.field(description="本月应认证人数")
    overdue: int = strawberry.field(description="逾期未认证人数（尚未暂停）")
    paused: int = strawberry.field(description="未认证暂停人数")

    @strawberry.field(description="区划")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.region_code.code)


@strawberry.type
class VerificationQueries:
    @strawberry.field(
        description=(
            "认证情况汇总 — a month's lists counted per child region of a region (per village "
            "for a village), in your scope; regions with nobody on them are left out"
        ),
        permission_classes=[LoggedIn],
    )
    async def verification_tally(
        self, info: Info, region: RegionCode, month: Month
    ) -> list[VerificationTally]:
        async with info.context.session() as session:
            rows = await verification.tally(session, region, month)
        return [
            VerificationTally(
                region_code=RegionCode(row.region_code),
                due=row.due,
                overdue=row.overdue,
                paused=row.paused,
            )
            for row in rows
        ]

    @strawberry.field(
        description=(
            "资格认证名单 — a region's recipients (in your scope) due to verify in a month (the "
            "cycle's last month), overdue (not yet paused), or paused for it; as a file at "
            "/verification/{list}/{region}/{month}.xlsx"
        ),
        permission_classes=[LoggedIn],
    )
    async def verification_list(
        self,
        info: Info,
        region: RegionCode,
        month: Month,
        list: ListKind,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[PersonNode]:
        async with info.context.session() as session:
            statement = await verification.list_statement(session, region, month, list)
        return await person_page(info, statement, first, after)
