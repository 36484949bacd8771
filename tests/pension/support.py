"""Building blocks for pension tests: policies, people, valid ID numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from jubao.authz.actor import Actor
from jubao.pension.people.enrollment import EnrollmentForm, open_record
from jubao.pension.people.idnumber import IdNumber, check_character
from jubao.pension.people.persons import Person
from jubao.pension.policy.params import (
    NATIONAL,
    PolicyFile,
    as_file_values,
    parse_params,
    save_policy,
)
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode

SYSTEM = Actor.system("test")


def id_number(birth: date, sequence: int, address: str = "410121") -> str:
    body = f"{address}{birth:%Y%m%d}{sequence:03d}"
    return body + check_character(body)


def national_with(**sections: Any) -> dict[str, Any]:
    """The national parameter set in file form (yuan), with some sections replaced."""
    values = as_file_values(NATIONAL.params)
    values.update(sections)
    return values


async def install_policy(
    services: Services, region: RegionCode, year: int, title: str = "测试政策", **sections: Any
) -> None:
    """A complete parameter set for ``region`` from ``year``: the national one with changes."""
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session,
            SYSTEM,
            PolicyFile(region, year, title, parse_params(national_with(**sections))),
        )


async def enrol(
    services: Services,
    *,
    birth: date,
    sequence: int,
    region: RegionCode,
    enrolled_on: date,
    hukou: str = "rural",
    special_group: str | None = None,
    grade: int = 50000,
    name: str = "张三",
    bank_account: str | None = None,
) -> Person:
    """A person enrolled directly (as an import would), skipping the application."""
    form = EnrollmentForm(
        id_number=id_number(birth, sequence),
        name=name,
        ethnicity="01",
        hukou=hukou,  # type: ignore[arg-type]
        region=region.code,
        address="某村某组",
        special_group=special_group,
        bank_account=bank_account,
        grade=grade,
    )
    identity = IdNumber.read(form.id_number)
    async with services.db.transaction(SYSTEM) as session:
        return await open_record(session, SYSTEM, form, identity, region, enrolled_on)
