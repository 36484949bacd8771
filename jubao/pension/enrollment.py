"""参保登记 (rulebook §5.1): the form, eligibility, and opening the record on approval."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError, ErrorCode
from jubao.orm import utcnow
from jubao.pension.applications import Application, Kind, Status
from jubao.pension.contributions import check_grade
from jubao.pension.crosscheck import EmployeeInsured
from jubao.pension.idnumber import IdNumber, Sex
from jubao.pension.people import (
    Person,
    PersonError,
    PersonStatus,
    check_address,
    check_bank_account,
    check_ethnicity,
    check_name,
    check_phone,
    record_event,
)
from jubao.pension.policy import Hukou, Policy, PolicyBook
from jubao.pension.workflow import Placement, parse_payload
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import Region
from jubao.text import quoted


class EligibilityError(ErrorCode):
    TOO_YOUNG = (
        "申请日未满 {min_age} 周岁（{age} 周岁），不能参保",
        "Under {min_age} on the application date ({age}); cannot enrol",
    )
    STUDENT = ("在校学生不参加城乡居保", "Students in school are not covered")
    ALREADY_ENROLLED = (
        "该身份证号码已在本省参保（{region}）",
        "This ID number is already enrolled in the province ({region})",
    )
    PENDING = (
        "该身份证号码已有待审核的参保登记申请",
        "An enrolment for this ID number is already waiting for review",
    )
    EMPLOYEE_SCHEME = (
        "该人员正在参加城镇职工基本养老保险，不能参加城乡居保",
        "This person is insured in the employees' scheme and cannot enrol",
    )


class EnrollmentPayload(BaseModel):
    """参保登记表."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id_number: str
    name: str
    sex: Sex | None = None  # cross-checked against the ID number when given
    birth_date: date | None = None
    ethnicity: str
    hukou: Hukou
    region: str  # the village or community of the 户籍
    address: str
    phone: str | None = None
    special_group: str | None = None
    bank_account: str | None = None
    grade: int = Field(gt=0)  # fen
    student: bool = False


def check_special_group(policy: Policy, code: str | None) -> str | None:
    code = (code or "").strip() or None
    if code is not None and policy.hardship.group(code) is None:
        raise DomainError(PersonError.SPECIAL_GROUP, field="specialGroup", value=quoted(code))
    return code


async def village(session: AsyncSession, code: str) -> RegionCode:
    region = RegionCode(code)
    if region.level is not Level.VILLAGE:
        raise DomainError(
            PersonError.NOT_A_VILLAGE, field="region", region=region.code, level=region.level.text
        )
    # Region codes are public: looked up unscoped (a Core query), so that a region outside the
    # caller's scope is "not yours", not "unknown".
    table = Region.__table__
    found = (
        await session.execute(select(table.c.valid_to).where(table.c.code == region.code))
    ).first()
    if found is None or found.valid_to is not None:
        raise DomainError(PersonError.UNKNOWN_REGION, field="region", region=region.code)
    return region


async def check_not_in_employee_scheme(session: AsyncSession, id_number: str, on: date) -> None:
    insured = await session.get(EmployeeInsured, id_number)
    if insured is not None and (insured.insured_to is None or insured.insured_to >= on):
        raise DomainError(EligibilityError.EMPLOYEE_SCHEME, field="idNumber")


async def check_not_enrolled(session: AsyncSession, id_number: str) -> None:
    # One person per ID number in the province: checked across every region (a Core query,
    # outside the caller's scope), revealing only which region holds the record.
    table = Person.__table__
    existing = (
        await session.execute(select(table.c.region_code).where(table.c.id_number == id_number))
    ).first()
    if existing is not None:
        raise DomainError(
            EligibilityError.ALREADY_ENROLLED, field="idNumber", region=existing.region_code[:6]
        )


async def check_no_open_enrollment(session: AsyncSession, id_number: str) -> None:
    table = Application.__table__
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
    session: AsyncSession, request: EnrollmentPayload, today: date
) -> tuple[EnrollmentPayload, IdNumber, RegionCode, Policy]:
    """All the checks of §5.1 that do not depend on other applications."""
    identity = IdNumber.parse(request.id_number, today=today)
    identity.check_matches(sex=request.sex, birth_date=request.birth_date)
    region = await village(session, request.region)
    policy = await PolicyBook(session).for_region(region, today.year)
    age = identity.age_on(today)
    if age < policy.enrollment.min_age:
        raise DomainError(
            EligibilityError.TOO_YOUNG, field="idNumber", min_age=policy.enrollment.min_age, age=age
        )
    if request.student:
        raise DomainError(EligibilityError.STUDENT, field="student")
    normalised = request.model_copy(
        update={
            "id_number": identity.value,
            "name": check_name(request.name),
            "sex": identity.sex,
            "birth_date": identity.birth_date,
            "ethnicity": check_ethnicity(request.ethnicity),
            "region": region.code,
            "address": check_address(request.address),
            "phone": check_phone(request.phone),
            "special_group": check_special_group(policy, request.special_group),
            "bank_account": check_bank_account(request.bank_account),
        }
    )
    check_grade(policy, request.grade)
    await check_not_enrolled(session, identity.value)
    await check_not_in_employee_scheme(session, identity.value, today)
    return normalised, identity, region, policy


class Enrollment:
    async def locate(self, session: AsyncSession, payload: dict[str, Any]) -> RegionCode:
        return await village(session, parse_payload(EnrollmentPayload, payload).region)

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request: EnrollmentPayload = parse_payload(EnrollmentPayload, payload)
        normalised, _, region, _ = await validate_form(session, request, today)
        await check_no_open_enrollment(session, normalised.id_number)
        return Placement(region, normalised.model_dump(mode="json"), subject=normalised.id_number)

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request: EnrollmentPayload = parse_payload(EnrollmentPayload, application.payload)
        normalised, identity, region, _ = await validate_form(session, request, today)
        person = await open_record(session, actor, normalised, identity, region, today)
        application.person_id = person.id
        record_event(session, actor, person, "enrolled", application_id=application.id)
        return {"person_id": person.id}


async def open_record(
    session: AsyncSession,
    actor: Actor,
    form: EnrollmentPayload,
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
