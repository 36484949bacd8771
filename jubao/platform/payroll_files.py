"""The bank's files of a payroll run over HTTP, with the same bearer token as the API, for the
finance officer's web page (the command line has ``jubao payroll export|import``):

- ``GET /payroll/runs/{run id}/bank-file``: the released run's 代发文件 in its bank's layout
  (CSV, or fixed-width text), with ID numbers and accounts in full — recorded as a disclosure;
- ``POST /payroll/runs/{run id}/bank-results``: the bank's 回盘文件 as the request body (at most
  ``JUBAO_MAX_UPLOAD_BYTES``); the answer counts the lines paid, failed and recorded before,
  and lists each line refused with its reason. A file that cannot be read whole, or whose
  control totals do not add up, is refused with nothing recorded; sending a file again records
  nothing twice.

A run outside the caller's scope is "not found"; one they see but may not export or settle is
refused with the missing right.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import orjson
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from jubao.authz.actor import AccessError, Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError
from jubao.pension.benefits.bank_files import BankFileError, export_run, import_results
from jubao.pension.benefits.payroll import PayrollRun
from jubao.pension.policy.params import FileFormat
from jubao.platform.api.errors import Problem
from jubao.platform.api.ids import INT64, int_key_of
from jubao.platform.downloads import authenticated, request_lang
from jubao.platform.http import Refused, refusal
from jubao.platform.services import Services
from jubao.tabular import TableError
from jubao.tenants.codes import RegionCode

# the routes whose bodies are files, streamed to disk here rather than held by ``BodyLimit``
UPLOADS = re.compile(r"/payroll/runs/[^/]+/bank-results")
_SUFFIX = {FileFormat.CSV: ("csv", "text/csv"), FileFormat.FIXED: ("txt", "text/plain")}
# refusals of a whole file that was read: the caller's input, not the server's state
_UNREADABLE = {BankFileError.HEADER, BankFileError.RECORD, BankFileError.TOTALS, *TableError}


async def _visible_run(request: Request, actor: Actor) -> PayrollRun | Response:
    run_id = int_key_of(request.path_params["run"], "PayrollRun", INT64)
    services: Services = request.app.state.services
    if run_id is not None:
        async with services.db.session(actor) as session:
            run = await session.get(PayrollRun, run_id)
        if run is not None:
            return run
    return refusal(request.scope, Refused(404, Problem.NO_SUCH_RUN))


def _refused(request: Request, error: DomainError) -> Response:
    if error.code is AccessError.FORBIDDEN:
        status, under = 403, Problem.FORBIDDEN
    elif error.code in _UNREADABLE:
        status, under = 422, Problem.BAD_USER_INPUT
    else:
        status, under = 409, Problem.CONFLICT
    return refusal(request.scope, Refused(status, error.code, under=under, **error.params))


async def download_bank_file(request: Request) -> Response:
    actor = await authenticated(request)
    if isinstance(actor, Response):
        return actor
    run = await _visible_run(request, actor)
    if isinstance(run, Response):
        return run
    services: Services = request.app.state.services
    folder = tempfile.mkdtemp(prefix="jubao-daifa-")  # removed once the file is sent
    try:
        async with services.db.transaction(actor) as session:
            written = await export_run(session, actor, run.id, Path(folder) / "daifa")
    except DomainError as error:
        shutil.rmtree(folder)
        return _refused(request, error)
    except BaseException:
        shutil.rmtree(folder)
        raise
    suffix, media = _SUFFIX[written.rules.format]
    return FileResponse(
        Path(folder) / "daifa",
        media_type=f"{media}; charset={written.rules.encoding}",
        filename=f"daifa-{run.id}.{suffix}",
        background=BackgroundTask(shutil.rmtree, folder),
    )


async def upload_bank_results(request: Request) -> Response:
    actor = await authenticated(request)
    if isinstance(actor, Response):
        return actor
    run = await _visible_run(request, actor)
    if isinstance(run, Response):
        return run
    try:  # before the body is read: no one without the right fills the disk
        actor.require(Obj.PAYROLL, Act.PROCESS, RegionCode(run.region_code), field="run")
    except DomainError as error:
        return _refused(request, error)
    services: Services = request.app.state.services
    limit = services.settings.max_upload_bytes
    with tempfile.TemporaryDirectory(prefix="jubao-huipan-") as folder:
        path = Path(folder) / "results"
        size = 0
        with path.open("wb") as target:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    too_large = Refused(413, Problem.PAYLOAD_TOO_LARGE, max=limit)
                    return refusal(request.scope, too_large)
                target.write(chunk)
        # a table is read by its name's suffix: a spreadsheet (a zip file) or text
        with path.open("rb") as written:
            spreadsheet = written.read(4) == b"PK\x03\x04"
        path = path.rename(path.with_suffix(".xlsx" if spreadsheet else ".csv"))
        try:
            async with services.db.transaction(actor) as session:
                settled = await import_results(
                    session, actor, run.id, path, today=services.clock.today()
                )
        except DomainError as error:
            return _refused(request, error)
    lang = request_lang(request)
    body = {
        "run": run.id,
        "paid": settled.paid,
        "failed": settled.failed,
        "already": settled.already,
        "refused": [
            {"line": r.line_id, "code": r.code.name, "message": r.message(lang)}
            for r in settled.refused
        ],
    }
    return Response(orjson.dumps(body), media_type="application/json")
