"""参保人 in the API: the person, their account, contributions, statements and history; the
scoped list.

ID numbers, phone numbers, bank accounts and birth dates are shown by the one rule of
`jubao.pension.people.personal`: as they are to callers whose role carries the personal-data right
(``pii``) over the person's village — every such value recorded in the audit trail before the
answer leaves — and masked to everyone else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from datetime import date, datetime
from functools import partial
from inspect import isawaitable
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from sqlalchemy import Select, and_, select
from strawberry import relay

from jubao.authz.vocabulary import Act, Obj
from jubao.errors import Text
from jubao.pension.accounts import ledger
from jubao.pension.accounts.contributions import Contribution as ContributionRow
from jubao.pension.accounts.ledger import Component
from jubao.pension.people.idnumber import IdNumber
from jubao.pension.people.persons import ETHNICITIES, Person, PersonEvent, PersonValues
from jubao.platform.api.context import Info
from jubao.platform.api.enums import (
    AccountComponent,
    ContributionChannel,
    ContributionKind,
    EntryKind,
    Hukou,
    PersonEventKind,
    PersonStatus,
    Sex,
)
from jubao.platform.api.errors import Problem, problem
from jubao.platform.api.forms import Owner, instance, output_type, register_node
from jubao.platform.api.ids import INT64, int_key
from jubao.platform.api.keyed import KeyedNode
from jubao.platform.api.loaders import known
from jubao.platform.api.pagination import (
    DEFAULT_PAGE,
    After,
    Connection,
    First,
    asks_for,
    paginate,
)
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region, region_by_code
from jubao.platform.api.scalars import Money, Year
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope
from jubao.text import NAME_PREFIX, TextField

if TYPE_CHECKING:
    from jubao.platform.api.applications import Application
    from jubao.platform.api.benefits import BenefitAwardNode
    from jubao.platform.api.entitlement import BenefitHoldNode, VerificationStatus
    from jubao.platform.api.payroll import PayLineNode
    from jubao.platform.api.termination import (
        DeathReportNode,
        RecoveryOrderNode,
        TerminationNode,
    )

GROUP_CODE = TextField("specialGroup", Text("参保身份代码", "The special-group code"), 10)
PersonValuesType = output_type(PersonValues)


@strawberry.type(description="账户某一组成部分的余额 — the balance of one account component")
class ComponentBalance:
    component: AccountComponent
    balance: Money


def component_list(amounts: dict[Component, int] | dict[str, int]) -> list[ComponentBalance]:
    return [
        ComponentBalance(component=Component(c), balance=Money(amount))
        for c, amount in sorted(amounts.items())
        if amount
    ]


@strawberry.type(description="个人账户 — the individual account")
class Account:
    balances: list[ComponentBalance] = strawberry.field(
        description="各组成部分余额 — balance per component (personal, subsidies, …)"
    )
    total: Money = strawberry.field(description="账户储存额 — the whole balance")
    government: Money = strawberry.field(
        description="其中政府补贴与代缴 — of which government subsidies and 代缴"
    )


def _account(amounts: dict[str, int]) -> Account:
    return Account(
        balances=component_list(amounts),
        total=Money(sum(amounts.values())),
        government=Money(sum(v for c, v in amounts.items() if Component(c).government)),
    )


async def _account_later(amounts: Awaitable[dict[str, int]]) -> Account:
    return _account(await amounts)


@strawberry.type(name="Contribution", description="缴费记录 — one year's contribution")
class ContributionNode(KeyedNode):
    year: Year
    kind: ContributionKind
    channel: ContributionChannel = strawberry.field(
        description="征收方式 — how the person's own payment came (a 代缴 share shows in hardship)"
    )
    grade: Money = strawberry.field(description="缴费档次 — the grade")
    personal: Money = strawberry.field(description="个人缴费 — paid by the person")
    hardship: Money = strawberry.field(description="政府代缴 — paid by the government (代缴)")
    collective: Money = strawberry.field(description="集体补助 — collective subsidy")
    aid: Money = strawberry.field(description="其他资助 — other aid")
    subsidy_province: Money
    subsidy_city: Money
    subsidy_county: Money
    subsidy: Money = strawberry.field(description="政府缴费补贴合计 — government subsidy")
    credited: Money = strawberry.field(description="记入个人账户合计 — credited to the account")
    paid_on: date
    row: strawberry.Private[ContributionRow]

    @classmethod
    def of(cls, row: ContributionRow) -> Self:
        return cls(
            row=row,
            year=Year(row.year),
            kind=ContributionKind(row.kind),
            channel=ContributionChannel(row.channel),
            grade=Money(row.grade),
            personal=Money(row.personal),
            hardship=Money(row.hardship),
            collective=Money(row.collective),
            aid=Money(row.aid),
            subsidy_province=Money(row.subsidy_province),
            subsidy_city=Money(row.subsidy_city),
            subsidy_county=Money(row.subsidy_county),
            subsidy=Money(row.subsidy),
            credited=Money(row.credited),
            paid_on=row.paid_on,
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[ContributionRow | None]]:
        return info.context.loaders.contribution.load_many(keys)

    @strawberry.field(description="参保人 — the person (null if outside your scope)")
    async def person(self, info: Info) -> PersonNode | None:
        return await person_by_id(info, self.row.person_id)


async def _nodes(info: Info, node_ids: Iterable[str], load_many: Any, to_node: Any) -> list[Any]:
    keys = [int_key(k, INT64) for k in node_ids]
    rows = await load_many([k for k in keys if k is not None])
    found = {row.id: row for row in rows if row is not None}
    return [to_node(found[k]) if k in found else None for k in keys]


@strawberry.type(description="对账单明细 — one line of a statement")
class StatementLine:
    value_date: date
    year: Year = strawberry.field(description="所属年度 — the year it belongs to")
    component: AccountComponent
    kind: EntryKind
    amount: Money
    memo: str | None


@strawberry.type(name="Statement", description="个人账户对账单 — the account statement for a year")
class StatementNode(relay.Node):
    year: Year
    opening: list[ComponentBalance] = strawberry.field(description="期初余额 — at 1 January")
    lines: list[StatementLine]
    closing: list[ComponentBalance] = strawberry.field(description="期末余额 — at 31 December")
    opening_total: Money
    closing_total: Money
    interest: Money = strawberry.field(description="本年利息 — interest credited this year")
    credited: Money = strawberry.field(description="本年缴费入账 — contributions this year")
    person_id: strawberry.Private[int]

    @classmethod
    def of(cls, result: ledger.Statement) -> Self:
        return cls(
            person_id=result.person_id,
            year=Year(result.year),
            opening=component_list(result.opening),
            closing=component_list(result.closing),
            lines=[
                StatementLine(
                    value_date=line.value_date,
                    year=Year(line.year),
                    component=line.component,
                    kind=line.kind,
                    amount=Money(line.amount),
                    memo=line.memo,
                )
                for line in result.lines
            ],
            opening_total=Money(result.opening_total),
            closing_total=Money(result.closing_total),
            interest=Money(result.total(ledger.EntryKind.INTEREST)),
            credited=Money(result.total(ledger.EntryKind.CONTRIBUTION)),
        )

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return f"{root.person_id}:{root.year}"

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one signature for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[StatementNode | None]:
        found: list[StatementNode | None] = []
        for node_id in node_ids:
            person_text, _, year_text = node_id.partition(":")
            person_id, year = int_key(person_text, INT64), int_key(year_text)
            person = await info.context.loaders.person.load(person_id) if person_id else None
            if person is None or year is None or not 2009 <= year <= 2100:
                found.append(None)
                continue
            found.append(await _statement_of(info, person, year))
        return found

    @strawberry.field(description="参保人 — the person (null if outside your scope)")
    async def person(self, info: Info) -> PersonNode | None:
        return await person_by_id(info, self.person_id)


async def _statement_of(info: Info, person: Person, year: int) -> StatementNode | None:
    """The statement, for those who may read accounts where the person lives."""
    if not info.context.actor.can(Obj.ACCOUNT, Act.READ, person.region):
        return None
    return StatementNode.of(await info.context.loaders.statement.load((person.id, year)))


@strawberry.type(name="PersonEvent", description="档案记录 — an entry of the person's archive")
class PersonEventNode:
    kind: PersonEventKind
    at: datetime
    actor: str = strawberry.field(description="经手人 — who did it")
    before: Any = strawberry.field(
        graphql_type=PersonValuesType | None,
        description="变更前 — the values before (what changed)",
    )
    after: Any = strawberry.field(
        graphql_type=PersonValuesType | None,
        description="变更后 — the values after (what changed)",
    )
    application_id: strawberry.Private[int | None]

    @strawberry.field(description="业务申请 — the application behind it (null if none or unseen)")
    async def application(
        self, info: Info
    ) -> Annotated[Application, strawberry.lazy("jubao.platform.api.applications")] | None:
        from jubao.platform.api.applications import Application

        if self.application_id is None:
            return None
        row = await info.context.loaders.application.load(self.application_id)
        return Application.of(row) if row else None


@strawberry.type(name="Person", description="参保人 — an insured person")
class PersonNode(KeyedNode):
    name: str = strawberry.field(description="姓名")
    sex: Sex
    birth_year: int = strawberry.field(description="出生年份")
    ethnicity: str = strawberry.field(description="民族代码 — GB/T 3304 code")
    hukou: Hukou
    region_code: RegionCode = strawberry.field(description="参保村（社区） — village code")
    address: str = strawberry.field(description="户籍地址")
    special_group: str | None = strawberry.field(description="参保身份/特殊群体代码")
    grade: Money = strawberry.field(description="选择的缴费档次 — the grade chosen")
    status: PersonStatus
    enrolled_on: date = strawberry.field(description="参保日期")
    row: strawberry.Private[Person]

    @classmethod
    def of(cls, row: Person) -> Self:
        return cls(
            row=row,
            name=row.name,
            sex=Sex(row.sex),
            birth_year=row.birth_date.year,
            ethnicity=row.ethnicity,
            hukou=Hukou(row.hukou),
            region_code=RegionCode(row.region_code),
            address=row.address,
            special_group=row.special_group,
            grade=Money(row.grade),
            status=PersonStatus(row.status),
            enrolled_on=row.enrolled_on,
        )

    @property
    def _owner(self) -> Owner:
        return Owner(self.region_code, f"person:{self.row.id}")

    def _shown(self, info: Info, kind: str, value: str | None) -> Any:
        return info.context.disclosure.show(self.region_code, self._owner.subject, kind, value)

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    def load(cls, info: Info, keys: list[int]) -> Awaitable[list[Person | None]]:
        return info.context.loaders.person.load_many(keys)

    @strawberry.field(
        description="公民身份号码（无权限时脱敏） — ID number, masked without the right"
    )
    def id_number(self, info: Info) -> str:
        return self._shown(info, "id_number", self.row.id_number)

    @strawberry.field(description="联系电话（无权限时脱敏）")
    def phone(self, info: Info) -> str | None:
        return self._shown(info, "phone", self.row.phone)

    @strawberry.field(description="银行账号或社保卡号（无权限时脱敏）")
    def bank_account(self, info: Info) -> str | None:
        return self._shown(info, "bank_account", self.row.bank_account)

    @strawberry.field(
        description=(
            "出生日期（无权限时为空：脱敏的身份证号码隐去的正是出生日期） — null without the "
            "right, as the masked ID number hides exactly these digits; see birthYear"
        ),
    )
    def birth_date(self, info: Info) -> date | None:
        return info.context.disclosure.show_date(
            self.region_code, self._owner.subject, self.row.birth_date
        )

    @strawberry.field(
        description="是否可见完整个人敏感信息 — whether personal data is shown unmasked"
    )
    def personal_data_visible(self, info: Info) -> bool:
        return info.context.disclosure.visible(self.region_code)

    @strawberry.field(description="民族名称")
    def ethnicity_name(self) -> str:
        return ETHNICITIES.get(self.row.ethnicity, "")

    @strawberry.field(description="参保村（社区） — null if outside your region scope")
    async def region(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.region_code)

    @strawberry.field(
        graphql_type=Account | None,
        description="个人账户 — null if you may not read accounts here",
    )
    def account(self, info: Info) -> Account | Awaitable[Account] | None:
        if not info.context.actor.can(Obj.ACCOUNT, Act.READ, self.region_code):
            return None
        amounts = known(info.context.loaders.balances, self.row.id)
        return _account_later(amounts) if isawaitable(amounts) else _account(amounts)

    @strawberry.field(description="缴费记录 — contributions, by year")
    async def contributions(self, info: Info) -> list[ContributionNode]:
        rows = await info.context.loaders.contributions.load(self.row.id)
        return [ContributionNode.of(r) for r in rows]

    @strawberry.field(description="业务申请 — the applications about this person")
    async def applications(
        self, info: Info
    ) -> list[Annotated[Application, strawberry.lazy("jubao.platform.api.applications")]]:
        from jubao.platform.api.applications import Application

        rows = await info.context.loaders.applications.load(self.row.id)
        return [Application.of(r) for r in rows]

    @strawberry.field(description="档案 — every change to the record, with before and after")
    async def history(self, info: Info) -> list[PersonEventNode]:
        rows: list[PersonEvent] = await info.context.loaders.events.load(self.row.id)
        return [
            PersonEventNode(
                kind=PersonEventKind(e.kind),
                at=e.at,
                actor=e.actor,
                before=self._values(e.before),
                after=self._values(e.after),
                application_id=e.application_id,
            )
            for e in rows
        ]

    def _values(self, values: dict[str, Any] | None) -> Any:
        if values is None:
            return None
        return instance(PersonValues, PersonValues.model_validate(values), self._owner)

    @strawberry.field(
        description=(
            "待遇核定表 — the pension awarded (null if none, or if you may not read benefits here)"
        )
    )
    async def benefit_award(
        self, info: Info
    ) -> Annotated[BenefitAwardNode, strawberry.lazy("jubao.platform.api.benefits")] | None:
        from jubao.platform.api.benefits import award_of

        return await award_of(info, self.row)

    @strawberry.field(
        description="注销登记表 — the insurance's end and its figures (null if it has not ended)"
    )
    async def termination(
        self, info: Info
    ) -> Annotated[TerminationNode, strawberry.lazy("jubao.platform.api.termination")] | None:
        from jubao.platform.api.termination import termination_of

        return await termination_of(info, self.row)

    @strawberry.field(description="追回单 — what the person (or estate) owes back, oldest first")
    async def recovery_orders(
        self, info: Info
    ) -> list[Annotated[RecoveryOrderNode, strawberry.lazy("jubao.platform.api.termination")]]:
        from jubao.platform.api.termination import recovery_orders_of

        return await recovery_orders_of(info, self.row)

    @strawberry.field(description="死亡信息 — deaths reported of the person, by source")
    async def death_reports(
        self, info: Info
    ) -> list[Annotated[DeathReportNode, strawberry.lazy("jubao.platform.api.termination")]]:
        from jubao.platform.api.termination import death_reports_of

        return await death_reports_of(info, self.row)

    @strawberry.field(
        description=(
            "资格认证状态 — a recipient's verification cycle (null before the award, or if you "
            "may not read verifications here)"
        )
    )
    async def verification(
        self, info: Info
    ) -> Annotated[VerificationStatus, strawberry.lazy("jubao.platform.api.entitlement")] | None:
        from jubao.platform.api.entitlement import verification_of

        return await verification_of(info, self.row)

    @strawberry.field(
        description=(
            "待遇暂停记录 — the pension's pauses and restrictions, oldest first (none if you may "
            "not read benefits here)"
        )
    )
    async def benefit_holds(
        self, info: Info
    ) -> list[Annotated[BenefitHoldNode, strawberry.lazy("jubao.platform.api.entitlement")]]:
        from jubao.platform.api.entitlement import holds_of

        return await holds_of(info, self.row)

    @strawberry.field(
        description=(
            "待遇发放记录 — the person's payments, newest first (none if you may not read "
            "payroll here)"
        )
    )
    async def payments(
        self, info: Info, first: First = DEFAULT_PAGE, after: After = None
    ) -> Connection[Annotated[PayLineNode, strawberry.lazy("jubao.platform.api.payroll")]]:
        from jubao.platform.api.payroll import payments_of

        return await payments_of(info, self.row, first, after)

    @strawberry.field(
        description="个人账户对账单 — a year's statement (null if you may not read accounts)"
    )
    async def statement(self, info: Info, year: Year) -> StatementNode | None:
        return await _statement_of(info, self.row, int(year))


async def person_by_id(info: Info, person_id: int | None) -> PersonNode | None:
    if person_id is None:
        return None
    row = await info.context.loaders.person.load(person_id)
    return PersonNode.of(row) if row else None


async def _people(info: Info, ids: list[int]) -> list[PersonNode | None]:
    rows = await info.context.loaders.person.load_many(ids)
    return [PersonNode.of(row) if row else None for row in rows]


async def _contributions(info: Info, ids: list[int]) -> list[ContributionNode | None]:
    rows = await info.context.loaders.contribution.load_many(ids)
    return [ContributionNode.of(row) if row else None for row in rows]


register_node("Person", PersonNode, _people)
register_node("Contribution", ContributionNode, _contributions)


@strawberry.input(description="参保人查询条件 — filters for the person list")
class PersonFilter:
    region: RegionCode | None = strawberry.field(default=None, description="区划（含下级）")
    status: PersonStatus | None = None
    hukou: Hukou | None = None
    special_group: str | None = strawberry.field(default=None, description="参保身份代码")
    born_from: int | None = strawberry.field(default=None, description="出生年份起（1900–2100）")
    born_to: int | None = strawberry.field(default=None, description="出生年份止（1900–2100）")
    name_prefix: str | None = strawberry.field(
        default=None, description="姓名开头（至多 50 个字符） — name prefix"
    )
    id_number: IdNumber | None = strawberry.field(default=None, description="公民身份号码")


def _birth_year(info: Info, year: int) -> int:
    if not 1900 <= year <= 2100:
        raise problem(info.context.lang, Problem.BIRTH_YEAR, value=year)
    return year


def _filtered(info: Info, where: PersonFilter | None) -> Any:
    statement = select(Person)
    if where is None:
        return statement
    conditions = []
    if where.region is not None:
        conditions.append(Scope.of([where.region.prefix]).clause(Person.region_code))
    if where.status is not None:
        conditions.append(Person.status == where.status.value)
    if where.hukou is not None:
        conditions.append(Person.hukou == where.hukou.value)
    if (group := GROUP_CODE.optional(where.special_group, field="where.specialGroup")) is not None:
        conditions.append(Person.special_group == group)
    if where.born_from is not None:
        conditions.append(Person.birth_date >= date(_birth_year(info, where.born_from), 1, 1))
    if where.born_to is not None:
        conditions.append(Person.birth_date <= date(_birth_year(info, where.born_to), 12, 31))
    if (prefix := NAME_PREFIX.optional(where.name_prefix)) is not None:
        conditions.append(Person.name.startswith(prefix, autoescape=True))
    if where.id_number is not None:
        conditions.append(Person.id_number == where.id_number.value)
    return statement.where(and_(*conditions)) if conditions else statement


async def _preload(info: Info, rows: Sequence[Person]) -> None:
    # A page's balances in one query before its nodes resolve: each node's account is then
    # known at once, and the page resolves without a task per person.
    if asks_for(info, "edges", "node", "account"):
        await info.context.loaders.preload_balances([row.id for row in rows])


async def person_page(
    info: Info, statement: Select[Any], first: int, after: str | None
) -> Connection[PersonNode]:
    """A page of the people ``statement`` selects (a list for the villages: due, overdue, …)."""
    return await paginate(
        info,
        statement,
        Person.id,
        first=first,
        after=after,
        to_node=PersonNode.of,
        key_type=lambda text: int_key(text, INT64),
    )


@strawberry.type
class PersonQueries:
    @strawberry.field(
        description="参保人列表（您范围内） — people in your scope, filtered",
        permission_classes=[LoggedIn],
    )
    async def persons(
        self,
        info: Info,
        where: PersonFilter | None = None,
        first: First = DEFAULT_PAGE,
        after: After = None,
    ) -> Connection[PersonNode]:
        return await paginate(
            info,
            _filtered(info, where),
            Person.id,
            first=first,
            after=after,
            to_node=PersonNode.of,
            key_type=lambda text: int_key(text, INT64),
            preload=partial(_preload, info),
        )

    @strawberry.field(
        description="按身份证号码查询参保人 — a person by ID number; null if not in your scope",
        permission_classes=[LoggedIn],
    )
    async def person(self, info: Info, id_number: IdNumber) -> PersonNode | None:
        async with info.context.session() as session:
            row = await session.scalar(select(Person).where(Person.id_number == id_number.value))
        return PersonNode.of(row) if row else None
