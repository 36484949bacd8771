"""The application engine: submit, review, withdraw, and the reviewer's queue.

What each kind checks and does lives in its handler (``jubao.pension.workflow.kinds``); the engine
owns the rules common to all: who may submit (``process`` on the kind's object there), who
may take a step (``review`` granted at exactly that step's level over the application's
region), dynamic separation of duties, and one decision per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Select, and_, exists, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError
from jubao.orm import utcnow
from jubao.pension.people.persons import visible_person
from jubao.pension.policy.params import PolicyBook, level_of_step
from jubao.pension.workflow.applications import (
    KIND_OBJECTS,
    Application,
    ApplicationError,
    ApplicationReview,
    Decision,
    Kind,
    Status,
    status_text,
)
from jubao.pension.workflow.forms import read_form
from jubao.tenants.codes import Level, RegionCode
from jubao.text import COMMENT, REASON


@dataclass(frozen=True)
class Placement:
    """Where an application belongs and its form as stored (normalised). ``subject`` names
    what it is about (an ID number being enrolled, a person, a region and year): at most one
    application of a kind may be open for one subject."""

    region: RegionCode
    form: BaseModel
    person_id: int | None = None
    subject: str | None = None
    # a case the policy counts as high-risk: the last step is taken twice, by two reviewers
    second_review: bool = False


class Handler(Protocol):
    """What one kind of application checks and does. ``form`` is the kind's form (the one
    definition of what it holds, see `jubao.pension.workflow.forms`), ``result`` what carrying
    it out produced."""

    @property
    def form(self) -> type[BaseModel]: ...

    @property
    def result(self) -> type[BaseModel]: ...

    async def locate(self, session: AsyncSession, form: Any) -> RegionCode:
        """Where the application belongs, from the form alone: checked for ``process`` rights
        before anything is looked up (so that nothing tells what lies outside the caller's
        region)."""

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: Any, today: date
    ) -> Placement:
        """Check the request (raise `DomainError`) and say where it belongs."""

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, form: Any, today: date
    ) -> BaseModel:
        """Carry out an approved application; checks again what may have changed since."""


class PersonKind:
    """For kinds whose form names a ``person_id``: they belong where the person lives (a
    person outside the caller's scope is "not found", like one who does not exist)."""

    async def locate(self, session: AsyncSession, form: Any) -> RegionCode:
        return (await visible_person(session, form.person_id)).region


class RegionKind:
    """For kinds whose form names the ``region`` they cover."""

    async def locate(self, session: AsyncSession, form: Any) -> RegionCode:
        return RegionCode(form.region)


def _handlers() -> dict[Kind, Handler]:
    from jubao.pension.workflow.kinds import HANDLERS

    return HANDLERS


def review_levels(steps: Sequence[str], region: RegionCode) -> list[int]:
    """The levels an application placed at ``region`` passes, outermost last: steps below
    the application's own level are dropped, and a level is taken once. In a city without
    counties (东莞, 中山, 儋州, 嘉峪关: townships right under the city) the county step is the
    city's: its agency is the county agency there."""
    levels: list[int] = []
    for step in steps:
        level = level_of_step(step, region)
        if level > region.level:
            continue
        if level is Level.COUNTY and len(region.prefix_at(level)) < level.prefix_length:
            level = Level.CITY
        if int(level) not in levels:
            levels.append(int(level))
    return levels


def _chain(steps: Sequence[str], region: RegionCode, kind: Kind) -> list[int]:
    levels = review_levels(steps, region)
    if not levels:
        raise DomainError(ApplicationError.CHAIN, region=region.code, kind=kind.text)
    return levels


def _prefix_at(region_code: str, level: int) -> str:
    return RegionCode(region_code).prefix_at(Level(level))


async def submit(
    session: AsyncSession,
    actor: Actor,
    kind: Kind,
    payload: dict[str, Any],
    *,
    today: date,
) -> Application:
    handler = _handlers()[kind]
    form = read_form(handler.form, payload)
    located = await handler.locate(session, form)
    actor.require(kind.obj, Act.PROCESS, located, field=_place_field(handler))
    placement = await handler.prepare(session, actor, form, today)
    actor.require(kind.obj, Act.PROCESS, placement.region, field=_place_field(handler))
    policy = await PolicyBook(session).for_region(placement.region, today.year)
    chain = _chain(policy.chain(kind.value), placement.region, kind)
    if placement.second_review:
        chain.append(chain[-1])
    application = Application(
        kind=kind.value,
        region_code=placement.region.code,
        person_id=placement.person_id,
        subject=placement.subject,
        payload=placement.form.model_dump(mode="json", exclude_none=True),
        status=Status.IN_REVIEW.value,
        chain=chain,
        step=0,
        current_prefix=_prefix_at(placement.region.code, chain[0]),
        submitted_by=actor.operator_id or 0,
        submitted_by_name=actor.label,
        submitted_at=utcnow(),
    )
    session.add(application)
    try:
        await session.flush()
    except IntegrityError:
        raise DomainError(ApplicationError.PENDING, field=_place_field(handler)) from None
    audit.record(
        session,
        actor,
        "application.submit",
        f"application:{application.id}",
        region_code=application.region_code,
        kind=kind.value,
    )
    return application


def _place_field(handler: Handler) -> str:
    """The input field that places the application (the person, or the region)."""
    return "person" if isinstance(handler, PersonKind) else "region"


async def visible(
    session: AsyncSession, application_id: int, *, for_update: bool = False
) -> Application:
    """The application if the actor may see it; with ``for_update``, locked until the end of
    the transaction, so that deciders queue up instead of crossing (and deadlocking)."""
    application = await session.get(
        Application, application_id, with_for_update=for_update, populate_existing=for_update
    )
    if application is None:
        raise DomainError(ApplicationError.NOT_FOUND, field="application")
    return application


def _require_open(application: Application) -> None:
    status = Status(application.status)
    if status is not Status.IN_REVIEW:
        raise DomainError(ApplicationError.CLOSED, field="application", status=status_text(status))


async def review(
    session: AsyncSession,
    actor: Actor,
    application_id: int,
    decision: Decision,
    comment: str | None,
    *,
    today: date,
) -> Application:
    """Decide the current step. The last approval applies the application."""
    comment = COMMENT.or_blank().optional(comment)
    if decision is Decision.REJECT and not comment:
        raise DomainError(ApplicationError.COMMENT, field="comment")
    if actor.principal is None or actor.operator_id is None:
        raise DomainError(ApplicationError.SYSTEM_REVIEW)
    application = await visible(session, application_id, for_update=True)
    _require_open(application)
    kind = application.current_kind
    if application.submitted_by == actor.operator_id:
        raise DomainError(ApplicationError.OWN, field="application")
    level = application.chain[application.step]
    if application.current_prefix not in actor.principal.prefixes(kind.obj, Act.REVIEW):
        raise DomainError(
            ApplicationError.NOT_YOUR_STEP,
            field="application",
            level=Level(level).text,
            region=RegionCode.from_prefix(application.current_prefix or "").code,
            obj=kind.obj.text,
        )
    earlier = await session.scalar(
        select(ApplicationReview.id).where(
            ApplicationReview.application_id == application.id,
            ApplicationReview.reviewer_id == actor.operator_id,
        )
    )
    if earlier is not None:
        raise DomainError(ApplicationError.TWICE, field="application")

    session.add(
        ApplicationReview(
            application_id=application.id,
            step=application.step,
            level=level,
            reviewer_id=actor.operator_id,
            reviewer_name=actor.label,
            submitter_id=application.submitted_by,
            decision=decision.value,
            comment=comment,
            at=utcnow(),
        )
    )
    if decision is Decision.REJECT:
        _close(application, Status.REJECTED, comment)
    elif application.step + 1 < len(application.chain):
        application.step += 1
        application.current_prefix = _prefix_at(
            application.region_code, application.chain[application.step]
        )
    else:
        handler = _handlers()[kind]
        form = read_form(handler.form, application.payload)
        result = await handler.apply(session, actor, application, form, today)
        application.result = result.model_dump(mode="json")
        _close(application, Status.APPLIED, comment)
    try:
        await session.flush()
    except (IntegrityError, StaleDataError):
        # Another reviewer decided this step first (the row lock makes this rare; the unique
        # step and the version check make it certain): exactly one decision counts.
        raise DomainError(ApplicationError.CONFLICT, field="application") from None
    audit.record(
        session,
        actor,
        f"application.{decision.value}",
        f"application:{application.id}",
        region_code=application.region_code,
        kind=kind.value,
        step=application.step,
    )
    return application


def _close(application: Application, status: Status, comment: str | None) -> None:
    application.status = status.value
    application.current_prefix = None
    application.closed_at = utcnow()
    application.close_comment = comment


async def withdraw(
    session: AsyncSession, actor: Actor, application_id: int, reason: str | None
) -> Application:
    application = await visible(session, application_id, for_update=True)
    _require_open(application)
    if application.submitted_by != actor.operator_id:
        raise DomainError(ApplicationError.NOT_SUBMITTER, field="application")
    _close(application, Status.WITHDRAWN, REASON.or_blank().optional(reason))
    try:
        await session.flush()
    except StaleDataError:
        raise DomainError(ApplicationError.CONFLICT, field="application") from None
    audit.record(
        session,
        actor,
        "application.withdraw",
        f"application:{application.id}",
        region_code=application.region_code,
        reason=application.close_comment,
    )
    return application


def review_queue(actor: Actor) -> Select[Application]:
    """Applications waiting for a step this actor may take, oldest first."""
    principal = actor.principal
    if principal is None or actor.operator_id is None:
        return select(Application).where(false())
    by_object: dict[Obj, list[str]] = {}
    for kind, obj in KIND_OBJECTS.items():
        by_object.setdefault(obj, []).append(kind.value)
    waiting = [
        and_(Application.kind.in_(kinds), Application.current_prefix.in_(sorted(prefixes)))
        for obj, kinds in by_object.items()
        if (prefixes := principal.prefixes(obj, Act.REVIEW))
    ]
    if not waiting:
        return select(Application).where(false())
    already = exists().where(
        ApplicationReview.application_id == Application.id,
        ApplicationReview.reviewer_id == actor.operator_id,
    )
    return select(Application).where(
        Application.status == Status.IN_REVIEW.value,
        or_(*waiting),
        Application.submitted_by != actor.operator_id,
        ~already,
    )


async def history(session: AsyncSession, application: Application) -> list[ApplicationReview]:
    rows = await session.scalars(
        select(ApplicationReview)
        .where(ApplicationReview.application_id == application.id)
        .order_by(ApplicationReview.step)
    )
    return list(rows)
