"""重复领取 (§5.14 art. 8): recipients here whom the employees'-scheme list shows receiving a
pension there. Each is cleared by a termination for "other pension": the balance without
subsidies refunded after the basic pension received here is recovered from it. (Two pensions
of this scheme in one province cannot exist: one person per ID number.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.persons import Person, PersonStatus
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope


def duplicates_statement(region: RegionCode) -> Select[Any]:
    """The recipients of ``region`` (within the caller's scope) also paid by the employees'
    scheme."""
    return (
        select(Person)
        .join(EmployeeInsured, EmployeeInsured.id_number == Person.id_number)
        .where(
            Scope.of([region.prefix]).clause(Person.region_code),
            Person.status.in_((PersonStatus.RECEIVING.value, PersonStatus.BENEFIT_SUSPENDED.value)),
            EmployeeInsured.pension_from.is_not(None),
        )
    )
