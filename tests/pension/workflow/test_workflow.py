"""The maker-checker engine, driven through enrolment and the other kinds."""

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from jubao.authz.actor import AccessError
from jubao.authz.grants import grant_role
from jubao.authz.operators import create_operator
from jubao.errors import DomainError
from jubao.pension.accounts.contributions import ContributionError
from jubao.pension.people.enrollment import EligibilityError, EmployeeInsured
from jubao.pension.people.idnumber import IdNumberError
from jubao.pension.people.persons import Person, PersonError, PersonEvent, PersonStatus
from jubao.pension.workflow import engine as workflow
from jubao.pension.workflow.applications import (
    Application,
    ApplicationError,
    ApplicationReview,
    Decision,
    Kind,
    Status,
)
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import COUNTY_A, PASSWORD, TOWN_A, VILLAGE_A, VILLAGE_B, World
from tests.pension.support import SYSTEM, id_number

TODAY = date(2026, 11, 23)


def form(**overrides: Any) -> dict[str, Any]:
    return {
        "id_number": id_number(date(1970, 3, 15), 12),
        "name": "王秀英",
        "ethnicity": "01",
        "hukou": "rural",
        "region": VILLAGE_A.code,
        "address": "某村三组 12 号",
        "phone": "13812345678",
        "grade": 50000,
        **overrides,
    }


async def submit(acting: ActorFor, who: str, kind: Kind, payload: dict[str, Any]) -> Application:
    async with acting(who) as (actor, session):
        return await workflow.submit(session, actor, kind, payload, today=TODAY)


async def decide(
    acting: ActorFor,
    who: str,
    application_id: int,
    decision: Decision = Decision.APPROVE,
    comment: str | None = None,
) -> Application:
    async with acting(who) as (actor, session):
        return await workflow.review(session, actor, application_id, decision, comment, today=TODAY)


async def refused(coroutine: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coroutine
    return caught.value


async def test_enrolment_through_township_and_county(
    services: Services, world: World, acting: ActorFor
) -> None:
    application = await submit(acting, "village.assistant", Kind.ENROLLMENT, form())
    assert application.chain == [4, 3] and application.current_prefix == TOWN_A.prefix
    assert application.payload["sex"] == 2 and application.payload["birth_date"] == "1970-03-15"

    # the submitter never reviews; the county cannot take the township's step
    assert (await refused(decide(acting, "village.assistant", application.id))).code in {
        ApplicationError.OWN
    }
    wrong_step = await refused(decide(acting, "county.reviewer", application.id))
    assert wrong_step.code is ApplicationError.NOT_YOUR_STEP
    assert wrong_step.message() == "当前环节（乡镇级）须由 410121101000 的参保登记审核人员办理"

    first = await decide(acting, "township.reviewer", application.id)
    assert (first.step, first.current_prefix, first.status) == (
        1,
        COUNTY_A.prefix,
        Status.IN_REVIEW.value,
    )
    assert (
        await refused(decide(acting, "township.reviewer", application.id))
    ).code is ApplicationError.NOT_YOUR_STEP

    done = await decide(acting, "county.reviewer", application.id, comment="资料齐全")
    assert done.status == Status.APPLIED.value
    person_id = done.result["person_id"]
    async with services.db.session(SYSTEM) as session:
        person = await session.get(Person, person_id)
        events = (
            await session.scalars(select(PersonEvent).where(PersonEvent.person_id == person_id))
        ).all()
        reviews = (
            await session.scalars(select(ApplicationReview).order_by(ApplicationReview.step))
        ).all()
    assert person is not None
    assert (person.name, person.status, person.region_code, person.grade) == (
        "王秀英",
        "contributing",
        VILLAGE_A.code,
        50000,
    )
    assert person.enrolled_on == TODAY
    assert [e.kind for e in events] == ["enrolled"]
    assert [(r.step, r.reviewer_id, r.decision) for r in reviews] == [
        (0, world.ids["township.reviewer"], "approve"),
        (1, world.ids["county.reviewer"], "approve"),
    ]
    # closed: nothing more to decide
    assert (
        await refused(decide(acting, "county.reviewer", application.id))
    ).code is ApplicationError.CLOSED


async def test_eligibility_refusals(services: Services, world: World, acting: ActorFor) -> None:
    async with services.db.transaction(SYSTEM) as session:
        session.add(EmployeeInsured(id_number=id_number(date(1980, 1, 1), 21), imported_on=TODAY))
    cases = [
        (form(id_number=id_number(date(2011, 1, 1), 1)), EligibilityError.TOO_YOUNG),
        (form(student=True), EligibilityError.STUDENT),
        (form(id_number="41012119700315011X"), IdNumberError.CHECK_DIGIT),
        (form(id_number=id_number(date(1980, 1, 1), 21)), EligibilityError.EMPLOYEE_SCHEME),
        (form(region=TOWN_A.code), PersonError.NOT_A_VILLAGE),
        (form(grade=25000), ContributionError.GRADE),
        (form(special_group="999"), PersonError.SPECIAL_GROUP),
        (form(phone="12345"), PersonError.PHONE),
        (form(ethnicity="77"), PersonError.ETHNICITY),
        (form(sex=1), IdNumberError.SEX_MISMATCH),
    ]
    for payload, code in cases:
        error = await refused(submit(acting, "village.assistant", Kind.ENROLLMENT, payload))
        assert error.code is code, (payload, error)
    # another village is outside the assistant's scope
    error = await refused(
        submit(acting, "village.assistant", Kind.ENROLLMENT, form(region=VILLAGE_B.code))
    )
    assert error.code is AccessError.FORBIDDEN
    async with services.db.session(SYSTEM) as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0


async def test_one_enrolment_per_id_number(
    services: Services, world: World, acting: ActorFor
) -> None:
    first = await submit(acting, "village.assistant", Kind.ENROLLMENT, form())
    assert (
        await refused(submit(acting, "village.assistant", Kind.ENROLLMENT, form()))
    ).code is EligibilityError.PENDING
    await decide(acting, "township.reviewer", first.id)
    await decide(acting, "county.reviewer", first.id)
    again = await refused(
        submit(acting, "township.processor", Kind.ENROLLMENT, form(region="410121101202"))
    )
    assert again.code is EligibilityError.ALREADY_ENROLLED


async def test_reject_withdraw_and_the_queue(
    services: Services, world: World, acting: ActorFor
) -> None:
    one = await submit(acting, "village.assistant", Kind.ENROLLMENT, form())
    two = await submit(
        acting,
        "village.assistant",
        Kind.ENROLLMENT,
        form(id_number=id_number(date(1971, 1, 1), 14)),
    )

    async def queue(who: str) -> list[int]:
        async with acting(who) as (actor, session):
            return [a.id for a in await session.scalars(workflow.review_queue(actor))]

    assert await queue("township.reviewer") == [one.id, two.id]
    assert await queue("county.reviewer") == []
    assert await queue("village.assistant") == []
    assert (
        await refused(decide(acting, "township.reviewer", one.id, Decision.REJECT))
    ).code is ApplicationError.COMMENT
    rejected = await decide(
        acting, "township.reviewer", one.id, Decision.REJECT, "户口簿复印件不清晰"
    )
    assert (rejected.status, rejected.close_comment) == ("rejected", "户口簿复印件不清晰")
    assert (
        await refused(withdraw(acting, "township.processor", two.id))
    ).code is ApplicationError.NOT_SUBMITTER
    withdrawn = await withdraw(acting, "village.assistant", two.id)
    assert withdrawn.status == "withdrawn"
    assert await queue("township.reviewer") == []


async def withdraw(acting: ActorFor, who: str, application_id: int) -> Application:
    async with acting(who) as (actor, session):
        return await workflow.withdraw(session, actor, application_id, "填错了")


async def test_the_database_refuses_a_review_by_the_submitter(
    services: Services, world: World, acting: ActorFor
) -> None:
    application = await submit(acting, "village.assistant", Kind.ENROLLMENT, form())
    with pytest.raises(IntegrityError):
        async with services.db.transaction(SYSTEM) as session:
            session.add(
                ApplicationReview(
                    application_id=application.id,
                    step=0,
                    level=4,
                    reviewer_id=application.submitted_by,
                    reviewer_name="bypass",
                    submitter_id=application.submitted_by,
                    decision="approve",
                )
            )


async def test_concurrent_reviewers_exactly_one_decision_counts(
    services: Services, world: World, acting: ActorFor
) -> None:
    async with services.db.transaction(SYSTEM) as session:
        second = await create_operator(
            session,
            SYSTEM,
            services.settings.passwords,
            username="county.reviewer2",
            display_name="第二审核员",
            region=COUNTY_A,
            password=PASSWORD,
        )
        await grant_role(
            session,
            SYSTEM,
            user_id=second.id,
            role_name="agency_reviewer",
            region=COUNTY_A,
            reason="测试",
        )
    world.ids["county.reviewer2"] = second.id
    application = await submit(acting, "village.assistant", Kind.ENROLLMENT, form())
    await decide(acting, "township.reviewer", application.id)
    results = await asyncio.gather(
        decide(acting, "county.reviewer", application.id),
        decide(acting, "county.reviewer2", application.id, Decision.REJECT, "不同意"),
        return_exceptions=True,
    )
    decided = [r for r in results if isinstance(r, Application)]
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(decided) == 1 and len(failed) == 1, results
    assert isinstance(failed[0], DomainError)
    assert failed[0].code in {ApplicationError.CONFLICT, ApplicationError.CLOSED}
    async with services.db.session(SYSTEM) as session:
        assert await session.scalar(select(func.count()).select_from(ApplicationReview)) == 2
        persons = await session.scalar(select(func.count()).select_from(Person))
    assert persons == (1 if decided[0].status == "applied" else 0)


async def enrolled(acting: ActorFor, **overrides: Any) -> int:
    application = await submit(acting, "village.assistant", Kind.ENROLLMENT, form(**overrides))
    await decide(acting, "township.reviewer", application.id)
    done = await decide(acting, "county.reviewer", application.id)
    return done.result["person_id"]


async def test_a_change_keeps_before_and_after(
    services: Services, world: World, acting: ActorFor
) -> None:
    person_id = await enrolled(acting)
    new_id = id_number(date(1970, 3, 16), 13)
    payload = {
        "person_id": person_id,
        "changes": {"name": "王秀英", "id_number": new_id, "address": "新址 1 号"},
        "reason": "身份证号码登记错误",
    }
    application = await submit(acting, "village.assistant", Kind.CHANGE, payload)
    assert application.chain == [3]
    done = await decide(acting, "county.reviewer", application.id)
    assert done.result == {
        "person_id": person_id,
        "fields": ["address", "birthDate", "idNumber", "sex"],
    }
    async with services.db.session(SYSTEM) as session:
        person = await session.get(Person, person_id)
        event = await session.scalar(select(PersonEvent).where(PersonEvent.kind == "changed"))
    assert (
        person is not None and person.id_number == new_id and person.birth_date == date(1970, 3, 16)
    )
    assert (
        event is not None
        and event.before["address"] == "某村三组 12 号"
        and event.after["address"] == "新址 1 号"
    )
    nothing = await refused(
        submit(acting, "village.assistant", Kind.CHANGE, {**payload, "changes": {"name": "王秀英"}})
    )
    assert nothing.code.name == "NOTHING"


async def test_policy_change_is_reviewed(
    services: Services, world: World, acting: ActorFor
) -> None:
    payload = {
        "region": COUNTY_A.code,
        "effective_year": 2027,
        "title": "乐平县 2027 年缴费补贴提标",
        "params": {
            "subsidy": {
                "brackets": [{"grade": "100", "rural": "40", "urban": "40"}],
                "split": {"province": 6, "city": 2, "county": 2},
            }
        },
    }
    application = await submit(acting, "county.processor", Kind.POLICY, payload)
    assert application.chain == [3]
    done = await decide(acting, "county.reviewer", application.id)
    from jubao.pension.policy.params import Hukou, PolicyBook

    async with services.db.session(SYSTEM) as session:
        policy = await PolicyBook(session).for_region(VILLAGE_A, 2027)
    assert done.result["policy_set_id"] > 0
    assert policy.subsidy.amount(10000, Hukou.RURAL) == 4000
    outside = await refused(
        submit(acting, "county.processor", Kind.POLICY, {**payload, "region": "410221000000"})
    )
    assert outside.code is AccessError.FORBIDDEN


__all__ = ["TOWN_A", "PersonStatus"]
