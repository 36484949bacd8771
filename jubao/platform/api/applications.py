"""业务申请 in the API: submitting each kind, reviewing, withdrawing, the reviewer's queue.

Each kind's input, the form read back and its result are derived from the kind's one form
definition (`jubao.pension.workflow.forms`, `jubao.platform.api.forms`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Self, Union

import strawberry
from sqlalchemy import and_, select

from jubao.errors import DomainError
from jubao.pension.workflow import engine as workflow
from jubao.pension.workflow.applications import Application as ApplicationRow
from jubao.pension.workflow.applications import ApplicationError, Kind
from jubao.pension.workflow.kinds import HANDLERS
from jubao.platform.api.accounts import InterestRunNode  # noqa: F401 - forms refer to runs
from jubao.platform.api.benefits import BenefitAwardNode  # noqa: F401 - results refer to awards
from jubao.platform.api.context import Info
from jubao.platform.api.enums import ApplicationKind, ApplicationStatus, Decision, RegionLevel
from jubao.platform.api.forms import Owner, input_type, instance, output_type, to_payload
from jubao.platform.api.ids import INT64, int_key, int_key_of
from jubao.platform.api.jobs import JobNode  # noqa: F401 - results refer to jobs
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.pagination import DEFAULT_PAGE, After, Connection, First, paginate
from jubao.platform.api.people import PersonNode, person_by_id
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.user_errors import UserError, attempt
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.scope import Scope


@strawberry.type(
    name="ApplicationError", description="业务申请错误 — submission or decision refused"
)
class ApplicationUserError(UserError):
    pass


# The GraphQL names of each kind's input and form (kept as front ends know them).
_NAMES = {
    Kind.ENROLLMENT: ("EnrollmentInput", "EnrollmentForm", "EnrollmentResult"),
    Kind.CHANGE: ("PersonChangeInput", "PersonChangeForm", "PersonChangeResult"),
    Kind.SUSPENSION: ("PersonSuspensionInput", "PersonSuspensionForm", "PersonSuspensionResult"),
    Kind.CONTRIBUTION: ("ContributionInput", "ContributionForm", "ContributionsResult"),
    Kind.BACK_PAYMENT: ("BackPaymentInput", "BackPaymentForm", "ContributionsResult"),
    Kind.HARDSHIP: ("HardshipListInput", "HardshipListForm", "HardshipListResult"),
    Kind.POLICY: ("PolicyChangeInput", "PolicyChangeForm", "PolicyChangeResult"),
    Kind.INTEREST: ("InterestPostingInput", "InterestPostingForm", "InterestPostingResult"),
    Kind.AWARD: ("BenefitAwardInput", "BenefitAwardForm", "BenefitAwardResult"),
    Kind.AWARD_CORRECTION: (
        "BenefitAwardCorrectionInput",
        "BenefitAwardCorrectionForm",
        "BenefitAwardResult",
    ),
    Kind.BENEFIT_HOLD: ("BenefitHoldInput", "BenefitHoldForm", "BenefitHoldResult"),
    Kind.BENEFIT_RESUMPTION: (
        "BenefitResumptionInput",
        "BenefitResumptionForm",
        "BenefitResumptionResult",
    ),
    Kind.TERMINATION: ("TerminationInput", "TerminationForm", "TerminationResult"),
    Kind.RECOVERY_REPAYMENT: (
        "RecoveryRepaymentInput",
        "RecoveryRepaymentForm",
        "RecoveryRepaymentResult",
    ),
}
INPUTS = {kind: input_type(HANDLERS[kind].form, names[0]) for kind, names in _NAMES.items()}
_FORMS = {kind: output_type(HANDLERS[kind].form, names[1]) for kind, names in _NAMES.items()}
_RESULTS = {kind: output_type(HANDLERS[kind].result, names[2]) for kind, names in _NAMES.items()}
# Unions built from the derived types (a value, for strawberry; not a static type).
ApplicationForm: Any = Annotated[
    Union[tuple(_FORMS.values())],  # noqa: UP007 - a union built from a tuple of types
    strawberry.union("ApplicationForm", description="申请内容 — the form, by kind"),
]
ApplicationResult: Any = Annotated[
    Union[tuple(dict.fromkeys(_RESULTS.values()))],  # noqa: UP007
    strawberry.union("ApplicationResult", description="办理结果 — what carrying it out did"),
]
EnrollmentInput = INPUTS[Kind.ENROLLMENT]
PersonChangeInput = INPUTS[Kind.CHANGE]
PersonSuspensionInput = INPUTS[Kind.SUSPENSION]
ContributionInput = INPUTS[Kind.CONTRIBUTION]
BackPaymentInput = INPUTS[Kind.BACK_PAYMENT]
HardshipListInput = INPUTS[Kind.HARDSHIP]
PolicyChangeInput = INPUTS[Kind.POLICY]
InterestPostingInput = INPUTS[Kind.INTEREST]
BenefitAwardInput = INPUTS[Kind.AWARD]
BenefitAwardCorrectionInput = INPUTS[Kind.AWARD_CORRECTION]
BenefitHoldInput = INPUTS[Kind.BENEFIT_HOLD]
BenefitResumptionInput = INPUTS[Kind.BENEFIT_RESUMPTION]
TerminationInput = INPUTS[Kind.TERMINATION]
RecoveryRepaymentInput = INPUTS[Kind.RECOVERY_REPAYMENT]


@strawberry.type(description="审核记录 — one decision on one step")
class Review:
    level: RegionLevel
    reviewer: str = strawberry.field(description="审核人")
    decision: Decision
    comment: str | None = strawberry.field(description="审核意见")
    at: datetime


@strawberry.type(name="Application", description="业务申请 — an application (maker-checker)")
class Application(KeyedNode):
    kind: ApplicationKind
    status: ApplicationStatus
    region_code: RegionCode = strawberry.field(description="所属区划")
    submitted_by: str = strawberry.field(description="经办人 — who submitted it")
    submitted_at: datetime
    chain: list[RegionLevel] = strawberry.field(
        description="审核流程 — the review steps, one level each"
    )
    current_level: RegionLevel | None = strawberry.field(
        description="待审核环节 — the level whose reviewers it waits for (null when closed)"
    )
    closed_at: datetime | None
    close_comment: str | None = strawberry.field(description="办结或退回意见")
    row: strawberry.Private[ApplicationRow]

    @classmethod
    def of(cls, row: ApplicationRow) -> Self:
        open_ = row.current_prefix is not None
        return cls(
            row=row,
            kind=ApplicationKind(row.kind),
            status=ApplicationStatus(row.status),
            region_code=RegionCode(row.region_code),
            submitted_by=row.submitted_by_name,
            submitted_at=row.submitted_at,
            chain=[Level(level) for level in row.chain],
            current_level=Level(row.chain[row.step]) if open_ else None,
            closed_at=row.closed_at,
            close_comment=row.close_comment,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[ApplicationRow | None]]:
        return info.context.loaders.application.load_many(keys)

    @property
    def _owner(self) -> Owner:
        return Owner(RegionCode(self.row.region_code), f"application:{self.row.id}")

    @strawberry.field(description="参保人 — the person (null if none, or outside your scope)")
    async def person(self, info: Info) -> PersonNode | None:
        return await person_by_id(info, self.row.person_id)

    @strawberry.field(description="所属区划 — null if outside your scope")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.region_code)

    @strawberry.field(
        graphql_type=ApplicationForm,
        description="申请内容 — the form as submitted (personal data masked without the right)",
    )
    def form(self) -> Any:
        model = HANDLERS[Kind(self.row.kind)].form
        return instance(model, model.model_validate(self.row.payload), self._owner)

    @strawberry.field(
        graphql_type=ApplicationResult | None,
        description="办理结果 — what carrying it out did (null until applied)",
    )
    def result(self) -> Any:
        if self.row.result is None:
            return None
        model = HANDLERS[Kind(self.row.kind)].result
        return instance(model, model.model_validate(self.row.result), self._owner)

    @strawberry.field(description="审核记录 — the decisions so far")
    async def reviews(self, info: Info) -> list[Review]:
        rows = await info.context.loaders.reviews.load(self.row.id)
        return [
            Review(
                level=Level(r.level),
                reviewer=r.reviewer_name,
                decision=Decision(r.decision),
                comment=r.comment,
                at=r.at,
            )
            for r in rows
        ]


@strawberry.type
class ApplicationPayload:
    application: Application | None = None
    user_errors: list[ApplicationUserError] = strawberry.field(default_factory=list)


@strawberry.input(description="审核 — decide the current step")
class ApplicationReviewInput:
    application: strawberry.ID
    decision: Decision
    comment: str | None = strawberry.field(default=None, description="审核意见（退回时必填）")


@strawberry.input(description="撤回 — the submitter withdraws an application still in review")
class ApplicationWithdrawInput:
    application: strawberry.ID
    reason: str | None = None


# --- resolvers ----------------------------------------------------------------------------------


def _application_key(global_id: str) -> int:
    key = int_key_of(global_id, "Application", INT64)
    if key is None:
        raise DomainError(ApplicationError.NOT_FOUND, field="application")
    return key


def _submitter(kind: Kind, description: str) -> Any:
    """The ``…Submit`` mutation of ``kind``: its derived input in, the application out."""
    input_class = INPUTS[kind]

    async def submit(info: Info, input: Any) -> ApplicationPayload:
        context = info.context

        async def work() -> ApplicationPayload:
            payload = to_payload(HANDLERS[kind].form, input)
            async with context.transaction() as session:
                row = await workflow.submit(
                    session, context.actor, kind, payload, today=context.services.clock.today()
                )
            return ApplicationPayload(application=Application.of(row))

        return await attempt(context.lang, ApplicationPayload, ApplicationUserError, work())

    submit.__annotations__ = {"info": Info, "input": input_class, "return": ApplicationPayload}
    return strawberry.mutation(
        resolver=submit, description=description, permission_classes=[LoggedIn]
    )


@strawberry.type
class ApplicationMutations:
    enrollment_submit = _submitter(
        Kind.ENROLLMENT, "参保登记 — submit an enrolment (village assistant or township processor)"
    )
    person_change_submit = _submitter(Kind.CHANGE, "变更登记 — submit a change of registered data")
    person_suspension_submit = _submitter(
        Kind.SUSPENSION, "暂停或恢复缴费 — submit a suspension or resumption of contributions"
    )
    contribution_submit = _submitter(
        Kind.CONTRIBUTION, "柜台缴费 — submit a contribution taken at the counter"
    )
    back_payment_submit = _submitter(Kind.BACK_PAYMENT, "补缴 — submit a back-payment")
    hardship_list_submit = _submitter(Kind.HARDSHIP, "代缴名单 — submit a hardship payment list")
    policy_change_submit = _submitter(Kind.POLICY, "政策参数调整 — submit a policy change")
    interest_posting_submit = _submitter(
        Kind.INTEREST, "年度结息 — submit an interest posting (finance staff)"
    )
    benefit_award_submit = _submitter(
        Kind.AWARD,
        "待遇核定 — submit a pension claim (village or township; the figures are computed on "
        "approval, see benefitAwardPreview)",
    )
    benefit_award_correction_submit = _submitter(
        Kind.AWARD_CORRECTION,
        "待遇核定更正 — submit a correction of a pensioner's award, reckoned again from the "
        "corrected records (county; in force from the first month not yet prepared)",
    )
    benefit_hold_submit = _submitter(
        Kind.BENEFIT_HOLD,
        "待遇暂停 — submit a pause of a pension (imprisonment, detention, suspected death, …) or "
        "a non-custodial sentence's restriction (paid without later increases); in force from "
        "the first month not yet prepared",
    )
    benefit_resumption_submit = _submitter(
        Kind.BENEFIT_RESUMPTION,
        "待遇恢复 — submit the end of a pause or restriction; the paused months are paid back "
        "in the next run where the policy says so (a missed verification's resumption is "
        "opened by recording the verification)",
    )
    termination_submit = _submitter(
        Kind.TERMINATION,
        "注销登记 — submit the end of an insurance (death, nationality, a pension elsewhere, …): "
        "on approval the account is closed, what the reason pays out owed to the payee (an heir "
        "with the proof of the right, or the person), what was not due recovered from it",
    )
    recovery_repayment_submit = _submitter(
        Kind.RECOVERY_REPAYMENT,
        "追回款缴回 — submit money paid back towards a recovery order (county)",
    )

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
            # an approval may have queued a background job (SQLite: this process does it)
            context.services.jobs.kick()
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


@strawberry.type
class ApplicationQueries:
    @strawberry.field(
        description="待我审核 — applications waiting for a step you may take, oldest first",
        permission_classes=[LoggedIn],
    )
    async def review_queue(
        self,
        info: Info,
        kind: ApplicationKind | None = None,
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
        kind: ApplicationKind | None = None,
        status: ApplicationStatus | None = None,
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
