"""The demo province's people: a few hundred invented residents across its villages, with
years of contributions (some paid by the government's 代缴 lists, some years missed), the
interest of every year that is over, and a few applications waiting for review — so that
every example in the README answers with data.

Made with the same services the real work uses (enrolment's record, the contribution
booking, the interest run), deterministically, once.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.pension.accounts.contributions import Channel, ContributionKind, assess, book
from jubao.pension.accounts.interest import post_interest
from jubao.pension.people.enrollment import EnrollmentForm, open_record
from jubao.pension.people.idnumber import IdNumber, check_character
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import Hukou, PolicyBook, PolicyFile, parse_params, save_policy
from jubao.pension.workflow.applications import Kind
from jubao.pension.workflow.engine import submit
from jubao.platform.db import Database
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.demo import SURNAMES
from jubao.tenants.models import Region

# The demo province's own rules over the national defaults: an interest rate (the rulebook's
# worked example uses 1.5 %; no national rate exists), the subsidy shared 6:2:2, the scheme
# begun in its counties in January 2016 (with the demo's first contributions), and a provincial
# layer of the basic pension with an age top-up (Hengyang's 12 yuan, rulebook §1.3; 65+ as
# MOHRSS 2018 advises).
DEMO_POLICY = PolicyFile(
    RegionCode("410000000000"),
    2014,
    "中原省城乡居保演示参数（演示数据，利率 1.5% 取自规则手册示例）",
    parse_params(
        {
            "interest": {"rate": "0.015"},
            "scheme": {"started": "2016-01"},
            "basic_pension": {"monthly": 12, "age_topups": [{"from_age": 65, "monthly": 10}]},
            "subsidy": {
                "brackets": [
                    {"grade": 100, "rural": 30, "urban": 30},
                    {"grade": 300, "rural": 40, "urban": 40},
                    {"grade": 500, "rural": 60, "urban": 60},
                    {"grade": 1000, "rural": 80, "urban": 80},
                ],
                "split": {"province": 6, "city": 2, "county": 2},
            },
        }
    ),
)
_GIVEN = (
    "秀英 桂兰 建国 建华 国强 志强 海燕 丽娟 玉兰 春梅 "
    "文华 金凤 红梅 永刚 德胜 淑珍 立新 晓明 丽华 俊杰"
).split()
_GRADES = (100, 100, 100, 200, 200, 300, 300, 500, 500, 1000, 2000)
FIRST_YEAR = 2016


async def seed_people(
    db: Database,
    actor: Actor,
    *,
    today: date,
    waiting_in: RegionCode,
    per_village: tuple[int, int] = (2, 5),
) -> int:
    """Enrol the demo people and give them their history, and leave a few enrolments in
    ``waiting_in`` (a village) waiting for review (once); returns how many were enrolled."""
    async with db.transaction(actor) as session:
        if await session.scalar(select(func.count()).select_from(Person)):
            return 0
        await save_policy(session, actor, DEMO_POLICY, reason="演示数据")
        count = await _people(session, actor, today, per_village, waiting_in)
    last_year = today.year - 1
    for year in range(FIRST_YEAR, last_year + 1):  # each year that is over, in order
        await post_interest(
            lambda: db.transaction(actor), actor, RegionCode("410000000000"), year, today=today
        )
    return count


async def _people(
    session: AsyncSession,
    actor: Actor,
    today: date,
    per_village: tuple[int, int],
    waiting_in: RegionCode,
) -> int:
    rng = random.Random(2026)  # noqa: S311 - invented people, not secrets
    villages = (
        await session.scalars(
            select(Region.code).where(Region.level == int(Level.VILLAGE)).order_by(Region.code)
        )
    ).all()
    book_of_rules = PolicyBook(session)
    taken: set[str] = set()
    count = 0
    for code in villages:
        village = RegionCode(code)
        for _ in range(rng.randint(*per_village)):
            person = await _enrol(session, actor, rng, village, taken, today)
            await _history(session, book_of_rules, rng, person, today)
            count += 1
    await _waiting(session, actor, rng, waiting_in, taken, today)
    # the elder, whose account is empty, lives outside the first township where there is
    # another (the README's example lists that township's people with their accounts)
    town, county = waiting_in.prefix_at(Level.TOWNSHIP), waiting_in.prefix_at(Level.COUNTY)
    elsewhere = [code for code in villages if not code.startswith(town)]
    nearby = [code for code in elsewhere if code.startswith(county)]
    elder_in = RegionCode((nearby or elsewhere or [waiting_in.code])[0])
    count += await _retiring(
        session, actor, book_of_rules, rng, (waiting_in, elder_in), taken, today
    )
    return count


async def _retiring(
    session: AsyncSession,
    actor: Actor,
    book_of_rules: PolicyBook,
    rng: random.Random,
    villages: tuple[RegionCode, RegionCode],
    taken: set[str],
    today: date,
) -> int:
    """Two people whose pension can be claimed now: in the first village one who reaches 60
    next month having paid every year since the scheme began (49 then: 11 years required), in
    the second one who was already of age then (the basic pension alone)."""
    # born on the 1st, they were 49 when the scheme began on 1 January 2016 (as the demo
    # runs in 2026), so the years paid since are those required
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    people = (
        (villages[0], next_month.replace(year=next_month.year - 60), date(FIRST_YEAR, 1, 1), True),
        (villages[1], date(1950, 5, 20), today, False),
    )
    for village, birth, enrolled_on, pays in people:
        identity = _identity(rng, village, taken, birth)
        form = _form(rng, village, identity).model_copy(update={"special_group": "011"})
        person = await open_record(session, actor, form, identity, village, enrolled_on)
        for year in range(FIRST_YEAR, today.year + 1) if pays else ():
            policy = await book_of_rules.for_region(person.region, year)
            assessment = assess(
                policy, grade=person.grade, hukou=Hukou(person.hukou), special_group="011"
            )
            await book(
                session,
                person,
                year,
                assessment,
                None,
                kind=ContributionKind.NORMAL,
                channel=Channel.BANK,
                paid_on=min(date(year, 3, 15), today),
            )
    return len(people)


def _identity(
    rng: random.Random, village: RegionCode, taken: set[str], birth: date | None = None
) -> IdNumber:
    """A new valid ID number of someone born on ``birth`` (by default some day of 1968–2004)
    and registered in the village's county."""
    while True:
        birth = birth or date(rng.randint(1968, 2004), rng.randint(1, 12), rng.randint(1, 28))
        body = f"{village.code[:6]}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        number = body + check_character(body)
        if number not in taken:
            taken.add(number)
            return IdNumber.read(number)


def _form(rng: random.Random, village: RegionCode, identity: IdNumber) -> EnrollmentForm:
    hardship = rng.random() < 0.08
    return EnrollmentForm(
        id_number=identity.value,
        name=rng.choice(SURNAMES) + rng.choice(_GIVEN),
        ethnicity="01",
        hukou=Hukou.URBAN if village.code[9] == "0" else Hukou.RURAL,  # communities are 0xx
        region=village.code,
        address=f"{rng.randint(1, 12)}组{rng.randint(1, 60)}号",
        phone=f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
        special_group=rng.choice(("031", "061")) if hardship else "011",
        bank_account=None if rng.random() < 0.1 else f"62220{rng.randint(0, 10**13):014d}",
        grade=100 * rng.choice(_GRADES),
    )


async def _waiting(
    session: AsyncSession,
    actor: Actor,
    rng: random.Random,
    village: RegionCode,
    taken: set[str],
    today: date,
) -> None:
    """A few enrolments in one village waiting for the township's review, and changes of
    phone number there waiting for the county's."""
    for _ in range(3):
        form = _form(rng, village, _identity(rng, village, taken))
        await submit(session, actor, Kind.ENROLLMENT, form.model_dump(mode="json"), today=today)
    people = await session.scalars(
        select(Person.id).where(Person.region_code == village.code).order_by(Person.id).limit(2)
    )
    for person_id in people:
        change = {
            "person_id": person_id,
            "changes": {"phone": f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"},
            "reason": "更换手机号码",
        }
        await submit(session, actor, Kind.CHANGE, change, today=today)


async def _enrol(
    session: AsyncSession,
    actor: Actor,
    rng: random.Random,
    village: RegionCode,
    taken: set[str],
    today: date,
) -> Person:
    identity = _identity(rng, village, taken)
    birth = identity.birth_date
    earliest = max(date(birth.year + 16, birth.month, birth.day), date(FIRST_YEAR, 1, 1))
    enrolled_on = min(earliest + timedelta(days=rng.randint(0, 5 * 365)), today)
    form = _form(rng, village, identity)
    return await open_record(session, actor, form, identity, village, enrolled_on)


async def _history(
    session: AsyncSession,
    book_of_rules: PolicyBook,
    rng: random.Random,
    person: Person,
    today: date,
) -> None:
    """A contribution for most years since enrolment (the government's 代缴 for hardship
    groups), paid at a date in the year after enrolment and before today."""
    listed = person.special_group in ("031", "061")
    for year in range(person.enrolled_on.year, today.year + 1):
        if not listed and rng.random() < 0.15:
            continue  # a year missed
        first = max(person.enrolled_on, date(year, 1, 1))
        last = min(today, date(year, 12, 31))
        if first > last:
            continue
        paid_on = first + timedelta(days=rng.randint(0, (last - first).days))
        policy = await book_of_rules.for_region(person.region, year)
        grade = policy.contribution.minimum if listed else person.grade
        assessment = assess(
            policy, grade=grade, hukou=Hukou(person.hukou), special_group=person.special_group
        )
        await book(
            session,
            person,
            year,
            assessment,
            None,
            kind=ContributionKind.NORMAL,
            channel=Channel.HARDSHIP_LIST if listed else Channel.BANK,
            paid_on=paid_on,
        )
