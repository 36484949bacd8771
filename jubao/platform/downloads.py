"""File downloads beside the GraphQL endpoint, with the same bearer token as the API:

- ``GET /statements/{person id}/{year}.csv`` (or ``.xlsx``): a person's account statement;
- ``GET /benefits/awards/{person id}.xlsx`` (or ``.csv``): the person's 待遇核定表;
- ``GET /terminations/{person id}.xlsx`` (or ``.csv``): the person's 注销登记表;
- ``GET /benefits/due/{region code}/{YYYY-MM}.xlsx`` (or ``.csv``): the 领取待遇通知表 of the
  people of a region (in the caller's scope) who reach the pension age that month;
- ``GET /verification/{due|overdue|paused}/{region code}/{YYYY-MM}.xlsx`` (or ``.csv``): the
  month's verification lists of a region's recipients (in the caller's scope).

Someone outside the caller's scope, or whose records the caller may not read, is "not found";
ID numbers are printed in full only for callers with the personal-data right (and that read is
recorded).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, Lang
from jubao.pension.accounts.statements import statement_file
from jubao.pension.benefits.award_sheet import award_file
from jubao.pension.benefits.correction import current_award
from jubao.pension.benefits.due import due_file
from jubao.pension.entitlement.lists import list_file
from jubao.pension.entitlement.verification import ListKind
from jubao.pension.month import Month
from jubao.pension.people.persons import Person
from jubao.pension.termination.sheet import termination_file
from jubao.pension.termination.termination import Termination
from jubao.platform.api.errors import Problem
from jubao.platform.api.ids import INT64, int_key, int_key_of
from jubao.platform.authn import authenticate_token, bearer_token
from jubao.platform.http import Refused, refusal
from jubao.platform.services import Services
from jubao.platform.tokens import TokenError
from jubao.tenants.codes import RegionCode

_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def authenticated(request: Request) -> Actor | Response:
    """The authenticated caller, or the answer that refuses them."""
    services: Services = request.app.state.services
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise DomainError(TokenError.MISSING)
        caller = await authenticate_token(services, token)
    except DomainError as error:
        unauthenticated = Refused(
            401, error.code, under=Problem.UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"}
        )
        return refusal(request.scope, unauthenticated)
    if caller.operator.password_expired:
        return refusal(request.scope, Refused(403, Problem.PASSWORD_CHANGE_REQUIRED))
    return caller.actor


def _file(body: bytes, fmt: str, filename: str) -> Response:
    return Response(
        body,
        media_type=_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def request_lang(request: Request) -> Lang:
    return Lang.from_accept_language(request.headers.get("accept-language"))


async def download_statement(request: Request) -> Response:
    actor = await authenticated(request)
    if isinstance(actor, Response):
        return actor
    fmt = request.path_params["format"]
    person_id = int_key_of(request.path_params["person"], "Person", INT64)
    year = int_key(request.path_params["year"], 2100)
    not_found = refusal(request.scope, Refused(404, Problem.NO_SUCH_PERSON))
    if fmt not in _TYPES or person_id is None or year is None or year < 2009:
        return not_found
    services: Services = request.app.state.services
    async with services.db.transaction(actor) as session:
        person = await session.get(Person, person_id)
        if person is None or not actor.can(Obj.ACCOUNT, Act.READ, person.region):
            return not_found
        body = await statement_file(session, actor, person, year, fmt, request_lang(request))
    return _file(body, fmt, f"statement-{person.id}-{year}")


async def download_award(request: Request) -> Response:
    actor = await authenticated(request)
    if isinstance(actor, Response):
        return actor
    fmt = request.path_params["format"]
    person_id = int_key_of(request.path_params["person"], "Person", INT64)
    not_found = refusal(request.scope, Refused(404, Problem.NO_SUCH_PERSON))
    if fmt not in _TYPES or person_id is None:
        return not_found
    services: Services = request.app.state.services
    async with services.db.transaction(actor) as session:
        person = await session.get(Person, person_id)
        if person is None or not actor.can(Obj.BENEFIT, Act.READ, person.region):
            return not_found
        row = await current_award(session, person.id)
        if row is None:
            return refusal(request.scope, Refused(404, Problem.NO_SUCH_AWARD))
        body = await award_file(session, actor, person, row, fmt, request_lang(request))
    return _file(body, fmt, f"award-{person.id}")


async def download_termination(request: Request) -> Response:
    actor = await authenticated(request)
    if isinstance(actor, Response):
        return actor
    fmt = request.path_params["format"]
    person_id = int_key_of(request.path_params["person"], "Person", INT64)
    not_found = refusal(request.scope, Refused(404, Problem.NO_SUCH_PERSON))
    if fmt not in _TYPES or person_id is None:
        return not_found
    services: Services = request.app.state.services
    async with services.db.transaction(actor) as session:
        person = await session.get(Person, person_id)
        if person is None or not actor.can(Obj.TERMINATION, Act.READ, person.region):
            return not_found
        ended = await session.scalar(select(Termination).where(Termination.person_id == person.id))
        if ended is None:
            return refusal(request.scope, Refused(404, Problem.NOT_TERMINATED))
        body = await termination_file(session, actor, person, ended, fmt, request_lang(request))
    return _file(body, fmt, f"termination-{person.id}")


async def download_due(request: Request) -> Response:
    return await _region_month_file(request, "pension-due", due_file)


async def download_verification_list(request: Request) -> Response:
    try:
        kind = ListKind(request.path_params["list"])
    except ValueError:
        return refusal(request.scope, Refused(404, Problem.NO_SUCH_REGION))
    return await _region_month_file(
        request,
        f"verification-{kind.value}",
        lambda session, actor, region, month, fmt, lang: list_file(
            session, actor, region, month, kind, fmt, lang
        ),
    )


async def _region_month_file(
    request: Request,
    name: str,
    make: Callable[[AsyncSession, Actor, RegionCode, Month, Any, Lang], Awaitable[bytes]],
) -> Response:
    """A list of a region's people for a month, as ``make`` writes it."""
    actor = await authenticated(request)
    if isinstance(actor, Response):
        return actor
    fmt = request.path_params["format"]
    not_found = refusal(request.scope, Refused(404, Problem.NO_SUCH_REGION))
    try:
        region = RegionCode(request.path_params["region"])
        month = Month.parse(request.path_params["month"])
    except DomainError:
        return not_found
    if fmt not in _TYPES or not actor.can(Obj.PERSON, Act.READ, region):
        return not_found
    services: Services = request.app.state.services
    async with services.db.transaction(actor) as session:
        body = await make(session, actor, region, month, fmt, request_lang(request))
    return _file(body, fmt, f"{name}-{region.code}-{month}")
