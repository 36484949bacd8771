"""Building blocks for benefit tests: the rules of a county whose scheme began in July 2011,
and contributors with years of payments."""

from datetime import date
from typing import Any

import pytest

from jubao.pension.people.persons import Person
from jubao.pension.policy.params import PolicyFile, parse_params, save_policy
from jubao.platform.services import Services
from tests.helpers import COUNTY_A, PROVINCE, VILLAGE_A, World
from tests.pension.accounts.test_interest import pay
from tests.pension.support import SYSTEM, enrol, install_policy

# The province's rules from 2009: the national parameters, the county's scheme begun in July
# 2011, and a provincial layer of 12 yuan with 20 more from the age of 70; the county adds 3
# and Wuhan's years top-up (2 a year up to 15, then 3).
PROVINCE_RULES: dict[str, Any] = {
    "scheme": {"started": "2011-07"},
    "basic_pension": {"monthly": "12", "age_topups": [{"from_age": 70, "monthly": "20"}]},
}
COUNTY_RULES = {
    "basic_pension": {
        "monthly": "3",
        "years_topup": [{"up_to": 15, "per_year": "2"}, {"per_year": "3"}],
    }
}


@pytest.fixture
async def rules(services: Services, world: World) -> None:
    await install_policy(services, PROVINCE, 2009, **PROVINCE_RULES)
    async with services.db.transaction(SYSTEM) as session:
        await save_policy(
            session, SYSTEM, PolicyFile(COUNTY_A, 2020, "县级加发", parse_params(COUNTY_RULES))
        )


async def contributor(
    services: Services, birth: date, sequence: int, years: range, **kwargs: Any
) -> Person:
    person = await enrol(
        services,
        birth=birth,
        sequence=sequence,
        region=VILLAGE_A,
        enrolled_on=date(years.start, 8, 1),
        **kwargs,
    )
    for year in years:
        await pay(services, person, year, date(year, 9, 30))
    return person
