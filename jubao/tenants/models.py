"""The ``region`` table: the code tree with its history."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from jubao.orm import Base
from jubao.tenants.codes import Level
from jubao.tenants.scope import RegionScoped

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
