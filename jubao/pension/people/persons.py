"""参保人: the person record, its state machine, its history, and personal-data masking."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode, Text
from jubao.orm import Base, BigId, utcnow
from jubao.pension.people.idnumber import Sex
from jubao.pension.policy.params import Hukou
from jubao.pension.workflow.forms import Amount, Personal
from jubao.tenants.abolition import AbolitionError, abolish_subtree
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import RegionScoped, Scope, unscoped
from jubao.text import ADDRESS, PERSON_NAME, quoted

# GB/T 3304 民族代码: 01–56, then 97 其他 and 98 外国血统中国籍人士
_ETHNIC_NAMES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 "
    "哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 "
    "柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 "
    "塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 "
    "鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()
ETHNICITIES = {f"{n:02d}": name for n, name in enumerate(_ETHNIC_NAMES, start=1)} | {
    "97": "其他",
    "98": "外国血统中国籍人士",
}
_PHONE = re.compile(r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}")
_BANK_ACCOUNT = re.compile(r"[0-9A-Z]{9,32}")


class PersonStatus(StrEnum):
    """居保状态 (参保状态 × 缴费状态, rulebook §3)."""

    CONTRIBUTING = "contributing"  # 正常缴费
    CONTRIBUTION_SUSPENDED = "contribution_suspended"  # 暂停缴费
    RECEIVING = "receiving"  # 正常待遇
    BENEFIT_SUSPENDED = "benefit_suspended"  # 暂停待遇
    TERMINATED = "terminated"  # 终止参保

    @property
    def text(self) -> Text:
        return Text(_STATUS_ZH[self], self.value.replace("_", " "))


_STATUS_ZH = {
    PersonStatus.CONTRIBUTING: "正常缴费",
    PersonStatus.CONTRIBUTION_SUSPENDED: "暂停缴费",
    PersonStatus.RECEIVING: "正常待遇",
    PersonStatus.BENEFIT_SUSPENDED: "暂停待遇",
    PersonStatus.TERMINATED: "终止参保",
}

TRANSITIONS: dict[PersonStatus, frozenset[PersonStatus]] = {
    PersonStatus.CONTRIBUTING: frozenset(
        {PersonStatus.CONTRIBUTION_SUSPENDED, PersonStatus.RECEIVING, PersonStatus.TERMINATED}
    ),
    PersonStatus.CONTRIBUTION_SUSPENDED: frozenset(
        {PersonStatus.CONTRIBUTING, PersonStatus.TERMINATED}
    ),
    PersonStatus.RECEIVING: frozenset({PersonStatus.BENEFIT_SUSPENDED, PersonStatus.TERMINATED}),
    PersonStatus.BENEFIT_SUSPENDED: frozenset({PersonStatus.RECEIVING, PersonStatus.TERMINATED}),
    PersonStatus.TERMINATED: frozenset(),
}


class PersonError(ErrorCode):
    NOT_FOUND = ("找不到该参保人", "No such person")
    ETHNICITY = (
        "民族代码“{value}”无效（GB/T 3304，如 01 汉族）",
        "Unknown ethnicity code '{value}'",
    )
    PHONE = ("联系电话格式不正确", "The phone number is malformed")
    BANK_ACCOUNT = (
        "银行账号或社保卡号应为 9–32 位数字或大写字母",
        "A bank account or social-security card number is 9–32 digits or capital letters",
    )
    SPECIAL_GROUP = (
        "特殊参保群体代码“{value}”不在本地政策的代码表中",
        "Special-group code '{value}' is not in the local policy's list",
    )
    NOT_A_VILLAGE = (
        "参保地必须是村（社区）级区划，{region} 是{level}级",
        "A person is registered in a village or community; {region} is a {level}",
    )
    TRANSITION = (
        "参保人当前为“{current}”，不能变为“{target}”",
        "A person who is '{current}' cannot become '{target}'",
    )
    STALE = (
        "该参保人的资料已被他人修改，请刷新后重试",
        "Someone else changed this person meanwhile; reload and try again",
    )


class Person(Base, RegionScoped):
    __tablename__ = "person"
    __scope_object__ = "person"
    __table_args__ = (
        Index("ix_person_region_code_status", "region_code", "status"),
        # whose verification cycle has lapsed: a few in a hundred of the recipients, found
        # without reading the others (each county's run asks before it pays; not a partial
        # index: the status is a parameter of the prepared statement)
        Index("ix_person_status_cycle_start", "status", "cycle_start", "region_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    sex: Mapped[int] = mapped_column(SmallInteger)
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    ethnicity: Mapped[str] = mapped_column(String(2))
    hukou: Mapped[str] = mapped_column(String(10))
    region_code: Mapped[str] = mapped_column(String(12), ForeignKey("region.code"))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    special_group: Mapped[str | None] = mapped_column(String(10), index=True)
    bank_account: Mapped[str | None] = mapped_column(String(32))
    # The grade chosen for the coming contributions (fen); it may change every year.
    grade: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(30))
    enrolled_on: Mapped[date] = mapped_column(Date)
    # 认证周期起算月 (first day): a recipient's verification cycle runs from this month (the
    # month after the award or the last verification); None before the award
    cycle_start: Mapped[date | None] = mapped_column(Date)
    # set for people brought in by a bulk import (historical data), with the file it came from
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's convention

    @property
    def region(self) -> RegionCode:
        return RegionCode(self.region_code)

    @property
    def current_status(self) -> PersonStatus:
        return PersonStatus(self.status)


class EventKind(StrEnum):
    """What happened to a person's record."""

    ENROLLED = "enrolled"  # 参保登记
    CHANGED = "changed"  # 变更登记
    SUSPENDED = "suspended"  # 暂停缴费
    RESUMED = "resumed"  # 恢复缴费
    AWARDED = "awarded"  # 待遇核定
    AWARD_CORRECTED = "award_corrected"  # 待遇核定更正
    BENEFIT_HELD = "benefit_held"  # 待遇暂停（或限制）
    BENEFIT_RESUMED = "benefit_resumed"  # 待遇恢复
    VERIFIED = "verified"  # 资格认证
    TERMINATED = "terminated"  # 注销登记


class PersonValues(BaseModel):
    """A person's registered data as an event records it, before and after: only what the
    event changed (a status change gives its reason)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: Annotated[str | None, Field(description="姓名")] = None
    id_number: Annotated[str | None, Personal("id_number"), Field(description="公民身份号码")] = (
        None
    )
    sex: Annotated[Sex | None, Field(description="性别")] = None
    birth_date: Annotated[date | None, Personal("birth_date"), Field(description="出生日期")] = None
    ethnicity: Annotated[str | None, Field(description="民族代码")] = None
    hukou: Annotated[Hukou | None, Field(description="户籍性质")] = None
    address: Annotated[str | None, Field(description="户籍地址")] = None
    phone: Annotated[str | None, Personal("phone"), Field(description="联系电话")] = None
    special_group: Annotated[str | None, Field(description="参保身份代码")] = None
    bank_account: Annotated[
        str | None, Personal("bank_account"), Field(description="银行账号或社保卡号")
    ] = None
    grade: Annotated[Amount | None, Field(description="缴费档次")] = None
    status: Annotated[PersonStatus | None, Field(description="居保状态")] = None
    reason: Annotated[str | None, Field(description="原因")] = None


class PersonEvent(Base, RegionScoped):
    """一人一档: every change to a person, with the before and after and who did it."""

    __tablename__ = "person_event"
    __scope_object__ = "person"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    application_id: Mapped[int | None] = mapped_column(index=True)
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def record_event(
    session: AsyncSession,
    actor: Actor,
    person: Person,
    kind: EventKind,
    *,
    application_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        PersonEvent(
            person_id=person.id,
            region_code=person.region_code,
            at=utcnow(),
            kind=kind.value,
            application_id=application_id,
            actor_id=actor.operator_id,
            actor=actor.label,
            before=before,
            after=after,
        )
    )


async def save_change(
    session: AsyncSession,
    actor: Actor,
    person: Person,
    kind: EventKind,
    *,
    application_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Store the changes made to ``person`` (refused if someone else changed them meanwhile)
    and file them in the person's record."""
    person.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise DomainError(PersonError.STALE, field="person") from None
    record_event(
        session, actor, person, kind, application_id=application_id, before=before, after=after
    )


async def visible_person(session: AsyncSession, person_id: int, field: str = "person") -> Person:
    """The person if the session's actor may see them; "not found" otherwise."""
    person = await session.get(Person, person_id)
    if person is None:
        raise DomainError(PersonError.NOT_FOUND, field=field)
    return person


def check_move(person: Person, target: PersonStatus) -> None:
    current = person.current_status
    if target not in TRANSITIONS[current]:
        raise DomainError(
            PersonError.TRANSITION, field="person", current=current.text, target=target.text
        )


def move_to(person: Person, target: PersonStatus) -> None:
    check_move(person, target)
    person.status = target.value


# --- field rules shared by enrollment, changes and imports ---------------------------------


def check_name(name: str, field: str = "name") -> str:
    return PERSON_NAME.clean(name, field=field)


def check_ethnicity(code: str, field: str = "ethnicity") -> str:
    code = unicodedata.normalize("NFKC", code).strip()
    if code not in ETHNICITIES:
        raise DomainError(PersonError.ETHNICITY, field=field, value=quoted(code))
    return code


def check_address(address: str, field: str = "address") -> str:
    return ADDRESS.clean(address, field=field)


def check_phone(phone: str | None, field: str = "phone") -> str | None:
    # Codes are compared as ASCII: full-width digits typed on a Chinese keyboard are the same.
    phone = unicodedata.normalize("NFKC", phone or "").strip() or None
    if phone is not None and not _PHONE.fullmatch(phone):
        raise DomainError(PersonError.PHONE, field=field)
    return phone


def check_bank_account(account: str | None, field: str = "bankAccount") -> str | None:
    account = unicodedata.normalize("NFKC", account or "").replace(" ", "").upper() or None
    if account is not None and not _BANK_ACCOUNT.fullmatch(account):
        raise DomainError(PersonError.BANK_ACCOUNT, field=field)
    return account


async def abolish_region(
    session: AsyncSession, actor: Actor, region: RegionCode, *, on: date, reason: str
) -> int:
    """Abolish a region and its subtree once nobody insured is registered there any more, so
    that no one belongs to a place that ended."""
    table = unscoped(Person)
    count = await session.scalar(
        select(func.count()).where(
            Scope.of([region.prefix]).clause(table.c.region_code),
            table.c.status != PersonStatus.TERMINATED.value,
        )
    )
    if count:
        raise DomainError(AbolitionError.IN_USE, field="region", region=region.code, count=count)
    return await abolish_subtree(session, actor, region, on=on, reason=reason)
