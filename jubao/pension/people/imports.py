"""Bulk import of people already enrolled (the 通江 county story: a county's historical records
moved into the provincial system in one go).

The file is first read to its end (a file that cannot be read changes nothing), then read
again and checked as a stream, a chunk of rows at a time, so that memory stays the same
whatever its size. Each row's own checks (ID number, the other fields, the village, the
enrolment date and grade against the policy of that year) run in Python; each chunk then goes
to a staging table (temporary, on the import's one connection) holding the checked values, or
the reason a row was refused. Everything that compares rows with each other or with the
database is set-based SQL over that table: ID numbers repeated inside the file, people already
enrolled, people on the employees'-scheme list. The chunk's accepted rows go in by ``INSERT …
SELECT`` from the staging table in the same transaction (with ``all_or_nothing``, all the rows
go in at the end, in one transaction, and only if no row was refused). The refused rows are
read back in line order for the report.

A file is one import batch, identified by its content (SHA-256). An import may be interrupted
and run again: the run completes the same batch, and rows whose person that file already put in
count as done, not as duplicates. The batch's ``imported`` grows in the same transaction as the
rows it counts, with an audit event stating which lines went in, so that the record is right
even after a crash; each run that gets to the end adds an audit event with its own figures and
the file's total.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    exists,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.errors import Text as LangText
from jubao.orm import Base, BigId, UtcDateTime, dialect_of, insert_many, upsert, utcnow
from jubao.pension.accounts.contributions import check_grade
from jubao.pension.accounts.money import parse_yuan
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.enrollment import check_special_group
from jubao.pension.people.idnumber import IdNumber, Sex
from jubao.pension.people.persons import (
    Person,
    PersonStatus,
    check_address,
    check_bank_account,
    check_ethnicity,
    check_name,
    check_phone,
)
from jubao.pension.policy.params import Hukou, Policy, PolicyBook
from jubao.tabular import Row, columns, read_table
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import Region
from jubao.tenants.scope import unscoped
from jubao.text import quoted

log = logging.getLogger(__name__)

# Rows checked, staged and written per transaction: big enough that per-statement costs vanish,
# small enough that memory stays flat and no transaction holds SQLite's write lock for long.
CHUNK = 10_000

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
    AT_PENSION_AGE = (
        "参保日期 {value} 时已年满 {age} 周岁（领取待遇年龄为 {pension_age} 周岁），不能作为"
        "缴费人员导入；到龄参保人员按待遇业务办理",
        "{age} on the enrolment date {value}, at or over the pension age of {pension_age}: "
        "cannot be imported as a contributor (people enrolled at that age belong to benefits)",
    )
    MISSING = ("“{column}”不能为空", "'{column}' must not be empty")
    REJECTED = (
        "{count} 行被拒绝，未导入任何数据（--all-or-nothing）",
        "{count} rows rejected, nothing imported (--all-or-nothing)",
    )
    INTERRUPTED = (
        "导入中断：{cause}。{saved}可以放心地再次运行同一命令：已导入的行会被识别，"
        "不会重复导入，本次导入会在同一批次中完成。",
        "The import was interrupted: {cause}. {saved}It is safe to run the same command "
        "again: rows already imported are recognised and not imported twice, and the run "
        "completes the same batch.",
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
    *(Column(name, inspect(Person).columns[name].type) for name in _FIELDS),
    Index("person_import_stage_id_number", "id_number", "line"),
    prefixes=["TEMPORARY"],
)
_STAGED = tuple(STAGE.c.keys())
# positional ("?"), in the table's column order, for the driver's executemany
_SQLITE_STAGE = str(insert(STAGE).compile(dialect=sqlite.dialect()))
Staged = tuple[Any, ...]  # a staging-table row, in the table's column order


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


def _refusal(line: int, outcome: str, params: str | None, repeats: int | None) -> Rejected:
    if repeats is not None:
        return Rejected(line, DomainError(PersonImportError.DUPLICATE_IN_FILE, line=repeats))
    return Rejected(line, DomainError(_code_named(outcome), **_load_params(params)))


async def _stage(session: AsyncSession, rows: list[Staged]) -> None:
    """Rows into the staging table, the fastest way each database has."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # The first statement also starts the transaction the COPY below joins (the driver
        # begins it lazily, on a statement). A chunk lost to a crash is imported again when
        # the file is run again, so its commit need not wait for the disk.
        await connection.execute(text("SET LOCAL synchronous_commit = off"))
        await insert_many(session, STAGE, _STAGED, rows)
        return
    await connection.exec_driver_sql(_SQLITE_STAGE, rows)


# --- checking one row ------------------------------------------------------------------------


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise DomainError(PersonImportError.DATE, value=quoted(value)) from None


class _Checker:
    """A row's own checks; what needs other rows or the database is left to the SQL. Needs
    the database no more once made: the villages and the policy parameter sets are read
    before (see :func:`_prepare`)."""

    # Policies looked up, by village and year: a file mostly holds a county's villages over a
    # few years, so this rarely fills; when it does, it starts again (memory stays bounded).
    POLICIES = 20_000

    def __init__(
        self, book: PolicyBook, today: date, villages: set[str], dates: Callable[[date], Any]
    ) -> None:
        self.book = book
        self.today = today
        self.villages = villages
        self.dates = dates  # a date as the staging table's driver takes it
        self.regions: dict[str, RegionCode] = {}  # at most one per village
        self.policies: dict[tuple[str, int], Policy] = {}

    def policy(self, region: RegionCode, year: int) -> Policy:
        key = (region.code, year)
        policy = self.policies.get(key)
        if policy is None:
            if len(self.policies) >= self.POLICIES:
                self.policies.clear()
            policy = self.policies[key] = self.book.resolve(region, year)
        return policy

    def values(self, cells: dict[str, str]) -> tuple[Any, ...]:
        """The checked values of one row, in the order of ``_FIELDS``."""
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
        region = self.regions.get(region_text)
        if region is None:
            if region_text not in self.villages:
                raise DomainError(PersonImportError.NOT_A_VILLAGE, region=quoted(region_text))
            region = self.regions[region_text] = RegionCode(region_text)
        enrolled_on = _date(cells["enrolled_on"])
        policy = self.policy(region, enrolled_on.year)
        min_age = policy.enrollment.min_age
        age = identity.age_on(enrolled_on)
        if not (age >= min_age and enrolled_on <= self.today):
            raise DomainError(
                PersonImportError.ENROLLED_ON, value=enrolled_on.isoformat(), min_age=min_age
            )
        if age >= policy.enrollment.pension_age:
            raise DomainError(
                PersonImportError.AT_PENSION_AGE,
                value=enrolled_on.isoformat(),
                age=age,
                pension_age=policy.enrollment.pension_age,
            )
        grade = parse_yuan(cells["grade"])
        check_grade(policy, grade)
        return (
            identity.value,
            check_name(cells["name"]),
            int(identity.sex),
            self.dates(identity.birth_date),
            check_ethnicity(cells["ethnicity"]),
            hukou.value,
            region.code,
            check_address(cells["address"]),
            check_phone(cells.get("phone")),
            check_special_group(policy, cells.get("special_group")),
            check_bank_account(cells.get("bank_account")),
            grade,
            self.dates(enrolled_on),
        )

    def stage_row(self, row: Row, positions: dict[str, int]) -> Staged:
        """The staging-table row for one line of the file."""
        cells = {
            column: row.cells[index] if index < len(row.cells) else ""
            for column, index in positions.items()
        }
        try:
            return (row.line, None, None, None, *self.values(cells))
        except DomainError as error:
            refused = (row.line, _code_name(error.code), _dump_params(error.params), None)
            return refused + (None,) * len(_FIELDS)

    def next_chunk(self, rows: Iterator[Row], positions: dict[str, int]) -> list[Staged]:
        """The next chunk of the file, read and checked (empty at the end)."""
        return [self.stage_row(row, positions) for row in islice(rows, CHUNK)]


async def _villages(session: AsyncSession) -> set[str]:
    table = unscoped(Region)
    rows = await session.scalars(
        select(table.c.code).where(table.c.level == int(Level.VILLAGE), table.c.valid_to.is_(None))
    )
    return set(rows)


# SQLite's page cache for the import's connection (KiB). The default (2 MB) is soon outgrown by
# the person table's indexes, and every insert then reads their pages back from the file.
SQLITE_CACHE_KIB = 64 * 1024


async def _prepare(session: AsyncSession, today: date) -> _Checker:
    """A fresh staging table, and the checker with all it needs from the database."""
    await session.run_sync(lambda sync: STAGE.drop(sync.connection(), checkfirst=True))
    await session.run_sync(lambda sync: STAGE.create(sync.connection()))
    # COPY takes dates; SQLite stores them as ISO text, as SQLAlchemy's Date does.
    dates = (lambda day: day) if dialect_of(session) == "postgresql" else date.isoformat
    book = await PolicyBook(session).load()
    return _Checker(book, today, await _villages(session), dates)


# --- the set-based checks --------------------------------------------------------------------


def _lines(lo: int, hi: int) -> Any:
    return STAGE.c.line.between(lo, hi)


async def _mark_repeats(session: AsyncSession, lo: int, hi: int) -> None:
    """Lines ``lo``–``hi`` whose ID number an earlier line (staged before, or in this chunk)
    has, refused naming the first such line. Rows refused by their own checks keep no ID
    number, so they never count as the earlier line; rows refused against the database do."""
    earlier = STAGE.alias("earlier")
    same = earlier.c.id_number == STAGE.c.id_number
    await session.execute(
        update(STAGE)
        .where(
            STAGE.c.outcome.is_(None),
            _lines(lo, hi),
            exists(select(earlier.c.line).where(same, earlier.c.line < STAGE.c.line)),
        )
        .values(
            outcome=_code_name(PersonImportError.DUPLICATE_IN_FILE),
            repeats=select(func.min(earlier.c.line)).where(same).scalar_subquery(),
        )
    )


async def _mark_against_database(session: AsyncSession, digest: str, lo: int, hi: int) -> None:
    """Lines ``lo``–``hi`` still to go in whose person is in the database already (put in by
    this file: done; by anything else: refused), or is on the employees'-scheme list at or
    after the enrolment date (rulebook §5.3, §5.14 art. 7: an overlap is the two schemes'
    transfer procedure, not an import). Set-based: one statement, whatever the number."""
    person, batch = unscoped(Person), ImportBatch.__table__
    employees = EmployeeInsured.__table__
    enrolled = exists(select(person.c.id).where(person.c.id_number == STAGE.c.id_number))
    by_this_file = exists(
        select(person.c.id)
        .join(batch, person.c.import_batch_id == batch.c.id)
        .where(person.c.id_number == STAGE.c.id_number, batch.c.file_sha256 == digest)
    )
    insured = exists(
        select(employees.c.id_number).where(
            employees.c.id_number == STAGE.c.id_number,
            or_(employees.c.insured_to.is_(None), employees.c.insured_to >= STAGE.c.enrolled_on),
        )
    )
    await session.execute(
        update(STAGE)
        .where(STAGE.c.outcome.is_(None), _lines(lo, hi), or_(enrolled, insured))
        .values(
            outcome=case(
                (by_this_file, _DONE),
                (enrolled, _code_name(PersonImportError.ALREADY_ENROLLED)),
                else_=_code_name(PersonImportError.EMPLOYEE_SCHEME),
            )
        )
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


async def _write(session: AsyncSession, batch_id: int, lo: int, hi: int) -> int:
    """Put in the accepted lines ``lo``–``hi`` (checked against the database in this same
    transaction) and count them in the batch; returns how many went in."""
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
    person = unscoped(Person)
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
    return inserted


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
    progress: Callable[[int, int], None] | None = None,
    rejected: Callable[[Rejected], object] | None = None,
) -> ImportReport:
    """Import the people of ``path``.

    ``units`` must run every unit of work on one and the same connection (the staging table
    lives there). ``progress`` hears (rows done, rows in the file) as the import goes;
    ``rejected`` hears each refused row, in line order, at the end. The file is read to its
    end before anything is written (a file that cannot be read is refused with the line where
    reading stopped, and changes nothing). A database failure part way is
    :attr:`PersonImportError.INTERRUPTED`, whose message (and log record) holds nothing of
    the file's rows; running the same file again completes the import."""
    run = _Run(units, actor, path, file_digest(path), today)
    with read_table(path) as table:
        positions = columns(table.header, HEADINGS)
        missing = [HEADINGS[c][1] for c in REQUIRED if c not in positions]
        if missing:
            raise DomainError(PersonImportError.HEADER, missing="、".join(missing))
        total = sum(1 for _ in table.rows)
    try:
        with read_table(path) as table:
            async with run.left_as_found():
                return await run.steps(
                    table.rows, positions, total, all_or_nothing, progress, rejected
                )
    except DBAPIError as error:
        cause = _cause(error)
    except OSError as error:  # the connection's socket, below the driver
        cause = _LOST if isinstance(error, ConnectionError) else _failure(type(error).__name__)
    # Raised outside the handler, so that the driver's error is not chained to it: its text
    # may quote the statement's parameters, which are rows of the file.
    log.warning(
        "person import interrupted",
        extra={"fields": {"cause": cause.en, "phase": run.phase, "batch": run.batch_id}},
    )
    raise DomainError(PersonImportError.INTERRUPTED, cause=cause, saved=run.saved())


_LOST = LangText("数据库连接断开", "the database connection was lost")


def _failure(kind: str) -> LangText:
    return LangText(f"数据库出错（{kind}）", f"a database error ({kind})")


def _cause(error: DBAPIError) -> LangText:
    """What failed, without the driver's message (which may quote the statement's values)."""
    if error.connection_invalidated:
        return _LOST
    original = error.orig if error.orig is not None else error
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    kind = type(original).__name__
    return _failure(f"{kind}, SQLSTATE {code}" if code else kind)


@dataclass
class _Run:
    """One run of an import."""

    units: UnitOfWork
    actor: audit.AuditActor
    path: Path
    digest: str
    today: date
    phase: str = "importing"  # for the log, if the run is interrupted
    last: int = 1  # the file's last line
    batch_id: int | None = None
    number: int = 0  # this run's number in its batch
    imported: int = 0
    postgresql: bool = False
    sqlite_cache: int | None = None  # the connection's own, while the import sets a bigger one

    def saved(self) -> LangText:
        if self.batch_id is None or not self.imported:
            return LangText("本次运行尚未写入任何人员。", "This run had written nobody yet. ")
        return LangText(
            f"本次运行已写入的 {self.imported} 人已保存在导入批次 {self.batch_id} 中。",
            f"The {self.imported} people this run wrote are saved in import batch "
            f"{self.batch_id}. ",
        )

    @asynccontextmanager
    async def left_as_found(self) -> AsyncIterator[None]:
        """The connection as it was found once the run is over, whatever happened: the staging
        table would otherwise stay on it until it is closed."""
        try:
            yield
        finally:
            with suppress(DBAPIError, OSError):
                async with self.units() as session:
                    await session.run_sync(
                        lambda sync: STAGE.drop(sync.connection(), checkfirst=True)
                    )
                    if self.sqlite_cache is not None:
                        await session.execute(text(f"PRAGMA cache_size = {self.sqlite_cache}"))

    async def steps(
        self,
        rows: Iterator[Row],
        positions: dict[str, int],
        total: int,
        all_or_nothing: bool,
        progress: Callable[[int, int], None] | None,
        rejected: Callable[[Rejected], object] | None,
    ) -> ImportReport:
        async with self.units() as session:
            self.postgresql = dialect_of(session) == "postgresql"
            if not self.postgresql:
                self.sqlite_cache = int(await session.scalar(text("PRAGMA cache_size")) or 0)
                await session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
            checker = await _prepare(session, self.today)
            if not all_or_nothing:
                self.batch_id, self.number = await _claim_batch(
                    session, self.actor, self.path, self.digest
                )
        # Each row is checked as it is read, a chunk of checked rows at a time goes on to the
        # database. Neither the file's rows nor its ID numbers are held beyond two chunks.
        done = 0
        staged = checker.next_chunk(rows, positions)
        while staged:
            if self.postgresql:
                # The server takes one chunk while the next is read and checked (in a thread).
                # Not with SQLite: it works in this process, binding every value under the
                # same interpreter lock as the checking, and both would only wait for it.
                ahead = asyncio.ensure_future(
                    asyncio.to_thread(checker.next_chunk, rows, positions)
                )
                try:
                    done += await self.chunk(staged, all_or_nothing)
                except BaseException:
                    with suppress(Exception):  # the thread is not left reading the file
                        await ahead
                    raise
                staged = await ahead
            else:
                done += await self.chunk(staged, all_or_nothing)
                staged = checker.next_chunk(rows, positions)
            if progress is not None:
                progress(done, total)
        self.phase = "writing"
        if all_or_nothing:
            report = await self.write_all()
        else:
            async with self.units() as session:
                _, already_done, refused = await _counts(session, 0, self.last)
                report = await self.finish(session, self.imported, already_done, refused)
        self.phase = "reporting"
        if rejected is not None:
            await self.report(rejected)
        if report.imported and self.postgresql:
            async with self.units() as session:
                # A bulk load changes the table's shape: refresh the planner's statistics now
                # rather than whenever autovacuum gets to it (until then, look-ups by ID
                # number may be planned as scans of a table the planner thinks is small).
                await session.execute(text("ANALYZE person"))
        return report

    async def chunk(self, staged: list[Staged], check_only: bool) -> int:
        """Stage a chunk of rows and compare them with the lines before and the database;
        unless all or nothing, put the accepted ones in (counted in the batch and audited in
        this same transaction). Returns the number of rows."""
        lo, hi = staged[0][0], staged[-1][0]

        async def work(session: AsyncSession) -> int:
            await _stage(session, staged)
            await _mark_repeats(session, lo, hi)
            await _mark_against_database(session, self.digest, lo, hi)
            if check_only:
                return 0
            assert self.batch_id is not None
            imported = await _write(session, self.batch_id, lo, hi)
            if imported:
                audit.record(
                    session,
                    self.actor,
                    "person.import.rows",
                    f"import_batch:{self.batch_id}",
                    run=self.number,
                    lines=f"{lo}-{hi}",
                    imported=imported,
                )
            return imported

        self.imported += await self.retrying(work)
        self.last = hi
        return len(staged)

    async def write_all(self) -> ImportReport:
        """Every accepted row in one transaction, or (if any row is refused) none."""
        async with self.units() as session:
            _, already_done, refused = await _counts(session, 0, self.last)
        if refused:
            return ImportReport(None, 0, already_done, refused, 0)

        async def everything(session: AsyncSession) -> ImportReport:
            self.batch_id, self.number = await _claim_batch(
                session, self.actor, self.path, self.digest
            )
            # a counter may have enrolled someone since the chunk was checked
            await _mark_against_database(session, self.digest, 0, self.last)
            imported = await _write(session, self.batch_id, 0, self.last)
            _, already_done, refused = await _counts(session, 0, self.last)
            if refused:
                raise _Refused
            return await self.finish(session, imported, already_done, 0)

        try:
            return await self.retrying(everything)
        except _Refused:
            self.batch_id = None
            # The rolled-back write took its marks with it: mark again, to report the rows.
            async with self.units() as session:
                await _mark_against_database(session, self.digest, 0, self.last)
                _, already_done, refused = await _counts(session, 0, self.last)
            return ImportReport(None, 0, already_done, refused, 0)

    async def retrying(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work`` in a unit of work, again if a counter's enrolment raced it (PostgreSQL)."""
        for attempt in range(4):
            try:
                async with self.units() as session:
                    return await work(session)
            except _Raced:
                if attempt == 3:
                    raise
        raise AssertionError  # not reached

    async def finish(
        self, session: AsyncSession, imported: int, already_done: int, refused: int
    ) -> ImportReport:
        assert self.batch_id is not None
        # read afresh: the batch may be in this session from before its count grew in SQL
        batch = await session.get(ImportBatch, self.batch_id, populate_existing=True)
        assert batch is not None
        batch.rejected, batch.finished_at = refused, utcnow()
        audit.record(
            session,
            self.actor,
            "person.import",
            f"import_batch:{batch.id}",
            file=self.path.name,
            sha256=self.digest,
            run=self.number,
            imported=imported,
            already_done=already_done,
            rejected=refused,
            file_imported=batch.imported,
        )
        return ImportReport(batch.id, imported, already_done, refused, batch.imported)

    async def report(self, rejected: Callable[[Rejected], object]) -> None:
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
            for line, outcome, params, repeats in page:
                rejected(_refusal(line, outcome, params, repeats))
            if len(page) < CHUNK:
                return
            after = page[-1].line
