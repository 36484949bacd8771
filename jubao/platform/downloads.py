"""File downloads beside the GraphQL endpoint: a person's statement as CSV or Excel.

``GET /statements/{person id}/{year}.csv`` (or ``.xlsx``) with the same bearer token as the
API. Someone outside the caller's scope, or whose account the caller may not read, is "not
found"; the ID number is printed in full only for callers with the personal-data right (and
that read is recorded).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, Lang
from jubao.pension.accounts.statements import statement_file
from jubao.pension.people.persons import Person
from jubao.platform.api.errors import Problem
from jubao.platform.api.ids import INT64, int_key, int_key_of
from jubao.platform.authn import authenticate_token, bearer_token
from jubao.platform.http import Refused, refusal
from jubao.platform.services import Services
from jubao.platform.tokens import TokenError

_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def download_statement(request: Request) -> Response:
    services: Services = request.app.state.services
    lang = Lang.from_accept_language(request.headers.get("accept-language"))
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
    fmt = request.path_params["format"]
    person_id = int_key_of(request.path_params["person"], "Person", INT64)
    year = int_key(request.path_params["year"], 2100)
    not_found = Refused(404, Problem.NO_SUCH_PERSON)
    if fmt not in _TYPES or person_id is None or year is None or year < 2009:
        return refusal(request.scope, not_found)
    actor = caller.actor
    async with services.db.transaction(actor) as session:
        person = await session.get(Person, person_id)
        if person is None or not actor.can(Obj.ACCOUNT, Act.READ, person.region):
            return refusal(request.scope, not_found)
        body = await statement_file(session, actor, person, year, fmt, lang)
    filename = f"statement-{person.id}-{year}.{fmt}"
    return Response(
        body,
        media_type=_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
