"""代发文件: a released payroll run as the bank's file, and the bank's result file read back.

Each county's partner bank takes its own layout, so the layout is policy (the ``bank_file``
section, per region and date): CSV with a heading row, or fixed-width records, in UTF-8 or
GB18030, with the bank's field widths. Both carry control totals — the number of lines and the
sum — which the bank checks against the detail, and which are checked again when its result
file comes back: a result file whose totals do not add up is refused whole.

The file is written line by line as the run is read (memory does not grow with the run). It
holds ID numbers and bank accounts in full: the export is recorded as a disclosure of personal
data.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.authz.actor import Actor
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode
from jubao.pension.accounts.money import format_yuan, parse_yuan
from jubao.pension.benefits.payroll import LineState, PayLine, PayrollError, PayrollRun, RunState
from jubao.pension.benefits.settlement import BankResult, Settlement, settle
from jubao.pension.people.personal import Disclosure
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import BankFileRules, FileFormat, PayField, PolicyBook
from jubao.tabular import columns, read_table
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import unscoped

HEADINGS: dict[PayField, tuple[str, str]] = {
    PayField.LINE: ("明细号", "line"),
    PayField.PERSON: ("个人编号", "person_id"),
    PayField.ID_NUMBER: ("身份证号码", "id_number"),
    PayField.NAME: ("姓名", "name"),
    PayField.ACCOUNT: ("银行账号", "bank_account"),
    PayField.MONTH: ("待遇所属期", "month"),
    PayField.AMOUNT: ("发放金额", "amount"),
    PayField.RESULT: ("发放结果", "result"),
    PayField.REASON: ("失败原因", "reason"),
    PayField.REFERENCE: ("银行流水号", "reference"),
    PayField.SETTLED_ON: ("发放日期", "settled_on"),
}
TOTAL = "合计"
_SUCCESS = {"成功", "success", "ok", "0"}  # "0": the fixed-width files' code for paid
_NUMERIC = {PayField.LINE, PayField.PERSON, PayField.MONTH, PayField.AMOUNT}


class BankFileError(ErrorCode):
    NOT_RELEASED = (
        "发放批次 {run} 尚未拨付，不能生成代发文件",
        "Payroll run {run} is not released: it has no bank file yet",
    )
    TOO_LONG = (
        "明细 {line} 的“{column}”超出银行规定的 {width} 字节",
        "Line {line}: '{column}' is longer than the bank's {width} bytes",
    )
    ENCODING = (
        "明细 {line} 的“{column}”含有 {encoding} 编码无法表示的字符",
        "Line {line}: '{column}' has characters {encoding} cannot encode",
    )
    HEADER = ("回盘文件缺少列：{missing}", "The result file lacks columns: {missing}")
    RECORD = (
        "回盘文件第 {line} 行格式不正确：{detail}",
        "Line {line} of the result file is malformed: {detail}",
    )
    TOTALS = (
        "回盘文件的合计（{count} 笔，{total} 元）与明细（{rows} 笔，{sum} 元）不符，整个文件未处理",
        "The result file's totals ({count} lines, {total} yuan) differ from its detail "
        "({rows} lines, {sum} yuan): nothing in it was recorded",
    )


@dataclass(frozen=True)
class Written:
    lines: int
    total: int
    rules: BankFileRules


async def rules_for(session: AsyncSession, run: PayrollRun) -> BankFileRules:
    policy = await PolicyBook(session).for_month(RegionCode(run.region_code), run.period)
    return policy.bank_file


async def _released(session: AsyncSession, actor: Actor, run_id: int) -> PayrollRun:
    run = await session.get(PayrollRun, run_id)
    if run is None:
        raise DomainError(PayrollError.NOT_FOUND, field="run")
    actor.require(Obj.PAYROLL, Act.PROCESS, RegionCode(run.region_code), field="run")
    if RunState(run.state) is not RunState.RELEASED:
        raise DomainError(BankFileError.NOT_RELEASED, field="run", run=run.id)
    return run


async def export_run(session: AsyncSession, actor: Actor, run_id: int, path: Path) -> Written:
    """Write the sent lines of a released run to ``path`` in its bank's layout (the caller
    puts the file where the bank takes it once the export is recorded). The bank needs the
    ID numbers and accounts in full: only someone who may read them may export."""
    run = await _released(session, actor, run_id)
    actor.require(Obj.PII, Act.READ, RegionCode(run.region_code), field="run")
    rules = await rules_for(session, run)
    lines, people = unscoped(PayLine), unscoped(Person)
    sent = (
        select(
            lines.c.id,
            lines.c.person_id,
            func.coalesce(lines.c.payee_id_number, people.c.id_number),
            func.coalesce(lines.c.payee_name, people.c.name),
            lines.c.bank_account,
            lines.c.month,
            lines.c.amount,
            lines.c.region_code,  # (last: not in the file; the disclosure is per village)
        )
        .join(people, people.c.id == lines.c.person_id)
        .where(lines.c.run_id == run.id, lines.c.state != LineState.HELD.value)
        .order_by(lines.c.id)
    )
    count, total = (run.lines, run.total)
    villages: set[str] = set()
    with path.open("w", encoding=rules.encoding, newline="") as handle:
        writer = _writer(handle, rules, run, count, total)
        stream = await session.stream(sent.execution_options(yield_per=5000))
        async for part in stream.partitions():
            villages.update(row[-1] for row in part)
            writer.details(part)
        writer.close()
    # Shown in full (the right to read them over the county was required above): recorded
    # per village, as every disclosure is.
    disclosure = Disclosure(actor)
    subject = f"payroll_run:{run.id}"
    for code in sorted(villages):
        disclosure.record_shown(RegionCode(code), subject, "id_number", "bank_account")
    await disclosure.record(session)
    audit.record(
        session,
        actor,
        "payroll.export",
        subject,
        region_code=run.region_code,
        file=path.name[:200],
        lines=count,
        total=total,
    )
    return Written(count, total, rules)


# The fields a bank file may carry, in the order the export reads them.
_SENT = (
    PayField.LINE,
    PayField.PERSON,
    PayField.ID_NUMBER,
    PayField.NAME,
    PayField.ACCOUNT,
    PayField.MONTH,
    PayField.AMOUNT,
)


@functools.cache
def _month_text(first_day: date) -> str:
    """YYYYMM (a run's lines pay a few months: each is formatted once)."""
    return f"{first_day.year:04d}{first_day.month:02d}"


_TEXT: dict[PayField, Callable[[Any], str]] = {
    **dict.fromkeys(_SENT, str),
    PayField.AMOUNT: format_yuan,
    PayField.MONTH: _month_text,
}


class _Writer(Protocol):
    def details(self, rows: Sequence[Sequence[Any]]) -> None:
        """Lines read in the order of ``_SENT``."""

    def close(self) -> None: ...


class _CsvWriter:
    def __init__(self, handle: IO[str], rules: BankFileRules, count: int, total: int) -> None:
        self._csv = csv.writer(handle)
        fields = rules.sent_fields
        self._plan = [(_SENT.index(f), _TEXT[f]) for f in fields]
        self._width = len(fields)
        self._count, self._total = count, total
        self._csv.writerow([HEADINGS[f][0] for f in fields])

    def details(self, rows: Sequence[Sequence[Any]]) -> None:
        plan = self._plan
        self._csv.writerows([[text(row[i]) for i, text in plan] for row in rows])

    def close(self) -> None:
        trailer = [TOTAL, str(self._count), format_yuan(self._total)]
        self._csv.writerow(trailer + [""] * (self._width - len(trailer)))


class _FixedWriter:
    """Records of the bank's widths in bytes of its encoding: a header (H, the run, the
    count, the total in fen, the month), a detail record (D) per line, a trailer (T)."""

    def __init__(
        self, handle: IO[str], rules: BankFileRules, run: PayrollRun, count: int, total: int
    ) -> None:
        self._handle, self._rules = handle, rules
        # amounts in fen (zero-padded, no decimal point), as fixed-width bank files have them
        self._plan = [
            (field, _SENT.index(field), str if field is PayField.AMOUNT else _TEXT[field])
            for field in rules.sent_fields
        ]
        self._count, self._total = count, total
        period = run.period
        handle.write(
            f"H{run.id:012d}{count:010d}{total:016d}{period.year:04d}{period.month:02d}\r\n"
        )

    def details(self, rows: Sequence[Sequence[Any]]) -> None:
        rules, plan = self._rules, self._plan
        self._handle.writelines(
            "D"
            + "".join(_fixed(rules, row[0], field, text(row[i])) for field, i, text in plan)
            + "\r\n"
            for row in rows
        )

    def close(self) -> None:
        self._handle.write(f"T{self._count:010d}{self._total:016d}\r\n")


def _fixed(rules: BankFileRules, line: int, field: PayField, text: str) -> str:
    width = rules.width(field)
    try:
        size = len(text.encode(rules.encoding))
    except UnicodeEncodeError:
        raise DomainError(
            BankFileError.ENCODING, line=line, column=HEADINGS[field][0], encoding=rules.encoding
        ) from None
    if size > width:
        raise DomainError(BankFileError.TOO_LONG, line=line, column=HEADINGS[field][0], width=width)
    pad = width - size
    return "0" * pad + text if field in _NUMERIC else text + " " * pad


def _writer(
    handle: IO[str], rules: BankFileRules, run: PayrollRun, count: int, total: int
) -> _Writer:
    if rules.format is FileFormat.FIXED:
        return _FixedWriter(handle, rules, run, count, total)
    return _CsvWriter(handle, rules, count, total)


# --- the bank's results -------------------------------------------------------------------------


async def read_results(session: AsyncSession, run: PayrollRun, path: Path) -> list[BankResult]:
    """The rows of a result file in the run's bank layout; the whole file is refused if a row
    cannot be read or the control totals do not match the detail."""
    rules = await rules_for(session, run)
    return list(_fixed_rows(path, rules) if rules.format is FileFormat.FIXED else _csv_rows(path))


async def import_results(
    session: AsyncSession, actor: Actor, run_id: int, path: Path, *, today: date
) -> Settlement:
    """Record a result file for a released run (see ``settle``: rows that name a line of the
    run for another account or amount than was sent are refused)."""
    run = await _released(session, actor, run_id)
    return await settle(session, actor, run.id, await read_results(session, run, path), today=today)


def _csv_rows(path: Path) -> Iterator[BankResult]:
    names = {f.value: HEADINGS[f] for f in PayField}
    with read_table(path) as table:
        positions = columns(table.header, names)
        needed = (PayField.LINE, PayField.AMOUNT, PayField.RESULT)
        missing = [HEADINGS[f][0] for f in needed if f.value not in positions]
        if missing:
            raise DomainError(BankFileError.HEADER, missing="、".join(missing))
        count = total = 0
        trailer: tuple[int, int] | None = None
        wanted = [(PayField(k), i) for k, i in positions.items()]
        for row in table.rows:
            width = len(row.cells)
            cells = {field: row.cells[i].strip() if i < width else "" for field, i in wanted}
            if row.cells and row.cells[0].strip() == TOTAL:
                trailer = (_number(row.line, row.cells[1]), _yuan(row.line, row.cells[2]))
                continue
            found = _result(row.line, cells, _yuan(row.line, cells[PayField.AMOUNT]))
            count, total = count + 1, total + (found.amount or 0)
            yield found
        _check_totals(trailer, count, total)


def _fixed_rows(path: Path, rules: BankFileRules) -> Iterator[BankResult]:
    fields = [*rules.sent_fields, PayField.RESULT, PayField.REASON, PayField.REFERENCE]
    fields.append(PayField.SETTLED_ON)
    count = total = 0
    trailer: tuple[int, int] | None = None
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            record = raw.rstrip(b"\r\n")
            if not record or record[:1] == b"H":
                continue
            if record[:1] == b"T":
                text = record.decode("ascii", errors="replace")
                trailer = (_number(number, text[1:11]), _number(number, text[11:27]))
                continue
            if record[:1] != b"D":
                raise DomainError(BankFileError.RECORD, line=number, detail="D/H/T?")
            cells: dict[PayField, str] = {}
            at = 1
            for field in fields:
                width = rules.width(field)
                chunk = record[at : at + width]
                if len(chunk) < width and field is not PayField.SETTLED_ON:
                    raise DomainError(BankFileError.RECORD, line=number, detail=field.value)
                try:
                    cells[field] = chunk.decode(rules.encoding).strip()
                except UnicodeDecodeError:
                    raise DomainError(
                        BankFileError.RECORD, line=number, detail=rules.encoding
                    ) from None
                at += width
            found = _result(number, cells, _number(number, cells[PayField.AMOUNT]))
            count, total = count + 1, total + (found.amount or 0)
            yield found
    _check_totals(trailer, count, total)


def _result(line: int, cells: dict[PayField, str], amount: int) -> BankResult:
    settled = cells.get(PayField.SETTLED_ON) or ""
    return BankResult(
        line_id=_number(line, cells[PayField.LINE]),
        paid=cells[PayField.RESULT].lower() in _SUCCESS,
        reason=(cells.get(PayField.REASON) or None),
        reference=(cells.get(PayField.REFERENCE) or None),
        settled_on=_date(line, settled) if settled else None,
        amount=amount,
        bank_account=cells.get(PayField.ACCOUNT) or None,
    )


def _number(line: int, text: str) -> int:
    if not text.strip().isascii() or not text.strip().isdigit():
        raise DomainError(BankFileError.RECORD, line=line, detail=repr(text.strip())[:40])
    return int(text.strip())


def _yuan(line: int, text: str) -> int:
    try:
        return parse_yuan(text.strip())
    except DomainError:
        raise DomainError(BankFileError.RECORD, line=line, detail=repr(text.strip())[:40]) from None


def _date(line: int, text: str) -> date:
    digits = text.replace("-", "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise DomainError(BankFileError.RECORD, line=line, detail=repr(text)[:40]) from None


def _check_totals(trailer: tuple[int, int] | None, count: int, total: int) -> None:
    if trailer is not None and trailer != (count, total):
        raise DomainError(
            BankFileError.TOTALS,
            count=trailer[0],
            total=format_yuan(trailer[1]),
            rows=count,
            sum=format_yuan(total),
        )
