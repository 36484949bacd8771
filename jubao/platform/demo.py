"""`jubao demo`: a demo province and one operator for every role, at a fitting region."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.authz.grants import grant_role
from jubao.authz.operators import create_operator, find_by_username
from jubao.authz.passwords import Passwords
from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.demo import demo_regions
from jubao.tenants.importer import import_regions
from jubao.tenants.models import Region

DEMO_PASSWORD = "jubao-demo-2026"  # noqa: S105 - printed on purpose; demo data only


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    region: RegionCode
    region_name: str


# (username, display name, role, which demo region: a path of child indexes from the province)
_OPERATORS = (
    ("province.admin", "赵省管", "province_admin", ()),
    ("permission.admin", "钱权管", "permission_admin", (0, 1)),
    ("city.supervisor", "孙市监", "city_supervisor", (0,)),
    ("county.processor", "李县经", "agency_processor", (0, 1)),
    ("county.reviewer", "周县审", "agency_reviewer", (0, 1)),
    ("township.processor", "吴乡经", "township_processor", (0, 1, 0)),
    ("township.reviewer", "郑乡审", "township_reviewer", (0, 1, 0)),
    ("village.assistant", "王村协", "village_assistant", (0, 1, 0, 1)),
    ("finance.officer", "冯财务", "finance_officer", (0, 1)),
    ("auditor", "陈稽核", "auditor", (0,)),
)


async def _pick(session: AsyncSession, path: tuple[int, ...]) -> Region:
    region = await session.scalar(select(Region).where(Region.level == Level.PROVINCE))
    assert region is not None
    for index in path:
        children = (
            await session.scalars(
                select(Region).where(Region.parent_code == region.code).order_by(Region.code)
            )
        ).all()
        region = children[index]
    return region


async def load_demo(
    session: AsyncSession, passwords: Passwords, *, size: tuple[int, int, int, int]
) -> list[DemoLogin]:
    """Generate the province (once) and the demo operators (once); returns their logins."""
    actor = Actor.system("demo")
    if not await session.scalar(select(func.count()).select_from(Region)):
        records = (
            (line, [r.code, r.name, r.urban_rural_class or ""])
            for line, r in enumerate(demo_regions(*size), start=2)
        )
        # The invented codes are in use since the scheme began (its demo history starts there).
        report = await import_regions(session, actor, records, valid_from=date(2009, 1, 1))
        assert not report.rejected, report.rejected
    logins = []
    for username, display_name, role, path in _OPERATORS:
        region = await _pick(session, path)
        code = RegionCode(region.code)
        if await find_by_username(session, username) is None:
            operator = await create_operator(
                session,
                actor,
                passwords,
                username=username,
                display_name=display_name,
                region=code,
                password=DEMO_PASSWORD,
                password_expired=False,  # the demonstration logins work as printed
            )
            await grant_role(
                session, actor, user_id=operator.id, role_name=role, region=code, reason="演示数据"
            )
        logins.append(DemoLogin(username, display_name, role, code, region.name))
    return logins
