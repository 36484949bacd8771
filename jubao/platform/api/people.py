"""参保人 in the API: the person, their account, contributions and history; the scoped list.

ID numbers, phone numbers and bank accounts are masked unless the caller's role carries the
personal-data right (``pii``) over the person's village; every unmasked value served is
recorded in the audit trail (one event per batch of people).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from datetime import date, datetime
from functools import partial
from inspect import isawaitable
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeVar

import strawberry
from sqlalchemy import and_, select
from strawberry import relay
from strawberry.scalars import JSON

from jubao.authz.vocabulary import Act, Obj
from jubao.pension import ledger
from jubao.pension.contributions import Contribution as ContributionRow
from jubao.pension.idnumber import IdNumber, mask_id_number
from jubao.pension.ledger import Component
from jubao.pension.people import (
    ETHNICITIES,
    Person,
    PersonEvent,
    Read,
    mask_bank_account,
    mask_birth_date,
    mask_phone,
    may_see_personal_data,
)
from jubao.platform.api.context import Info
from jubao.platform.api.enums import (
    AccountComponent,
    ContributionChannel,
    ContributionKind,
    EntryKind,
    Hukou,
    PersonStatus,
    Sex,
)
from jubao.platform.api.errors import Problem, problem
from jubao.platform.api.ids import INT64, int_key
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

if TYPE_CHECKING:
    from jubao.platform.api.applications import Application

T = TypeVar("T")

PERSONAL_FIELDS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "bank_account": mask_bank_account,
    "birth_date": mask_birth_date,
}


def personal(
    info: Info, region: RegionCode, subject: str, field: str, value: str | None
) -> str | Awaitable[str] | None:
    """The value itself if the caller may see personal data in ``region`` (the read is then
    recorded against ``subject``, e.g. "person:12"), else masked.

    A masked value comes back at once: a page of people read without the right then costs no
    coroutine per field, which is most of what GraphQL spends on a page."""
    if value is None:
        return None
    if may_see_personal_data(info.context.actor, region):
        return _recorded(info, Read(region.code, subject, field), value)
    return PERSONAL_FIELDS[field](value)  # type: ignore[operator]


async def _recorded(info: Info, read: Read, value: T) -> T:
    await info.context.loaders.reveal.load(read)
    return value


async def masked_values(
    info: Info, region: RegionCode, subject: str, values: dict[str, Any] | None
) -> Any:
    """A dict (history, payloads) with its personal-data fields shown or masked alike, at
    any depth (a change application holds the new values under ``changes``). The values shown
    are recorded together, as one read."""
    if values is None:
        return None
    shown_later: list[tuple[dict[str, Any], str, Awaitable[str]]] = []

    def walk(source: dict[str, Any]) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for key, value in source.items():
            if isinstance(value, dict):
                shown[key] = walk(value)
            elif isinstance(value, list):
                shown[key] = [walk(v) if isinstance(v, dict) else v for v in value]
            elif key in PERSONAL_FIELDS and isinstance(value, str):
                found = personal(info, region, subject, key, value)
                if isawaitable(found):
                    shown_later.append((shown, key, found))
                shown[key] = found
            else:
                shown[key] = value
        return shown

    result = walk(values)
    if shown_later:
        found = await asyncio.gather(*(value for _, _, value in shown_later))
        for (target, key, _), value in zip(shown_later, found, strict=True):
            target[key] = value
    return result


@strawberry.type(description="账户某一组成部分的余额 — the balance of one account component")
class ComponentBalance:
    component: AccountComponent  # type: ignore[valid-type]
    balance: Money


def _component_list(amounts: dict[Component, int] | dict[str, int]) -> list[ComponentBalance]:
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
        balances=_component_list(amounts),
        total=Money(sum(amounts.values())),
        government=Money(sum(v for c, v in amounts.items() if Component(c).government)),
    )


async def _account_later(amounts: Awaitable[dict[str, int]]) -> Account:
    return _account(await amounts)


@strawberry.type(name="Contribution", description="缴费记录 — one year's contribution")
class Contribution:
    year: Year
    kind: ContributionKind  # type: ignore[valid-type]
    channel: ContributionChannel  # type: ignore[valid-type]
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

    @classmethod
    def of(cls, row: ContributionRow) -> Self:
        return cls(
            year=Year(row.year),
            kind=row.kind,  # type: ignore[arg-type]
            channel=row.channel,  # type: ignore[arg-type]
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


@strawberry.type(description="对账单明细 — one line of a statement")
class StatementLine:
    value_date: date
    year: Year = strawberry.field(description="所属年度 — the year it belongs to")
    component: AccountComponent  # type: ignore[valid-type]
    kind: EntryKind  # type: ignore[valid-type]
    amount: Money
    memo: str | None


@strawberry.type(description="个人账户对账单 — the account statement for one year")
class Statement:
    year: Year
    opening: list[ComponentBalance] = strawberry.field(description="期初余额 — at 1 January")
    lines: list[StatementLine]
    closing: list[ComponentBalance] = strawberry.field(description="期末余额 — at 31 December")
    opening_total: Money
    closing_total: Money
    interest: Money = strawberry.field(description="本年利息 — interest credited this year")
    credited: Money = strawberry.field(description="本年缴费入账 — contributions this year")


@strawberry.type(description="档案记录 — an entry of the person's archive (一人一档)")
class PersonEventNode:
    kind: str = strawberry.field(description="enrolled 参保, changed 变更, …")
    at: datetime
    actor: str = strawberry.field(description="经手人 — who did it")
    application_id: strawberry.ID | None
    before: JSON | None
    after: JSON | None


@strawberry.type(name="Person", description="参保人 — an insured person")
class PersonNode(relay.Node):
    name: str = strawberry.field(description="姓名")
    sex: Sex  # type: ignore[valid-type]
    birth_year: int = strawberry.field(description="出生年份")
    ethnicity: str = strawberry.field(description="民族代码 — GB/T 3304 code")
    hukou: Hukou  # type: ignore[valid-type]
    region_code: RegionCode = strawberry.field(description="参保村（社区） — village code")
    address: str = strawberry.field(description="户籍地址")
    special_group: str | None = strawberry.field(description="参保身份/特殊群体代码")
    grade: Money = strawberry.field(description="选择的缴费档次 — the grade chosen")
    status: PersonStatus  # type: ignore[valid-type]
    enrolled_on: date = strawberry.field(description="参保日期")
    row: strawberry.Private[Person]

    @classmethod
    def of(cls, row: Person) -> Self:
        return cls(
            row=row,
            name=row.name,
            sex=row.sex,  # type: ignore[arg-type]
            birth_year=row.birth_date.year,
            ethnicity=row.ethnicity,
            hukou=row.hukou,  # type: ignore[arg-type]
            region_code=RegionCode(row.region_code),
            address=row.address,
            special_group=row.special_group,
            grade=Money(row.grade),
            status=row.status,  # type: ignore[arg-type]
            enrolled_on=row.enrolled_on,
        )

    @property
    def _whose(self) -> tuple[RegionCode, str]:
        return self.region_code, f"person:{self.row.id}"

    @classmethod
    def resolve_id(cls, root: Self, *, info: Info) -> str:
        return str(root.row.id)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        keys = [int_key(k, INT64) for k in node_ids]
        rows = await info.context.loaders.person.load_many([k for k in keys if k is not None])
        found = {row.id: row for row in rows if row is not None}
        return [cls.of(found[k]) if k in found else None for k in keys]

    @strawberry.field(
        graphql_type=str,
        description="公民身份号码（无权限时脱敏） — ID number, masked without the right",
    )
    def id_number(self, info: Info) -> str | Awaitable[str] | None:
        return personal(info, *self._whose, "id_number", self.row.id_number)

    @strawberry.field(graphql_type=str | None, description="联系电话（无权限时脱敏）")
    def phone(self, info: Info) -> str | Awaitable[str] | None:
        return personal(info, *self._whose, "phone", self.row.phone)

    @strawberry.field(graphql_type=str | None, description="银行账号或社保卡号（无权限时脱敏）")
    def bank_account(self, info: Info) -> str | Awaitable[str] | None:
        return personal(info, *self._whose, "bank_account", self.row.bank_account)

    @strawberry.field(
        graphql_type=date | None,
        description=(
            "出生日期（无权限时为空：脱敏的身份证号码隐去的正是出生日期） — null without the "
            "right, as the masked ID number hides exactly these digits; see birthYear"
        ),
    )
    def birth_date(self, info: Info) -> date | Awaitable[date] | None:
        if not may_see_personal_data(info.context.actor, self.region_code):
            return None
        return _recorded(
            info, Read(self.region_code.code, self._whose[1], "birth_date"), self.row.birth_date
        )

    @strawberry.field(
        description="是否可见完整个人敏感信息 — whether personal data is shown unmasked"
    )
    def personal_data_visible(self, info: Info) -> bool:
        return may_see_personal_data(info.context.actor, self.region_code)

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
    async def contributions(self, info: Info) -> list[Contribution]:
        rows = await info.context.loaders.contributions.load(self.row.id)
        return [Contribution.of(r) for r in rows]

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
        # together, so that the values shown are recorded as one read
        shown = await asyncio.gather(
            *(
                masked_values(info, *self._whose, values)
                for e in rows
                for values in (e.before, e.after)
            )
        )
        return [
            PersonEventNode(
                kind=e.kind,
                at=e.at,
                actor=e.actor,
                application_id=strawberry.ID(str(e.application_id)) if e.application_id else None,
                before=shown[2 * n],
                after=shown[2 * n + 1],
            )
            for n, e in enumerate(rows)
        ]

    @strawberry.field(description="个人账户对账单 — the statement for one year")
    async def statement(self, info: Info, year: Year) -> Statement:
        result = await info.context.loaders.statement.load((self.row.id, int(year)))
        return Statement(
            year=year,
            opening=_component_list(result.opening),
            closing=_component_list(result.closing),
            lines=[
                StatementLine(
                    value_date=line.value_date,
                    year=Year(line.year),
                    component=line.component,  # type: ignore[arg-type]
                    kind=line.kind,  # type: ignore[arg-type]
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


@strawberry.input(description="参保人查询条件 — filters for the person list")
class PersonFilter:
    region: RegionCode | None = strawberry.field(default=None, description="区划（含下级）")
    status: PersonStatus | None = None  # type: ignore[valid-type]
    hukou: Hukou | None = None  # type: ignore[valid-type]
    special_group: str | None = strawberry.field(default=None, description="参保身份代码")
    born_from: int | None = strawberry.field(default=None, description="出生年份起（1900–2100）")
    born_to: int | None = strawberry.field(default=None, description="出生年份止（1900–2100）")
    name_prefix: str | None = strawberry.field(default=None, description="姓名开头 — name prefix")
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
    if where.special_group is not None:
        conditions.append(Person.special_group == where.special_group)
    if where.born_from is not None:
        conditions.append(Person.birth_date >= date(_birth_year(info, where.born_from), 1, 1))
    if where.born_to is not None:
        conditions.append(Person.birth_date <= date(_birth_year(info, where.born_to), 12, 31))
    if where.name_prefix:
        conditions.append(Person.name.startswith(where.name_prefix.strip(), autoescape=True))
    if where.id_number is not None:
        conditions.append(Person.id_number == where.id_number.value)
    return statement.where(and_(*conditions)) if conditions else statement


async def _preload(info: Info, rows: Sequence[Person]) -> None:
    # A page's balances in one query before its nodes resolve: each node's account is then
    # known at once, and the page resolves without a task per person.
    if asks_for(info, "edges", "node", "account"):
        await info.context.loaders.preload_balances([row.id for row in rows])


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
