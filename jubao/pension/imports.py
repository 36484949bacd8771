"""Bulk import of people already enrolled (the 通江 county story: a county's historical records
moved into the provincial system in one go).

The file is read and checked as a stream, a chunk of rows at a time, so that memory stays the
same whatever its size. Each row's own checks (ID number, the other fields, the village, the
enrolment date and grade against the policy of that year) run in Python; each chunk then goes
to a staging table (temporary, on the import's one connection) holding the checked values, or
the reason a row was refused. Everything that compares rows with each other or with the
database is set-based SQL over that table: ID numbers repeated inside the file, people already
enrolled, people on the employees'-scheme list. The accepted rows go in by ``INSERT … SELECT``
from the staging table, a chunk of lines per transaction (or, with ``all_or_nothing``, all in
one transaction and only if no row was refused). The refused rows are then read back in line
order for the report.

A file is one import batch, identified by its content (SHA-256). An import may be interrupted
and run again: the run completes the same batch, and rows whose person that file already put in
count as done, not as duplicates. The batch's ``imported`` grows in the same transaction as the
rows it counts, with an audit event stating which lines went in, so that the record is right
even after a crash; each run that gets to the end adds an audit event with its own figures and
the file's total.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.errors import Text as LangText
from jubao.orm import Base, BigId, UtcDateTime, dialect_of, upsert, utcnow
from jubao.pension.contributions import check_grade
from jubao.pension.crosscheck import EmployeeInsured
from jubao.pension.enrollment import check_special_group
from jubao.pension.idnumber import IdNumber, Sex
from jubao.pension.money import parse_yuan
from jubao.pension.people import (
    Person,
    PersonStatus,
    check_address,
    check_bank_account,
    check_ethnicity,
    check_name,
    check_phone,
)
from jubao.pension.policy import Hukou, PolicyBook
from jubao.tabular import Row, columns, read_table
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import Region
from jubao.text import quoted

log = logging.getLogger(__name__)

# Rows checked and staged per transaction, and lines written per transaction: big enough that
# per-statement costs vanish, small enough that memory stays flat and no transaction holds
# SQLite's write lock for long.
CHUNK = 10_000
WRITE_CHUNK = 20_000

T = TypeVar("T")
UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]

HEADINGS: dict[str, tuple[str, ...]] = {
    "id_number": ("id_number", "身份证号码", "公民身份号码", "身份证号"),
    "name": ("name", "姓名"),
    "sex": ("sex", "性别"),
    "birth_date": ("birth_date", "出生日期"),
    "ethnicity": ("ethnicity", "民族"),
    "hukou": ("hukou", "户籍性质", "户口性质"),
    "region": ("region", "区划代码", "村（社区）代码", "村代码"),
    "address": ("address", "户籍地址", "户籍所在地址"),
    "phone": ("phone", "联系电话"),
    "special_group": ("special_group", "参保身份", "特殊群体"),
    "bank_account": ("bank_account", "银行账号", "社保卡号"),
    "grade": ("grade", "缴费档次"),
    "enrolled_on": ("enrolled_on", "参保日期"),
}
REQUIRED = ("id_number", "name", "ethnicity", "hukou", "region", "address", "grade", "enrolled_on")
_HUKOU = {
    "rural": Hukou.RURAL,
    "农业": Hukou.RURAL,
    "农村": Hukou.RURAL,
    "20": Hukou.RURAL,
    "21": Hukou.RURAL,
    "22": Hukou.RURAL,
    "urban": Hukou.URBAN,
    "非农业": Hukou.URBAN,
    "城镇": Hukou.URBAN,
    "10": Hukou.URBAN,
    "11": Hukou.URBAN,
    "12": Hukou.URBAN,
}
_SEX = {"1": Sex.MALE, "男": Sex.MALE, "2": Sex.FEMALE, "女": Sex.FEMALE}


class PersonImportError(ErrorCode):
    HEADER = (
        "表头缺少必需的列：{missing}",
        "The header lacks required columns: {missing}",
    )
    DUPLICATE_IN_FILE = (
        "身份证号码与第 {line} 行重复",
        "The ID number repeats line {line}",
    )
    ALREADY_ENROLLED = (
        "该身份证号码已在本省参保（不是本文件导入的）",
        "This ID number is already enrolled in the province (not by this file)",
    )
    EMPLOYEE_SCHEME = (
        "该人员在职工基本养老保险参保名单上，参保日期后仍在职工养老保险参保，不能导入"
        "（两险衔接按《城乡养老保险制度衔接暂行办法》办理）",
        "This person is on the employees'-scheme list, insured there on or after the "
        "enrolment date, and cannot be imported (the two schemes are linked by the 2014 "
        "transfer rules instead)",
    )
    HUKOU = (
        "户籍性质“{value}”无法识别（农业/非农业）",
        "Unknown hukou type '{value}' (rural/urban)",
    )
    SEX = ("性别“{value}”无法识别（男/女）", "Unknown sex '{value}'")
    DATE = (
        "日期“{value}”格式不正确（应为 YYYY-MM-DD）",
        "Date '{value}' is malformed (YYYY-MM-DD)",
    )
    NOT_A_VILLAGE = (
        "区划 {region} 不是本省现有的村（社区）",
        "{region} is not an existing village or community of the province",
    )
    ENROLLED_ON = (
        "参保日期 {value} 不在有效范围（出生满 {min_age} 周岁后、今天以前）",
        "The enrolment date {value} is outside the possible range (after turning {min_age}, "
        "before today)",
    )
    MISSING = ("“{column}”不能为空", "'{column}' must not be empty")
    REJECTED = (
        "{count} 行被拒绝，未导入任何数据（--all-or-nothing）",
        "{count} rows rejected, nothing imported (--all-or-nothing)",
    )
    INTERRUPTED = (
        "导入中断：数据库出错（{cause}）。{saved}可以放心地再次运行同一命令：已导入的行会被识别，"
        "不会重复导入，本次导入会在同一批次中完成。",
        "The import was interrupted: a database error ({cause}). {saved}It is safe to run the "
        "same command again: rows already imported are recognised and not imported twice, "
        "and the run completes the same batch.",
    )


class ImportBatch(Base):
    """One file imported (identified by its content), in as many runs as it took: who started
    it and when, how many people it has put in so far, how many rows its last complete run
    refused, and when a run last got to its end (None: never yet)."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    imported: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    runs: Mapped[int] = mapped_column(default=0, server_default="0")


@dataclass(frozen=True)
class Rejected:
    line: int
    error: DomainError

    def describe(self, lang: Lang) -> str:
        return f"{self.line}: {self.error.message(lang)}"


@dataclass(frozen=True)
class ImportReport:
    """What one run did. ``imported`` counts the people this run put in; ``file_imported``
    every person the file has put in over all its runs."""

    batch_id: int | None
    imported: int
    already_done: int
    rejected: int
    file_imported: int


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the staging table -----------------------------------------------------------------------

_FIELDS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "hukou",
    "region_code",
    "address",
    "phone",
    "special_group",
    "bank_account",
    "grade",
    "enrolled_on",
)
_DONE = "done"  # the row's person was put in by this same file: not a refusal

# One row per line of the file: the checked values, or why the line is refused. Temporary: it
# lives on the import's connection only and goes with it, whatever happens to the import.
STAGE = Table(
    "person_import_stage",
    MetaData(),
    Column("line", Integer, primary_key=True),
    # None: to go in; _DONE; else the code that refused the line, with its parameters (JSON)
    Column("outcome", String(100)),
    Column("params", Text),
    Column("repeats", Integer),  # the line whose ID number this line repeats
    *(Column(name, Person.__table__.c[name].type) for name in _FIELDS),
    prefixes=["TEMPORARY"],
)


def _code_name(code: ErrorCode) -> str:
    kind = type(code)
    return f"{kind.__module__}:{kind.__qualname__}.{code.name}"


@cache
def _code_named(name: str) -> ErrorCode:
    kind_name, member = name.rsplit(".", 1)
    kinds: list[type[ErrorCode]] = [ErrorCode]
    while kinds:
        kind = kinds.pop()
        if f"{kind.__module__}:{kind.__qualname__}" == kind_name:
            return kind[member]
        kinds += kind.__subclasses__()
    raise LookupError(name)


def _dump_params(params: dict[str, Any]) -> str:
    def plain(value: object) -> object:
        return {"zh": value.zh, "en": value.en} if isinstance(value, LangText) else str(value)

    return json.dumps(params, default=plain)


def _load_params(stored: str | None) -> dict[str, Any]:
    def revive(value: dict[str, Any]) -> object:
        return LangText(value["zh"], value["en"]) if value.keys() == {"zh", "en"} else value

    return json.loads(stored, object_hook=revive) if stored else {}


def _refusal(row: dict[str, Any]) -> Rejected:
    if row["repeats"] is not None:
        error = DomainError(PersonImportError.DUPLICATE_IN_FILE, line=row["repeats"])
    else:
        error = DomainError(_code_named(row["outcome"]), **_load_params(row["params"]))
    return Rejected(row["line"], error)


# --- checking one row ------------------------------------------------------------------------


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise DomainError(PersonImportError.DATE, value=quoted(value)) from None


class _Checker:
    """A row's own checks; what needs other rows or the database is left to the SQL."""

    def __init__(self, book: PolicyBook, today: date, villages: set[str]) -> None:
        self.book = book
        self.today = today
        self.villages = villages

    async def values(self, cells: dict[str, str]) -> dict[str, Any]:
        for column in REQUIRED:
            if not cells.get(column):
                raise DomainError(
                    PersonImportError.MISSING, field=column, column=HEADINGS[column][1]
                )
        identity = IdNumber.parse(cells["id_number"], today=self.today)
        sex = None
        if cells.get("sex"):
            sex = _SEX.get(cells["sex"])
            if sex is None:
                raise DomainError(PersonImportError.SEX, value=quoted(cells["sex"]))
        birth = _date(cells["birth_date"]) if cells.get("birth_date") else None
        identity.check_matches(sex=sex, birth_date=birth)
        hukou = _HUKOU.get(cells["hukou"].lower())
        if hukou is None:
            raise DomainError(PersonImportError.HUKOU, value=quoted(cells["hukou"]))
        region_text = cells["region"]
        if region_text not in self.villages:
            raise DomainError(PersonImportError.NOT_A_VILLAGE, region=quoted(region_text))
        region = RegionCode(region_text)
        enrolled_on = _date(cells["enrolled_on"])
        policy = await self.book.for_region(region, enrolled_on.year)
        min_age = policy.enrollment.min_age
        if not (identity.age_on(enrolled_on) >= min_age and enrolled_on <= self.today):
            raise DomainError(
                PersonImportError.ENROLLED_ON, value=enrolled_on.isoformat(), min_age=min_age
            )
        grade = parse_yuan(cells["grade"])
        check_grade(policy, grade)
        return {
            "id_number": identity.value,
            "name": check_name(cells["name"]),
            "sex": int(identity.sex),
            "birth_date": identity.birth_date,
            "ethnicity": check_ethnicity(cells["ethnicity"]),
            "hukou": hukou.value,
            "region_code": region.code,
            "address": check_address(cells["address"]),
            "phone": check_phone(cells.get("phone")),
            "special_group": check_special_group(policy, cells.get("special_group")),
            "bank_account": check_bank_account(cells.get("bank_account")),
            "grade": grade,
            "enrolled_on": enrolled_on,
        }

    async def stage_row(self, row: Row, positions: dict[str, int]) -> dict[str, Any]:
        """The staging-table row for one line of the file."""
        cells = {
            column: row.cells[index] if index < len(row.cells) else ""
            for column, index in positions.items()
        }
        staged: dict[str, Any] = dict.fromkeys(STAGE.c.keys())
        staged["line"] = row.line
        try:
            staged.update(await self.values(cells))
        except DomainError as error:
            staged["outcome"] = _code_name(error.code)
            staged["params"] = _dump_params(error.params)
        return staged


async def _villages(session: AsyncSession) -> set[str]:
    table = Region.__table__
    rows = await session.scalars(
        select(table.c.code).where(table.c.level == int(Level.VILLAGE), table.c.valid_to.is_(None))
    )
    return set(rows)


async def _prepare(session: AsyncSession, today: date) -> _Checker:
    """A fresh staging table, and a checker that needs the database no more: the villages and
    the policy parameter sets are read here, once."""
    await session.execute(text(f"DROP TABLE IF EXISTS {STAGE.name}"))
    await session.run_sync(lambda sync: STAGE.create(sync.connection()))
    villages = await _villages(session)
    book = PolicyBook(session)
    if villages:
        # The book reads every parameter set on its first question, and later questions only
        # resolve from what it holds: ask one now, in this transaction.
        await book.for_region(RegionCode(min(villages)), today.year)
    return _Checker(book, today, villages)


# --- the set-based checks --------------------------------------------------------------------


def _lines(lo: int, hi: int) -> Any:
    return STAGE.c.line.between(lo, hi)


async def _mark_repeats(session: AsyncSession) -> None:
    """A valid row whose ID number an earlier valid row has is refused, naming that line.
    (Refused rows keep no ID number, so they never count as the earlier line.)"""
    await session.run_sync(
        lambda sync: sync.execute(
            text(f"CREATE INDEX {STAGE.name}_id_number ON {STAGE.name} (id_number, line)")
        )
    )
    earlier = STAGE.alias("earlier")
    first = (
        select(func.min(earlier.c.line))
        .where(earlier.c.id_number == STAGE.c.id_number)
        .scalar_subquery()
    )
    await session.execute(
        update(STAGE)
        .where(STAGE.c.outcome.is_(None), STAGE.c.line > first)
        .values(outcome=_code_name(PersonImportError.DUPLICATE_IN_FILE), repeats=first)
    )


async def _mark_against_database(session: AsyncSession, digest: str, lo: int, hi: int) -> None:
    """Lines ``lo``–``hi`` still to go in whose person is in the database already (put in by
    this file: done; by anything else: refused), or is on the employees'-scheme list at or
    after the enrolment date (rulebook §5.3, §5.14 art. 7: an overlap is the two schemes'
    transfer procedure, not an import). Set-based: one statement each, whatever the number."""
    person, batch = Person.__table__, ImportBatch.__table__
    employees = EmployeeInsured.__table__
    pending = (STAGE.c.outcome.is_(None), _lines(lo, hi))
    by_this_file = (
        select(person.c.id)
        .join(batch, person.c.import_batch_id == batch.c.id)
        .where(person.c.id_number == STAGE.c.id_number, batch.c.file_sha256 == digest)
    )
    await session.execute(update(STAGE).where(*pending, exists(by_this_file)).values(outcome=_DONE))
    enrolled = select(person.c.id).where(person.c.id_number == STAGE.c.id_number)
    await session.execute(
        update(STAGE)
        .where(*pending, exists(enrolled))
        .values(outcome=_code_name(PersonImportError.ALREADY_ENROLLED))
    )
    insured = select(employees.c.id_number).where(
        employees.c.id_number == STAGE.c.id_number,
        or_(employees.c.insured_to.is_(None), employees.c.insured_to >= STAGE.c.enrolled_on),
    )
    await session.execute(
        update(STAGE)
        .where(*pending, exists(insured))
        .values(outcome=_code_name(PersonImportError.EMPLOYEE_SCHEME))
    )


async def _counts(session: AsyncSession, lo: int, hi: int) -> tuple[int, int, int]:
    """(to go in, done, refused) among lines ``lo``–``hi``."""
    outcome = STAGE.c.outcome
    row = (
        await session.execute(
            select(
                func.count().filter(outcome.is_(None)),
                func.count().filter(outcome == _DONE),
                func.count().filter(outcome.is_not(None), outcome != _DONE),
            ).where(_lines(lo, hi))
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


# --- writing ---------------------------------------------------------------------------------


async def _write(session: AsyncSession, batch_id: int, digest: str, lo: int, hi: int) -> int:
    """Put lines ``lo``–``hi`` in; returns how many people went in. Checked against the
    database again first, in the same transaction (a counter may have enrolled someone since
    the whole file was checked)."""
    await _mark_against_database(session, digest, lo, hi)
    expected, _, _ = await _counts(session, lo, hi)
    if not expected:
        return 0
    now = literal(utcnow(), UtcDateTime())
    rows = select(
        *(STAGE.c[name] for name in _FIELDS),
        literal(PersonStatus.CONTRIBUTING.value),
        literal(batch_id),
        now,
        now,
        literal(1),
    ).where(STAGE.c.outcome.is_(None), _lines(lo, hi))
    names = (*_FIELDS, "status", "import_batch_id", "created_at", "updated_at", "version")
    person = Person.__table__
    statement = (
        upsert(dialect_of(session), person)
        .from_select(names, rows)
        .on_conflict_do_nothing(index_elements=[person.c.id_number])
    )
    inserted = cast("CursorResult[Any]", await session.execute(statement)).rowcount
    if inserted != expected:
        # PostgreSQL only (SQLite's writer holds the lock from the check on): a counter's
        # enrolment committed between this transaction's check and its insert.
        raise _Raced
    await session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(imported=ImportBatch.imported + inserted)
        .execution_options(synchronize_session=False)
    )
    return int(inserted)


async def _claim_batch(
    session: AsyncSession, actor: audit.AuditActor, path: Path, digest: str
) -> tuple[int, int]:
    """The file's batch (created on its first run), and this run's number."""
    found = (
        await session.execute(
            select(ImportBatch.id, ImportBatch.runs)
            .where(ImportBatch.file_sha256 == digest)
            .order_by(ImportBatch.id)
            .limit(1)
        )
    ).first()
    if found is None:
        batch = ImportBatch(
            file_name=path.name[:255],
            file_sha256=digest,
            actor=actor.label,
            started_at=utcnow(),
            runs=1,
        )
        session.add(batch)
        await session.flush()
        return batch.id, 1
    await session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == found.id)
        .values(runs=ImportBatch.runs + 1)
        .execution_options(synchronize_session=False)
    )
    return found.id, found.runs + 1


class _Raced(Exception):
    """A counter enrolled someone of these lines between their check and their insert."""


class _Refused(Exception):
    """All or nothing: a row turned out refused at the write; roll everything back."""


# --- the import ------------------------------------------------------------------------------


async def import_persons(
    units: UnitOfWork,
    actor: audit.AuditActor,
    path: Path,
    *,
    today: date,
    all_or_nothing: bool = False,
    progress: Callable[[int], None] | None = None,
    rejected: Callable[[Rejected], None] | None = None,
) -> ImportReport:
    """Import the people of ``path``. ``units`` must run every unit of work on one and the
    same connection (the staging table lives there). ``progress`` hears how many rows have
    been checked; ``rejected`` hears each refused row, in line order, once the file is
    through. A database failure part way is :attr:`PersonImportError.INTERRUPTED`, whose
    message (and log record) holds nothing of the file's rows; running the same file again
    completes the import."""
    run = _Run(units, actor, path, file_digest(path), today)
    with read_table(path) as table:
        positions = columns(table.header, HEADINGS)
        missing = [HEADINGS[c][1] for c in REQUIRED if c not in positions]
        if missing:
            raise DomainError(PersonImportError.HEADER, missing="、".join(missing))
        try:
            return await run.go(table.rows, positions, all_or_nothing, progress, rejected)
        except DBAPIError as error:
            cause = _cause(error)
        except OSError as error:  # the connection's socket, below the driver
            cause = type(error).__name__
    # Raised outside the handler, so that the driver's error is not chained to it: its text
    # may quote the statement's parameters, which are rows of the file.
    log.warning(
        "person import interrupted by a database error",
        extra={"fields": {"cause": cause, "phase": run.phase, "batch": run.batch_id}},
    )
    raise DomainError(PersonImportError.INTERRUPTED, cause=cause, saved=run.saved())


def _cause(error: DBAPIError) -> str:
    """The kind of failure, without the driver's message."""
    original = error.orig if error.orig is not None else error
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    kind = "connection lost" if error.connection_invalidated else type(original).__name__
    return f"{kind}, SQLSTATE {code}" if code else kind


@dataclass
class _Run:
    """One run of an import: stage and check, compare, write, report."""

    units: UnitOfWork
    actor: audit.AuditActor
    path: Path
    digest: str
    today: date
    phase: str = "checking"
    last: int = 1  # the file's last line
    batch_id: int | None = None
    number: int = 0  # this run's number in its batch
    imported: int = 0

    def saved(self) -> LangText:
        if self.batch_id is None:
            return LangText("尚未写入任何人员。", "Nobody had been written yet. ")
        return LangText(
            f"本次运行已写入的 {self.imported} 人已保存在导入批次 {self.batch_id} 中。",
            f"The {self.imported} people this run wrote are saved in import batch "
            f"{self.batch_id}. ",
        )

    async def go(
        self,
        rows: Iterator[Row],
        positions: dict[str, int],
        all_or_nothing: bool,
        progress: Callable[[int], None] | None,
        rejected: Callable[[Rejected], None] | None,
    ) -> ImportReport:
        await self.stage(rows, positions, progress)
        self.phase = "comparing"
        async with self.units() as session:
            await _mark_repeats(session)
            await _mark_against_database(session, self.digest, 0, self.last)
            _, already_done, refused = await _counts(session, 0, self.last)
        self.phase = "writing"
        if all_or_nothing and refused:
            report = ImportReport(None, 0, already_done, refused, 0)
        elif all_or_nothing:
            report = await self.write_all()
        else:
            report = await self.write_by_chunks()
        self.phase = "reporting"
        if rejected is not None:
            await self.report(rejected)
        async with self.units() as session:
            await session.execute(text(f"DROP TABLE {STAGE.name}"))
            if report.imported and dialect_of(session) == "postgresql":
                # A bulk load changes the table's shape: refresh the planner's statistics now
                # rather than whenever autovacuum gets to it (until then, look-ups by ID
                # number may be planned as scans of a table the planner thinks is small).
                await session.execute(text("ANALYZE person"))
        return report

    async def stage(
        self,
        rows: Iterator[Row],
        positions: dict[str, int],
        progress: Callable[[int], None] | None,
    ) -> None:
        """Each row checked on its own as it is read, and staged a chunk at a time: the file's
        rows are never held, only one chunk of checked values."""
        async with self.units() as session:
            checker = await _prepare(session, self.today)
        staged: list[dict[str, Any]] = []
        for row in rows:
            staged.append(await checker.stage_row(row, positions))
            self.last = row.line
            if len(staged) == CHUNK:
                await self.flush(staged, progress)
                staged = []
        await self.flush(staged, progress)

    async def flush(
        self, staged: list[dict[str, Any]], progress: Callable[[int], None] | None
    ) -> None:
        if not staged:
            return
        async with self.units() as session:
            await session.execute(insert(STAGE), staged)
        if progress is not None:
            progress(len(staged))

    async def write_all(self) -> ImportReport:
        """Every accepted row in one transaction, or (if one turns out refused) none."""

        async def everything(session: AsyncSession) -> ImportReport:
            batch_id, number = await _claim_batch(session, self.actor, self.path, self.digest)
            imported = await _write(session, batch_id, self.digest, 0, self.last)
            _, already_done, refused = await _counts(session, 0, self.last)
            if refused:
                raise _Refused
            return await self.finish(session, batch_id, number, imported, already_done, 0)

        try:
            return await self.retrying(everything)
        except _Refused:
            # The rolled-back write took its marks with it: mark again, to report the rows.
            async with self.units() as session:
                await _mark_against_database(session, self.digest, 0, self.last)
                _, already_done, refused = await _counts(session, 0, self.last)
            return ImportReport(None, 0, already_done, refused, 0)

    async def write_by_chunks(self) -> ImportReport:
        """The accepted rows a chunk of lines per transaction, each counted in the batch and
        audited in the same transaction."""
        async with self.units() as session:
            self.batch_id, self.number = await _claim_batch(
                session, self.actor, self.path, self.digest
            )
        batch_id = self.batch_id
        for lo in range(0, self.last + 1, WRITE_CHUNK):
            hi = lo + WRITE_CHUNK - 1

            async def chunk(session: AsyncSession, lo: int = lo, hi: int = hi) -> int:
                imported = await _write(session, batch_id, self.digest, lo, hi)
                if imported:
                    audit.record(
                        session,
                        self.actor,
                        "person.import.rows",
                        f"import_batch:{batch_id}",
                        run=self.number,
                        lines=f"{lo}-{hi}",
                        imported=imported,
                    )
                return imported

            self.imported += await self.retrying(chunk)
        async with self.units() as session:
            _, already_done, refused = await _counts(session, 0, self.last)
            return await self.finish(
                session, batch_id, self.number, self.imported, already_done, refused
            )

    async def retrying(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work`` in a unit of work, again if a counter's enrolment raced it (PostgreSQL)."""
        for attempt in range(4):
            try:
                async with self.units() as session:
                    return await work(session)
            except _Raced:
                if attempt == 3:
                    raise
        raise AssertionError  # unreachable

    async def finish(
        self,
        session: AsyncSession,
        batch_id: int,
        number: int,
        imported: int,
        already_done: int,
        refused: int,
    ) -> ImportReport:
        # read afresh: the batch may be in this session from before its count grew in SQL
        batch = await session.get(ImportBatch, batch_id, populate_existing=True)
        assert batch is not None
        batch.rejected, batch.finished_at = refused, utcnow()
        audit.record(
            session,
            self.actor,
            "person.import",
            f"import_batch:{batch_id}",
            file=self.path.name,
            sha256=self.digest,
            run=number,
            imported=imported,
            already_done=already_done,
            rejected=refused,
            file_imported=batch.imported,
        )
        return ImportReport(batch_id, imported, already_done, refused, batch.imported)

    async def report(self, rejected: Callable[[Rejected], None]) -> None:
        """Hand the refused rows on in line order, a page at a time."""
        after = -1
        while True:
            async with self.units() as session:
                page = (
                    await session.execute(
                        select(STAGE.c.line, STAGE.c.outcome, STAGE.c.params, STAGE.c.repeats)
                        .where(
                            STAGE.c.outcome.is_not(None),
                            STAGE.c.outcome != _DONE,
                            STAGE.c.line > after,
                        )
                        .order_by(STAGE.c.line)
                        .limit(CHUNK)
                    )
                ).all()
            for row in page:
                rejected(_refusal(row._asdict()))
            if len(page) < CHUNK:
                return
            after = page[-1].line
