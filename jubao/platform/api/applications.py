"""业务申请 in the API: submitting each kind, reviewing, withdrawing, the reviewer's queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Self

import strawberry
from sqlalchemy import and_, select
from strawberry import relay
from strawberry.scalars import JSON

from jubao.authz.actor import AccessError
from jubao.errors import DomainError
from jubao.pension import workflow
from jubao.pension.applications import Application as ApplicationRow
from jubao.pension.applications import ApplicationError, Kind
from jubao.pension.changes import ChangeError
from jubao.pension.contributions import ContributionError
from jubao.pension.enrollment import EligibilityError
from jubao.pension.idnumber import IdNumberError
from jubao.pension.interest import InterestError
from jubao.pension.money import MoneyError
from jubao.pension.people import PersonError
from jubao.pension.policy import PolicyError
from jubao.platform.api.context import Info
from jubao.platform.api.enums import (
    ApplicationKind,
    ApplicationStatus,
    Decision,
    Hukou,
    RegionLevel,
    Sex,
    SuspensionAction,
)
from jubao.platform.api.errors import attempt, code_enum, user_error_type
from jubao.platform.api.ids import INT64, int_key, int_key_of
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.people import PersonNode, masked_values
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.scalars import Money, Year
from jubao.tenants.codes import Level, RegionCode, RegionCodeError
from jubao.tenants.scope import Scope

ApplicationErrorCode = code_enum(
    "ApplicationErrorCode",
    ApplicationError,
    EligibilityError,
    PersonError,
    IdNumberError,
    ContributionError,
    ChangeError,
    PolicyError,
    InterestError,
    MoneyError,
    RegionCodeError,
    AccessError,
    description="业务申请错误代码 — why an application could not be submitted or decided",
)
ApplicationUserError = user_error_type(
    "ApplicationError", ApplicationErrorCode, "业务申请错误 — submission or decision refused"
)


@strawberry.type(description="审核记录 — one decision on one step")
class Review:
    level: RegionLevel  # type: ignore[valid-type]
    reviewer: str = strawberry.field(description="审核人")
    decision: Decision  # type: ignore[valid-type]
    comment: str | None = strawberry.field(description="审核意见")
    at: datetime


@strawberry.type(name="Application", description="业务申请 — an application (maker-checker)")
class Application(relay.Node):
    kind: ApplicationKind  # type: ignore[valid-type]
    status: ApplicationStatus  # type: ignore[valid-type]
    region_code: RegionCode = strawberry.field(description="所属区划")
    submitted_by: str = strawberry.field(description="经办人 — who submitted it")
    submitted_at: datetime
    chain: list[RegionLevel] = strawberry.field(  # type: ignore[valid-type]
        description="审核流程 — the review steps, one level each"
    )
    current_level: RegionLevel | None = strawberry.field(  # type: ignore[valid-type]
        description="待审核环节 — the level whose reviewers it waits for (null when closed)"
    )
    closed_at: datetime | None
    close_comment: str | None = strawberry.field(description="办结或退回意见")
    result: JSON | None = strawberry.field(description="办理结果 — e.g. the new person's id")
    row: strawberry.Private[ApplicationRow]

    @classmethod
    def of(cls, row: ApplicationRow) -> Self:
        open_ = row.current_prefix is not None
        return cls(
            row=row,
            kind=row.kind,  # type: ignore[arg-type]
            status=row.status,  # type: ignore[arg-type]
            region_code=RegionCode(row.region_code),
            submitted_by=row.submitted_by_name,
            submitted_at=row.submitted_at,
            chain=[Level(level) for level in row.chain],
            current_level=Level(row.chain[row.step]) if open_ else None,
            closed_at=row.closed_at,
            close_comment=row.close_comment,
            result=row.result,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        keys = [int_key(k, INT64) for k in node_ids]
        rows = await info.context.loaders.application.load_many([k for k in keys if k is not None])
        found = {row.id: row for row in rows if row is not None}
        return [cls.of(found[k]) if k in found else None for k in keys]

    @strawberry.field(description="参保人 — the person (null if none, or outside your scope)")
    async def person(self, info: Info) -> PersonNode | None:
        if self.row.person_id is None:
            return None
        row = await info.context.loaders.person.load(self.row.person_id)
        return PersonNode.of(row) if row else None

    @strawberry.field(description="所属区划 — null if outside your scope")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.region_code)

    @strawberry.field(description="申请内容 — the request (personal data masked without the right)")
    async def payload(self, info: Info) -> JSON:
        return await masked_values(
            info, RegionCode(self.row.region_code), f"application:{self.row.id}", self.row.payload
        )

    @strawberry.field(description="审核记录 — the decisions so far")
    async def reviews(self, info: Info) -> list[Review]:
        rows = await info.context.loaders.reviews.load(self.row.id)
        return [
            Review(
                level=Level(r.level),
                reviewer=r.reviewer_name,
                decision=r.decision,  # type: ignore[arg-type]
                comment=r.comment,
                at=r.at,
            )
            for r in rows
        ]


@strawberry.type
class ApplicationPayload:
    application: Application | None = None
    user_errors: list[ApplicationUserError] = strawberry.field(default_factory=list)  # type: ignore[valid-type]


# --- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="参保登记表 — the enrolment form")
class EnrollmentInput:
    id_number: str = strawberry.field(description="公民身份号码（18 位；15 位旧号码自动升位）")
    name: str = strawberry.field(description="姓名")
    sex: Sex | None = strawberry.field(default=None, description="性别（与身份证号码核对）")  # type: ignore[valid-type]
    birth_date: date | None = strawberry.field(
        default=None, description="出生日期（与身份证号码核对）"
    )
    ethnicity: str = strawberry.field(description="民族代码（GB/T 3304，如 01 汉族）")
    hukou: Hukou = strawberry.field(description="户籍性质")  # type: ignore[valid-type]
    region: RegionCode = strawberry.field(description="户籍所在村（社区）")
    address: str = strawberry.field(description="户籍地址")
    phone: str | None = strawberry.field(default=None, description="联系电话")
    special_group: str | None = strawberry.field(default=None, description="参保身份代码")
    bank_account: str | None = strawberry.field(default=None, description="银行账号或社保卡号")
    grade: Money = strawberry.field(description="缴费档次")
    student: bool = strawberry.field(default=False, description="是否在校学生（在校学生不能参保）")


@strawberry.input(description="变更内容 — the fields to change (absent ones stay)")
class PersonChangesInput:
    name: str | None = None
    id_number: str | None = None
    ethnicity: str | None = None
    hukou: Hukou | None = None  # type: ignore[valid-type]
    address: str | None = None
    phone: str | None = None
    special_group: str | None = None
    bank_account: str | None = None
    grade: Money | None = None


@strawberry.input(description="变更登记 — change a person's registered data")
class PersonChangeInput:
    person: strawberry.ID
    changes: PersonChangesInput
    reason: str = strawberry.field(description="变更原因")


@strawberry.input(description="暂停或恢复缴费 — pause a contributor's payments, or resume them")
class PersonSuspensionInput:
    person: strawberry.ID
    action: SuspensionAction  # type: ignore[valid-type]
    reason: str = strawberry.field(description="原因（服刑、中断缴费、…）")


@strawberry.input(description="柜台缴费 — one year's contribution at the counter")
class ContributionInput:
    person: strawberry.ID
    year: Year
    grade: Money
    collective: Money = strawberry.field(default=Money(0), description="集体补助")
    aid: Money = strawberry.field(default=Money(0), description="其他资助")
    paid_on: date = strawberry.field(description="缴费日期")


@strawberry.input(description="补缴 — back-payment of missed years")
class BackPaymentInput:
    person: strawberry.ID
    years: list[Year]
    grade: Money
    paid_on: date


@strawberry.input(description="代缴名单 — the government pays the minimum grade for these people")
class HardshipListInput:
    region: RegionCode = strawberry.field(description="名单覆盖的乡镇或县")
    year: Year
    persons: list[strawberry.ID]
    paid_on: date


@strawberry.input(description="政策参数调整 — new parameters for a region from a year")
class PolicyChangeInput:
    region: RegionCode
    effective_year: Year
    title: str
    parameters: JSON = strawberry.field(
        description="参数，与政策文件同格式 — sections as in a policy file (yuan, decimal rates)"
    )


@strawberry.input(description="年度结息 — post a year's interest for a region")
class InterestPostingInput:
    region: RegionCode
    year: Year


@strawberry.input(description="审核 — decide the current step")
class ApplicationReviewInput:
    application: strawberry.ID
    decision: Decision  # type: ignore[valid-type]
    comment: str | None = strawberry.field(default=None, description="审核意见（退回时必填）")


@strawberry.input(description="撤回 — the submitter withdraws an application still in review")
class ApplicationWithdrawInput:
    application: strawberry.ID
    reason: str | None = None


# --- resolvers ----------------------------------------------------------------------------------


def _person_key(global_id: str, field: str = "person") -> int:
    key = int_key_of(global_id, "Person", INT64)
    if key is None:
        raise DomainError(PersonError.NOT_FOUND, field=field)
    return key


def _application_key(global_id: str) -> int:
    key = int_key_of(global_id, "Application", INT64)
    if key is None:
        raise DomainError(ApplicationError.NOT_FOUND, field="application")
    return key


def _enrollment_payload(data: EnrollmentInput) -> dict[str, Any]:
    return {
        "id_number": data.id_number,
        "name": data.name,
        "sex": data.sex.value if data.sex is not None else None,
        "birth_date": data.birth_date.isoformat() if data.birth_date else None,
        "ethnicity": data.ethnicity,
        "hukou": data.hukou.value,
        "region": data.region.code,
        "address": data.address,
        "phone": data.phone,
        "special_group": data.special_group,
        "bank_account": data.bank_account,
        "grade": int(data.grade),
        "student": data.student,
    }


@strawberry.type
class ApplicationMutations:
    @strawberry.mutation(
        description="参保登记 — submit an enrolment (village assistant or township processor)",
        permission_classes=[LoggedIn],
    )
    async def enrollment_submit(self, info: Info, input: EnrollmentInput) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return _enrollment_payload(input)

        return await _submit_built(info, Kind.ENROLLMENT, payload)

    @strawberry.mutation(
        description="变更登记 — submit a change of registered data", permission_classes=[LoggedIn]
    )
    async def person_change_submit(
        self, info: Info, input: PersonChangeInput
    ) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            changes = {
                key: (value.value if hasattr(value, "value") else value)
                for key, value in strawberry.asdict(input.changes).items()
                if value is not None
            }
            return {
                "person_id": _person_key(input.person),
                "changes": changes,
                "reason": input.reason,
            }

        return await _submit_built(info, Kind.CHANGE, payload)

    @strawberry.mutation(
        description="暂停或恢复缴费 — submit a suspension or resumption of contributions",
        permission_classes=[LoggedIn],
    )
    async def person_suspension_submit(
        self, info: Info, input: PersonSuspensionInput
    ) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return {
                "person_id": _person_key(input.person),
                "action": input.action.value,
                "reason": input.reason,
            }

        return await _submit_built(info, Kind.SUSPENSION, payload)

    @strawberry.mutation(
        description="柜台缴费 — submit a contribution taken at the counter",
        permission_classes=[LoggedIn],
    )
    async def contribution_submit(self, info: Info, input: ContributionInput) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return {
                "person_id": _person_key(input.person),
                "year": int(input.year),
                "grade": int(input.grade),
                "collective": int(input.collective),
                "aid": int(input.aid),
                "paid_on": input.paid_on.isoformat(),
            }

        return await _submit_built(info, Kind.CONTRIBUTION, payload)

    @strawberry.mutation(description="补缴 — submit a back-payment", permission_classes=[LoggedIn])
    async def back_payment_submit(self, info: Info, input: BackPaymentInput) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return {
                "person_id": _person_key(input.person),
                "years": [int(y) for y in input.years],
                "grade": int(input.grade),
                "paid_on": input.paid_on.isoformat(),
            }

        return await _submit_built(info, Kind.BACK_PAYMENT, payload)

    @strawberry.mutation(
        description="代缴名单 — submit a hardship payment list", permission_classes=[LoggedIn]
    )
    async def hardship_list_submit(
        self, info: Info, input: HardshipListInput
    ) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return {
                "region": input.region.code,
                "year": int(input.year),
                "person_ids": [_person_key(p, "persons") for p in input.persons],
                "paid_on": input.paid_on.isoformat(),
            }

        return await _submit_built(info, Kind.HARDSHIP, payload)

    @strawberry.mutation(
        description="政策参数调整 — submit a policy change", permission_classes=[LoggedIn]
    )
    async def policy_change_submit(
        self, info: Info, input: PolicyChangeInput
    ) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return {
                "region": input.region.code,
                "effective_year": int(input.effective_year),
                "title": input.title,
                "params": input.parameters if isinstance(input.parameters, dict) else {},
            }

        return await _submit_built(info, Kind.POLICY, payload)

    @strawberry.mutation(
        description="年度结息 — submit an interest posting (finance staff)",
        permission_classes=[LoggedIn],
    )
    async def interest_posting_submit(
        self, info: Info, input: InterestPostingInput
    ) -> ApplicationPayload:
        async def payload() -> dict[str, Any]:
            return {"region": input.region.code, "year": int(input.year)}

        return await _submit_built(info, Kind.INTEREST, payload)

    @strawberry.mutation(
        description="审核 — approve or reject the current step; the last approval carries it out",
        permission_classes=[LoggedIn],
    )
    async def application_review(
        self, info: Info, input: ApplicationReviewInput
    ) -> ApplicationPayload:
        context = info.context

        async def work() -> ApplicationPayload:
            key = _application_key(input.application)
            async with context.transaction() as session:
                row = await workflow.review(
                    session,
                    context.actor,
                    key,
                    input.decision,
                    input.comment,
                    today=context.services.clock.today(),
                )
            return ApplicationPayload(application=Application.of(row))

        return await attempt(context.lang, ApplicationPayload, ApplicationUserError, work())

    @strawberry.mutation(
        description="撤回 — withdraw your own application", permission_classes=[LoggedIn]
    )
    async def application_withdraw(
        self, info: Info, input: ApplicationWithdrawInput
    ) -> ApplicationPayload:
        context = info.context

        async def work() -> ApplicationPayload:
            key = _application_key(input.application)
            async with context.transaction() as session:
                row = await workflow.withdraw(session, context.actor, key, input.reason)
            return ApplicationPayload(application=Application.of(row))

        return await attempt(context.lang, ApplicationPayload, ApplicationUserError, work())


async def _submit_built(info: Info, kind: Kind, build: Any) -> ApplicationPayload:
    """Submit a payload whose building may itself be refused (an ID that names nothing)."""
    context = info.context

    async def work() -> ApplicationPayload:
        payload = await build()
        async with context.transaction() as session:
            row = await workflow.submit(
                session, context.actor, kind, payload, today=context.services.clock.today()
            )
        return ApplicationPayload(application=Application.of(row))

    return await attempt(context.lang, ApplicationPayload, ApplicationUserError, work())


@strawberry.type
class ApplicationQueries:
    @strawberry.field(
        description="待我审核 — applications waiting for a step you may take, oldest first",
        permission_classes=[LoggedIn],
    )
    async def review_queue(
        self,
        info: Info,
        kind: ApplicationKind | None = None,  # type: ignore[valid-type]
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Application]:
        statement = workflow.review_queue(info.context.actor)
        if kind is not None:
            statement = statement.where(ApplicationRow.kind == kind.value)
        return await paginate(
            info,
            statement,
            ApplicationRow.id,
            first=first,
            after=after,
            to_node=Application.of,
            key_type=lambda text: int_key(text, INT64),
        )

    @strawberry.field(
        description="业务申请列表 — applications in your scope", permission_classes=[LoggedIn]
    )
    async def applications(
        self,
        info: Info,
        region: RegionCode | None = None,
        kind: ApplicationKind | None = None,  # type: ignore[valid-type]
        status: ApplicationStatus | None = None,  # type: ignore[valid-type]
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[Application]:
        conditions = []
        if region is not None:
            conditions.append(Scope.of([region.prefix]).clause(ApplicationRow.region_code))
        if kind is not None:
            conditions.append(ApplicationRow.kind == kind.value)
        if status is not None:
            conditions.append(ApplicationRow.status == status.value)
        statement = select(ApplicationRow)
        if conditions:
            statement = statement.where(and_(*conditions))
        return await paginate(
            info,
            statement,
            ApplicationRow.id,
            first=first,
            after=after,
            to_node=Application.of,
            key_type=lambda text: int_key(text, INT64),
        )
