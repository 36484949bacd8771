"""The records that are never edited refuse edits in the database itself."""

from datetime import date

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from jubao import audit
from jubao.audit import AuditEvent
from jubao.pension.accounts.ledger import AccountEntry, FundEntry, LedgerTxn
from jubao.pension.people.persons import EventKind, PersonEvent, record_event
from jubao.pension.workflow.applications import ApplicationReview, Kind
from jubao.platform.services import Services
from tests.conftest import ActorFor
from tests.helpers import VILLAGE_A, World
from tests.pension.accounts.test_interest import pay
from tests.pension.support import SYSTEM, enrol
from tests.pension.workflow.test_workflow import decide, form, submit


@pytest.mark.parametrize(
    "model", [AccountEntry, LedgerTxn, FundEntry, PersonEvent, AuditEvent, ApplicationReview]
)
async def test_updates_and_deletes_are_refused(
    services: Services, world: World, acting: ActorFor, model: type
) -> None:
    submitted = await submit(acting, "village.assistant", Kind.ENROLLMENT, form())
    await decide(acting, "township.reviewer", submitted.id)  # a review decision
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=2, region=VILLAGE_A, enrolled_on=date(2023, 2, 1)
    )
    await pay(services, person, 2023, date(2023, 2, 1))
    async with services.db.transaction(SYSTEM) as session:
        audit.record(session, SYSTEM, "test.read", f"person:{person.id}")
        record_event(session, SYSTEM, person, EventKind.CHANGED, before={"phone": None})
    async with services.db.session(SYSTEM) as session:
        before = await session.scalar(select(func.count()).select_from(model))
    assert before
    for change in (update(model).values(id=model.id), delete(model)):  # type: ignore[attr-defined]
        with pytest.raises(DBAPIError, match="append-only"):
            async with services.db.transaction(SYSTEM) as session:
                await session.execute(change)
    async with services.db.session(SYSTEM) as session:
        assert await session.scalar(select(func.count()).select_from(model)) == before
