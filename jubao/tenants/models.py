"""The ``region`` table: the code tree with its history."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.errors import DomainError
from jubao.orm import Base
from jubao.tenants.codes import Level, RegionCode, RegionCodeError
from jubao.tenants.scope import RegionScoped, unscoped

URBAN_RURAL_CLASSES = {
    "111": "主城区",
    "112": "城乡接合区",
    "121": "镇中心区",
    "122": "镇乡接合区",
    "123": "特殊区域",
    "210": "乡中心区",
    "220": "村庄",
}


class Region(Base, RegionScoped):
    """One administrative division. Codes are never deleted: an abolished code gets ``valid_to``."""

    __tablename__ = "region"
    __scope_object__ = "region"
    __scope_column__ = "code"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint("length(code) = 12", name="code_length"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(SmallInteger, index=True)
    parent_code: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("region.code"), index=True
    )
    urban_rural_class: Mapped[str | None] = mapped_column(String(3))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    @property
    def level_enum(self) -> Level:
        return Level(self.level)


async def check_in_use(session: AsyncSession, code: RegionCode, field: str = "region") -> None:
    """Refuse a region that is unknown or abolished. Region codes are public, so this looks
    across the whole province (a Core query, which the scope does not filter): callers decide
    the caller's right from the code before they ask, so that the answer cannot tell anyone
    what exists outside their region."""
    table = unscoped(Region)
    found = (
        await session.execute(select(table.c.valid_to).where(table.c.code == code.code))
    ).first()
    if found is None or found.valid_to is not None:
        raise DomainError(RegionCodeError.UNKNOWN_REGION, field=field, region=code.code)
