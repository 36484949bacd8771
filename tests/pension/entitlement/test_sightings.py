"""静默认证: a file of people seen alive verifies the recipients it names, once."""

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from jubao.pension.entitlement import verification
from jubao.pension.entitlement.sightings import SightingReport, import_sightings
from jubao.pension.entitlement.verification import Verification
from jubao.pension.month import Month
from jubao.pension.people.dated_lists import DatedListError
from jubao.pension.people.persons import Person
from jubao.pension.workflow.applications import Application, Kind
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.pension.benefits.support import contributor
from tests.pension.benefits.support import rules as rules
from tests.pension.benefits.test_payroll import ACCOUNT, awarded, pay_out
from tests.pension.entitlement.test_pauses import county_rules
from tests.pension.support import SYSTEM


async def run(acting: ActorFor, path: Path, today: date) -> SightingReport:
    async with acting("county.processor") as (actor, session):
        return await import_sightings(session, actor, path, today=today)


async def test_people_seen_alive_are_verified_once(
    services: Services, rules: None, acting: ActorFor, tmp_path: Path
) -> None:
    await county_rules(services, cycle_months=2)
    seen = await awarded(services, acting, 91, bank_account=ACCOUNT)
    paused = await awarded(services, acting, 92, bank_account=ACCOUNT)
    contributing = await contributor(services, date(1970, 3, 3), 93, range(2011, 2026))
    for month in (1, 2, 3):  # nobody verified: both paused from March
        if month == 3:
            async with acting("county.processor") as (actor, session):
                found = await session.get(Person, seen.id)
                assert found is not None
                await verification.record(
                    session,
                    actor,
                    found,
                    date(2027, 2, 27),
                    verification.Method.COUNTER,
                    today=date(2027, 2, 27),
                )
        await pay_out(acting, Month(2027, month))
    file = tmp_path / "seen.csv"
    file.write_text(
        "身份证号码,认证日期\n"
        f"{seen.id_number},2027-03-05\n"
        f"{seen.id_number},2027-03-20\n"  # the later sighting counts
        f"{paused.id_number},2027-03-11\n"
        f"{contributing.id_number},2027-03-11\n"  # not a recipient: counted, not named
        "110101194001010012,2027-03-11\n"  # nobody here
        f"{seen.id_number},2027-13-01\n"
        f"{paused.id_number},2099-01-01\n",
        encoding="utf-8",
    )
    report = await run(acting, file, date(2027, 3, 25))
    assert (report.verified, report.already, report.not_ours, report.resumptions) == (2, 0, 2, 1)
    assert [(line, error.code) for line, error in report.rejected] == [
        (7, DatedListError.DATE),
        (8, DatedListError.DATE),
    ]
    async with services.db.session(SYSTEM) as session:
        person = await session.get(Person, seen.id)
        assert person is not None and person.cycle_start == date(2027, 4, 1)
        waiting = await session.scalar(
            select(func.count()).where(
                Application.person_id == paused.id,
                Application.kind == Kind.BENEFIT_RESUMPTION.value,
            )
        )
        assert waiting == 1

    # a neighbour village's assistant verifies nobody of this village, and names nobody
    async with acting("village.neighbour") as (actor, session):
        elsewhere = await import_sightings(session, actor, file, today=date(2027, 3, 25))
    assert (elsewhere.verified, elsewhere.not_ours) == (0, 4)
    again = await run(acting, file, date(2027, 3, 25))
    assert (again.verified, again.already, again.resumptions) == (0, 2, 0)
    async with services.db.session(SYSTEM) as session:
        count = await session.scalar(select(func.count()).select_from(Verification))
    assert count == 3  # the counter's and the file's two
