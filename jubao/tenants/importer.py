"""Loading a region code table (CSV or Excel: code, name, optional urban-rural class code).

Every row is checked before anything is written: 12 digits with a derivable level, a name, a
known urban-rural class (villages only), no duplicates, and a parent present in the file or in
the database. By default one bad row stops the whole import; with ``skip_invalid`` the good
rows go in, and a row whose parent was rejected is rejected too. Existing codes are updated in
place when the name or class changed (recorded in the audit trail) and never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.tabular import columns, read_table
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.models import URBAN_RURAL_CLASSES, Region
from jubao.text import REGION_NAME, quoted

BATCH = 5000


class RegionImportError(ErrorCode):
    BAD_HEADER = (
        "第 1 行必须是表头：code,name[,urban_rural_class]（或 代码,名称[,城乡分类代码]）",
        "Line 1 must be the header: code,name[,urban_rural_class] (or 代码,名称[,城乡分类代码])",
    )
    COLUMNS = (
        "该行有 {found} 列，应为 {expected} 列",
        "The row has {found} columns, not {expected}",
    )
    URBAN_RURAL_CLASS = (
        "城乡分类代码“{value}”无效，应为 111、112、121、122、123、210、220 之一",
        "Invalid urban-rural class '{value}': use 111, 112, 121, 122, 123, 210 or 220",
    )
    CLASS_NOT_VILLAGE = (
        "城乡分类代码只适用于村级区划",
        "An urban-rural class applies to village-level regions only",
    )
    DUPLICATE = ("代码 {code} 已在第 {line} 行出现", "Code {code} already appears on line {line}")
    NO_PARENT = (
        "上级区划 {parent} 不在文件中（或被拒绝），也不在数据库中",
        "The parent region {parent} is neither in the file (accepted) nor in the database",
    )
    REJECTED = (
        "{count} 行被拒绝，未导入任何数据（用 --skip-invalid 只导入有效的行）",
        "{count} rows rejected, nothing imported (use --skip-invalid to import the valid rows)",
    )


@dataclass(frozen=True)
class RegionRow:
    line: int
    region: RegionCode
    name: str
    urban_rural_class: str | None


@dataclass(frozen=True)
class Rejection:
    line: int
    code: str
    error: DomainError

    def describe(self, lang: Lang) -> str:
        return f"{self.line}: {self.code or '-'}: {self.error.message(lang)}"


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


_COLUMNS = {
    "code": ("code", "代码"),
    "name": ("name", "名称"),
    "urban_rural_class": ("urban_rural_class", "城乡分类代码"),
}


def read_regions(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, [code, name, class]) for every record of a CSV or Excel code table."""
    table = read_table(path)
    positions = columns(table.header, _COLUMNS)
    if "code" not in positions or "name" not in positions or len(table.header) > 3:
        raise DomainError(RegionImportError.BAD_HEADER)
    order = [positions[f] for f in ("code", "name", "urban_rural_class") if f in positions]
    for row in table.rows:
        if len(row.cells) > len(table.header):
            yield row.line, row.cells  # refused below for its column count
        else:
            cells = row.cells + [""] * (len(table.header) - len(row.cells))
            yield row.line, [cells[i] for i in order]


def parse_rows(
    records: Iterable[tuple[int, list[str]]],
) -> tuple[list[RegionRow], list[Rejection]]:
    """Check each row on its own and against the rows before it."""
    rows: list[RegionRow] = []
    rejected: list[Rejection] = []
    seen: dict[str, int] = {}
    for line, fields in records:
        code = fields[0] if fields else ""
        try:
            if len(fields) not in (2, 3):
                raise DomainError(RegionImportError.COLUMNS, found=len(fields), expected="2–3")
            region = RegionCode(code)
            name = REGION_NAME.clean(fields[1])
            klass = (fields[2] if len(fields) == 3 else "") or None
            if klass is not None:
                if klass not in URBAN_RURAL_CLASSES:
                    raise DomainError(RegionImportError.URBAN_RURAL_CLASS, value=quoted(klass))
                if region.level is not Level.VILLAGE:
                    raise DomainError(RegionImportError.CLASS_NOT_VILLAGE)
            if code in seen:
                raise DomainError(RegionImportError.DUPLICATE, code=code, line=seen[code])
        except DomainError as error:
            rejected.append(Rejection(line, quoted(code), error))
            continue
        seen[code] = line
        rows.append(RegionRow(line, region, name, klass))
    return rows, rejected


def _chunks(items: Sequence[str], size: int = 1000) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _existing(session: AsyncSession, codes: Iterable[str]) -> dict[str, Region]:
    found: dict[str, Region] = {}
    for chunk in _chunks(sorted(set(codes))):
        for region in await session.scalars(select(Region).where(Region.code.in_(chunk))):
            found[region.code] = region
    return found


async def import_regions(
    session: AsyncSession,
    actor: audit.AuditActor,
    records: Iterable[tuple[int, list[str]]],
    *,
    valid_from: date,
    skip_invalid: bool = False,
) -> ImportReport:
    """Check every row, then write the accepted ones (unless any was rejected and
    ``skip_invalid`` is off, in which case nothing is written)."""
    rows, rejected = parse_rows(records)
    in_file = {row.region.code for row in rows}
    existing = await _existing(
        session,
        in_file | {row.region.parent.code for row in rows if row.region.parent is not None},
    )
    known = {code for code, region in existing.items() if region.valid_to is None}
    accepted: list[RegionRow] = []
    # Parents first, so that a rejected parent takes its children with it.
    for row in sorted(rows, key=lambda r: (r.region.level, r.line)):
        parent = row.region.parent
        if parent is None or parent.code in known:
            known.add(row.region.code)
            accepted.append(row)
        else:
            error = DomainError(RegionImportError.NO_PARENT, parent=parent.code)
            rejected.append(Rejection(row.line, row.region.code, error))
    report = ImportReport(rejected=sorted(rejected, key=lambda r: r.line))
    if report.rejected and not skip_invalid:
        return report

    new: list[dict[str, object]] = []
    for row in accepted:
        current = existing.get(row.region.code)
        if current is None:
            new.append(
                {
                    "code": row.region.code,
                    "name": row.name,
                    "level": int(row.region.level),
                    "parent_code": row.region.parent.code if row.region.parent else None,
                    "urban_rural_class": row.urban_rural_class,
                    "valid_from": valid_from,
                }
            )
        elif (current.name, current.urban_rural_class) != (row.name, row.urban_rural_class):
            audit.record(
                session,
                actor,
                "region.update",
                f"region:{current.code}",
                region_code=current.code,
                before={"name": current.name, "urban_rural_class": current.urban_rural_class},
                after={"name": row.name, "urban_rural_class": row.urban_rural_class},
            )
            current.name, current.urban_rural_class = row.name, row.urban_rural_class
            report.updated += 1
        else:
            report.unchanged += 1
    for start in range(0, len(new), BATCH):
        await session.execute(insert(Region), new[start : start + BATCH])
    report.added = len(new)
    audit.record(
        session,
        actor,
        "region.import",
        "region",
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.rejected),
    )
    return report
