"""Custom scalars, mapped from the domain's value objects."""

from __future__ import annotations

import strawberry
from strawberry.types.scalar import ScalarDefinition

from jubao.tenants.codes import RegionCode

SCALARS: dict[object, ScalarDefinition] = {
    RegionCode: strawberry.scalar(
        name="RegionCode",
        description=(
            '统计用区划代码 — 12-digit statistical division code, e.g. "410102001001" '
            "(province 2, city 2, county 2, township 3, village 3 digits)"
        ),
        serialize=str,
        parse_value=RegionCode,
    ),
}
