"""参保登记 (rulebook §5.1): the form, eligibility, and opening the record on approval."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode
from jubao.orm import utcnow
from jubao.pension.accounts.contributions import check_grade
from jubao.pension.benefits.rules import is_transitional
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.idnumber import IdNumber, Sex
from jubao.pension.people.persons import (
    EventKind,
    Person,
    PersonError,
    PersonStatus,
    check_bank_account,
    check_ethnicity,
    check_phone,
    record_event,
)
from jubao.pension.policy.params import Hukou, Policy, PolicyBook
from jubao.pension.workflow.applications import Application, Kind, Status
from jubao.pension.workflow.engine import Placement
from jubao.pension.workflow.forms import Amount, Personal, PersonRef, RegionCodeText
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import check_in_use
from jubao.tenants.scope import unscoped
from jubao.text import ADDRESS, PERSON_NAME, quoted


class EligibilityError(ErrorCode):
    TOO_YOUNG = (
        "申请日未满 {min_age} 周岁（{age} 周岁），不能参保",
        "Under {min_age} on the application date ({age}); cannot enrol",
    )
    STUDENT = ("在校学生不参加城乡居保", "Students in school are not covered")
    AT_PENSION_AGE = (
        "申请日已年满 {age} 周岁（领取待遇年龄为 {pension_age} 周岁），不能作为缴费人员参保；"
        "只有本县制度实施时已年满 {pension_age} 周岁的人员可参保并直接领取基础养老金",
        "{age} on the application date, at or over the pension age of {pension_age}: cannot "
        "enrol as a contributor; only people already {pension_age} when the county's scheme "
        "began enrol to be paid the basic pension",
    )
    ALREADY_ENROLLED = (
        "该身份证号码已在本省参保{where}",
        "This ID number is already enrolled in the province{where}",
    )
    PENDING = (
        "该身份证号码已有待审核的参保登记申请",
        "An enrolment for this ID number is already waiting for review",
    )
    EMPLOYEE_SCHEME = (
        "该人员正在参加城镇职工基本养老保险，不能参加城乡居保",
        "This person is insured in the employees' scheme and cannot enrol",
    )


class EnrollmentForm(BaseModel):
    """参保登记表."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_number: Annotated[
        str,
        Personal("id_number"),
        Field(description="公民身份号码（18 位；15 位旧号码自动升位） — citizen ID number"),
    ]
    name: Annotated[str, PERSON_NAME, Field(description="姓名 — name")]
    sex: Annotated[
        Sex | None, Field(description="性别（与身份证号码核对） — sex, checked against the number")
    ] = None
    birth_date: Annotated[
        date | None,
        Personal("birth_date"),
        Field(description="出生日期（与身份证号码核对） — birth date, checked against the number"),
    ] = None
    ethnicity: Annotated[str, Field(description="民族代码（GB/T 3304，如 01 汉族）")]
    hukou: Annotated[Hukou, Field(description="户籍性质 — hukou type")]
    region: Annotated[RegionCodeText, Field(description="户籍所在村（社区） — village")]
    address: Annotated[str, ADDRESS, Field(description="户籍地址 — registered address")]
    phone: Annotated[str | None, Personal("phone"), Field(description="联系电话 — phone")] = None
    special_group: Annotated[str | None, Field(description="参保身份代码 — special-group code")] = (
        None
    )
    bank_account: Annotated[
        str | None,
        Personal("bank_account"),
        Field(description="银行账号或社保卡号 — bank or social-security card account"),
    ] = None
    grade: Annotated[Amount, Field(description="缴费档次 — contribution grade")]
    student: Annotated[
        bool, Field(description="是否在校学生（在校学生不能参保） — a student in school")
    ] = False


class EnrollmentResult(BaseModel):
    person_id: Annotated[PersonRef, Field(description="参保人 — the person enrolled")]


def check_special_group(
    policy: Policy, code: str | None, field: str = "specialGroup"
) -> str | None:
    code = unicodedata.normalize("NFKC", code or "").strip() or None
    if code is not None and policy.hardship.group(code) is None:
        raise DomainError(PersonError.SPECIAL_GROUP, field=field, value=quoted(code))
    return code


def village_code(code: str) -> RegionCode:
    """A village code, read from the code alone (whether it exists is looked up later, once
    the caller's right to work there is known: see `village`)."""
    region = RegionCode(code)
    if region.level is not Level.VILLAGE:
        raise DomainError(
            PersonError.NOT_A_VILLAGE, field="region", region=region.code, level=region.level.text
        )
    return region


async def village(session: AsyncSession, code: str) -> RegionCode:
    """An existing, current village (the caller's right to work there was checked from the
    code: see `jubao.tenants.models.in_use`)."""
    region = village_code(code)
    await check_in_use(session, region)
    return region


async def check_not_in_employee_scheme(session: AsyncSession, id_number: str, on: date) -> None:
    insured = await session.get(EmployeeInsured, id_number)
    if insured is not None and (insured.insured_to is None or insured.insured_to >= on):
        raise DomainError(EligibilityError.EMPLOYEE_SCHEME, field="idNumber")


async def check_not_enrolled(
    session: AsyncSession, actor: Actor, id_number: str, field: str = "idNumber"
) -> None:
    """One person per ID number in the province: checked across every region (a Core query,
    outside the caller's scope). Where the record is held is said only to a caller who may
    read people there."""
    table = unscoped(Person)
    existing = (
        await session.execute(select(table.c.region_code).where(table.c.id_number == id_number))
    ).first()
    if existing is not None:
        held = RegionCode(existing.region_code)
        where = f"（{held.code[:6]}）" if actor.can(Obj.PERSON, Act.READ, held) else ""
        raise DomainError(EligibilityError.ALREADY_ENROLLED, field=field, where=where)


async def check_no_open_enrollment(session: AsyncSession, id_number: str) -> None:
    table = unscoped(Application)
    found = await session.execute(
        select(table.c.id).where(
            table.c.kind == Kind.ENROLLMENT.value,
            table.c.subject == id_number,
            table.c.status == Status.IN_REVIEW.value,
        )
    )
    if found.first() is not None:
        raise DomainError(EligibilityError.PENDING, field="idNumber")


async def validate_form(
    session: AsyncSession, actor: Actor, form: EnrollmentForm, today: date
) -> tuple[EnrollmentForm, IdNumber, RegionCode, Policy]:
    """All the checks of §5.1 that do not depend on other applications; the form as it is
    stored (normalised, with what the ID number says)."""
    identity = IdNumber.parse(form.id_number, today=today)
    identity.check_matches(sex=form.sex, birth_date=form.birth_date)
    region = await village(session, form.region)
    book = PolicyBook(session)
    policy = await book.for_region(region, today.year)
    age = identity.age_on(today)
    if age < policy.enrollment.min_age:
        raise DomainError(
            EligibilityError.TOO_YOUNG, field="idNumber", min_age=policy.enrollment.min_age, age=age
        )
    # the transitional path is a benefit rule: read in this month's rules, as the award reads it
    now = await book.for_region(region, today.year, today.month)
    if age >= now.enrollment.pension_age and not (
        now.scheme_rules is not None
        and is_transitional(identity.birth_date, now.scheme_rules, now.enrollment.pension_age)
    ):
        raise DomainError(
            EligibilityError.AT_PENSION_AGE,
            field="idNumber",
            age=age,
            pension_age=now.enrollment.pension_age,
        )
    if form.student:
        raise DomainError(EligibilityError.STUDENT, field="student")
    normalised = form.model_copy(
        update={
            "id_number": identity.value,
            "sex": identity.sex,
            "birth_date": identity.birth_date,
            "ethnicity": check_ethnicity(form.ethnicity),
            "region": region.code,
            "phone": check_phone(form.phone),
            "special_group": check_special_group(policy, form.special_group),
            "bank_account": check_bank_account(form.bank_account),
        }
    )
    check_grade(policy, form.grade)
    await check_not_enrolled(session, actor, identity.value)
    await check_not_in_employee_scheme(session, identity.value, today)
    return normalised, identity, region, policy


class Enrollment:
    form = EnrollmentForm
    result = EnrollmentResult

    async def locate(self, session: AsyncSession, form: EnrollmentForm) -> RegionCode:
        return village_code(form.region)

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: EnrollmentForm, today: date
    ) -> Placement:
        normalised, _, region, _ = await validate_form(session, actor, form, today)
        await check_no_open_enrollment(session, normalised.id_number)
        return Placement(region, normalised, subject=normalised.id_number)

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: EnrollmentForm,
        today: date,
    ) -> EnrollmentResult:
        normalised, identity, region, _ = await validate_form(session, actor, form, today)
        person = await open_record(session, actor, normalised, identity, region, today)
        application.person_id = person.id
        record_event(session, actor, person, EventKind.ENROLLED, application_id=application.id)
        return EnrollmentResult(person_id=person.id)


async def open_record(
    session: AsyncSession,
    actor: Actor,
    form: EnrollmentForm,
    identity: IdNumber,
    region: RegionCode,
    enrolled_on: date,
) -> Person:
    """Create the person (state 正常缴费); the account exists from the first credit on."""
    person = Person(
        id_number=identity.value,
        name=form.name,
        sex=int(identity.sex),
        birth_date=identity.birth_date,
        ethnicity=form.ethnicity,
        hukou=form.hukou.value,
        region_code=region.code,
        address=form.address,
        phone=form.phone,
        special_group=form.special_group,
        bank_account=form.bank_account,
        grade=form.grade,
        status=PersonStatus.CONTRIBUTING.value,
        enrolled_on=enrolled_on,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(person)
    await session.flush()
    return person
