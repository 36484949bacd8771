"""Bulk import of people already enrolled (the 通江 county story: a county's historical records
moved into the provincial system in one go).

Every row is checked first — ID number (check digit, real date), the other fields, duplicates
inside the file and against the database, the region, the enrolment date and grade against the
policy of that year. Then the accepted rows go in, in batches (or, with ``all_or_nothing``, all
in one transaction and only if no row was rejected). Rejected rows are listed with their line
numbers and reasons.

An import may be interrupted and run again: rows of the same file (same content, same SHA-256)
whose person is already in the database are counted as done, not as duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.orm import Base, BigId, among, dialect_of, utcnow
from jubao.pension.contributions import check_grade
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
from jubao.tenants.scope import unscoped

BATCH = 1000
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


class ImportBatch(Base):
    """One bulk import: which file (by content), when, by whom, and what came of it."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    imported: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class Rejected:
    line: int
    id_number: str
    error: DomainError

    def describe(self, lang: Lang) -> str:
        return f"{self.line}: {self.error.message(lang)}"


@dataclass
class ImportReport:
    batch_id: int | None = None
    imported: int = 0
    already_done: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise DomainError(PersonImportError.DATE, value=value[:20]) from None


class _Checker:
    """Checks one row at a time, remembering what the file and the database already hold."""

    def __init__(self, session: AsyncSession, today: date, villages: set[str]) -> None:
        self.book = PolicyBook(session)
        self.today = today
        self.villages = villages
        self.seen: dict[str, int] = {}

    async def check(self, cells: dict[str, str], line: int) -> dict[str, Any]:
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
                raise DomainError(PersonImportError.SEX, value=cells["sex"][:10])
        birth = _date(cells["birth_date"]) if cells.get("birth_date") else None
        identity.check_matches(sex=sex, birth_date=birth)
        if identity.value in self.seen:
            raise DomainError(PersonImportError.DUPLICATE_IN_FILE, line=self.seen[identity.value])
        hukou = _HUKOU.get(cells["hukou"].lower())
        if hukou is None:
            raise DomainError(PersonImportError.HUKOU, value=cells["hukou"][:10])
        region_text = cells["region"]
        if region_text not in self.villages:
            raise DomainError(PersonImportError.NOT_A_VILLAGE, region=region_text[:20])
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
        self.seen[identity.value] = line
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
            "status": PersonStatus.CONTRIBUTING.value,
            "enrolled_on": enrolled_on,
        }


async def _villages(session: AsyncSession) -> set[str]:
    table = unscoped(Region)
    rows = await session.scalars(
        select(table.c.code).where(table.c.level == int(Level.VILLAGE), table.c.valid_to.is_(None))
    )
    return set(rows)


async def _existing(session: AsyncSession, id_numbers: Sequence[str]) -> dict[str, str | None]:
    """ID numbers already in the database, with the SHA-256 of the file that imported them."""
    person, batch = unscoped(Person), ImportBatch.__table__
    dialect = dialect_of(session)
    found: dict[str, str | None] = {}
    for start in range(0, len(id_numbers), BATCH):
        chunk = list(id_numbers[start : start + BATCH])
        rows = await session.execute(
            select(person.c.id_number, batch.c.file_sha256)
            .select_from(person.outerjoin(batch, person.c.import_batch_id == batch.c.id))
            .where(among(person.c.id_number, chunk, dialect))
        )
        found.update(dict(rows.all()))
    return found


async def import_persons(
    unit_of_work: UnitOfWork,
    actor: audit.AuditActor,
    path: Path,
    *,
    all_or_nothing: bool = False,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    digest = file_digest(path)
    table = read_table(path)
    positions = columns(table.header, HEADINGS)
    missing = [HEADINGS[c][1] for c in REQUIRED if c not in positions]
    if missing:
        raise DomainError(PersonImportError.HEADER, missing="、".join(missing))

    report = ImportReport()
    accepted: list[tuple[int, dict[str, Any]]] = []
    async with unit_of_work() as session:
        checker = _Checker(session, today, await _villages(session))
        for row in table.rows:
            cells = _cells(row, positions)
            try:
                accepted.append((row.line, await checker.check(cells, row.line)))
            except DomainError as error:
                report.rejected.append(Rejected(row.line, cells.get("id_number", ""), error))
            if progress is not None:
                progress(1)
        existing = await _existing(session, [values["id_number"] for _, values in accepted])
    to_insert: list[tuple[int, dict[str, Any]]] = []
    for line, values in accepted:
        if values["id_number"] not in existing:
            to_insert.append((line, values))
        elif existing[values["id_number"]] == digest:
            report.already_done += 1
        else:
            report.rejected.append(
                Rejected(line, values["id_number"], DomainError(PersonImportError.ALREADY_ENROLLED))
            )
    if all_or_nothing and report.rejected:
        report.rejected.sort(key=lambda r: r.line)
        return report

    async with unit_of_work() as session:
        batch = ImportBatch(
            file_name=path.name[:255], file_sha256=digest, actor=actor.label, started_at=utcnow()
        )
        session.add(batch)
        await session.flush()
        report.batch_id = batch.id
    stamp = {"import_batch_id": report.batch_id, "created_at": utcnow(), "updated_at": utcnow()}
    size = len(to_insert) if all_or_nothing else BATCH
    for start in range(0, len(to_insert), max(size, 1)):
        rows = to_insert[start : start + size]
        try:
            async with unit_of_work() as session:
                conflicts = await _insert(session, rows, stamp)
                if conflicts and all_or_nothing:
                    raise _Enrolled(conflicts)  # rolls the whole file back
            report.imported += len(rows) - len(conflicts)
        except _Enrolled as enrolled:
            conflicts = enrolled.rows
        report.rejected += [
            Rejected(line, values["id_number"], DomainError(PersonImportError.ALREADY_ENROLLED))
            for line, values in conflicts
        ]
    report.rejected.sort(key=lambda r: r.line)
    async with unit_of_work() as session:
        if report.imported and dialect_of(session) == "postgresql":
            # A bulk load changes the table's shape: refresh the planner's statistics now
            # rather than whenever autovacuum gets to it (until then, look-ups by ID number
            # may be planned as scans of a table the planner thinks is small).
            await session.execute(text("ANALYZE person"))
        finished = await session.get(ImportBatch, report.batch_id)
        assert finished is not None
        finished.imported, finished.rejected, finished.finished_at = (
            report.imported,
            len(report.rejected),
            utcnow(),
        )
        audit.record(
            session,
            actor,
            "person.import",
            f"import_batch:{finished.id}",
            file=path.name,
            sha256=digest,
            imported=report.imported,
            already_done=report.already_done,
            rejected=len(report.rejected),
        )
    return report


class _Enrolled(Exception):
    """Rows that someone enrolled between their check and their insert."""

    def __init__(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        self.rows = rows


def _cells(row: Row, positions: dict[str, int]) -> dict[str, str]:
    return {
        column: row.cells[index] if index < len(row.cells) else ""
        for column, index in positions.items()
    }


async def _insert(
    session: AsyncSession, rows: Sequence[tuple[int, dict[str, Any]]], stamp: dict[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    """Insert the rows; returns those that someone else enrolled since they were checked."""
    if not rows:
        return []
    try:
        async with session.begin_nested():
            await session.execute(insert(Person), [{**values, **stamp} for _, values in rows])
        return []
    except IntegrityError:
        conflicts = []
        for line, values in rows:
            try:
                async with session.begin_nested():
                    await session.execute(insert(Person), [{**values, **stamp}])
            except IntegrityError:
                conflicts.append((line, values))
        return conflicts
