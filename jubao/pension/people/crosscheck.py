"""数据比对: lists from other schemes that enrolment is checked against.

The employees' scheme (职工基本养老保险) sends its list of insured people periodically; each
import replaces the previous list, so that someone who left that scheme can enrol here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Date, String, delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao import audit
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.orm import Base, utcnow
from jubao.pension.people.idnumber import IdNumber
from jubao.tabular import columns, read_table
from jubao.text import quoted


class EmployeeInsured(Base):
    """Who is insured in the employees' scheme (职工养老), from the latest cross-check list."""

    __tablename__ = "employee_insured"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    insured_from: Mapped[date | None] = mapped_column(Date)
    insured_to: Mapped[date | None] = mapped_column(Date)  # None: still insured
    # receiving the employees' pension since (None: not receiving it)
    pension_from: Mapped[date | None] = mapped_column(Date)
    imported_on: Mapped[date] = mapped_column(Date, default=lambda: utcnow().date())


class CrosscheckError(ErrorCode):
    HEADER = (
        "表头必须包含“身份证号码”（或 id_number）列",
        "The header needs an ID-number column (身份证号码 or id_number)",
    )
    DATE = (
        "日期“{value}”格式不正确（应为 YYYY-MM-DD）",
        "Date '{value}' is malformed (YYYY-MM-DD)",
    )
    DUPLICATE = ("身份证号码与第 {line} 行重复", "The ID number repeats line {line}")


_HEADINGS = {
    "id_number": ("id_number", "身份证号码", "公民身份号码"),
    "insured_from": ("insured_from", "参保日期", "起始日期"),
    "insured_to": ("insured_to", "终止日期", "停保日期"),
    "pension_from": ("pension_from", "待遇开始日期", "领取待遇日期"),
}


@dataclass
class CrosscheckReport:
    imported: int = 0
    rejected: list[tuple[int, DomainError]] = field(default_factory=list)

    def describe(self, lang: Lang) -> list[str]:
        return [f"{line}: {error.message(lang)}" for line, error in self.rejected]


def _optional_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise DomainError(CrosscheckError.DATE, value=quoted(value)) from None


async def import_employees(
    session: AsyncSession, actor: audit.AuditActor, path: Path, *, today: date
) -> CrosscheckReport:
    """Replace the employees'-scheme list with the rows of ``path`` that are valid."""
    table = read_table(path)
    positions = columns(table.header, _HEADINGS)
    if "id_number" not in positions:
        raise DomainError(CrosscheckError.HEADER)
    report = CrosscheckReport()
    rows: dict[str, dict[str, object]] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        cells = {k: row.cells[i] if i < len(row.cells) else "" for k, i in positions.items()}
        try:
            number = IdNumber.parse(cells["id_number"], today=today).value
            if number in rows:
                raise DomainError(CrosscheckError.DUPLICATE, line=lines[number])
            rows[number] = {
                "id_number": number,
                "insured_from": _optional_date(cells.get("insured_from", "")),
                "insured_to": _optional_date(cells.get("insured_to", "")),
                "pension_from": _optional_date(cells.get("pension_from", "")),
                "imported_on": today,
            }
            lines[number] = row.line
        except DomainError as error:
            report.rejected.append((row.line, error))
    await session.execute(delete(EmployeeInsured))
    values = list(rows.values())
    for start in range(0, len(values), 5000):
        await session.execute(insert(EmployeeInsured), values[start : start + 5000])
    report.imported = len(values)
    audit.record(
        session,
        actor,
        "crosscheck.employees",
        "employee_insured",
        file=path.name,
        imported=report.imported,
        rejected=len(report.rejected),
    )
    return report
