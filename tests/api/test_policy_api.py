"""The rules in force through HTTP: what a contribution form needs, scoped by region."""

from typing import Any

from jubao.platform.services import Services
from tests.helpers import PROVINCE, VILLAGE_A, VILLAGE_B, Api, World
from tests.pension.support import install_policy

QUERY = """query ($r: RegionCode!, $y: Year!) { policy(region: $r, year: $y) {
  region { code } year minAge grades aidCap subsidies { grade rural urban }
  subsidySplit { province city county } hardshipSubsidy backPayment { maxYears subsidy }
  specialGroups { code name hardshipShare hardshipPayment }
  interest { rate currentRate currentYearCredits rounding } divisor
  basicPension { monthly layers { regionPrefix monthly } }
  reviewChains { kind steps levels } } }"""


async def test_the_rules_for_a_village(api: Api, services: Services, world: World) -> None:
    await install_policy(services, PROVINCE, 2020, interest={"rate": "1.5%", "rounding": "jiao_up"})
    found = await api.as_("village.assistant", QUERY, {"r": VILLAGE_A.code, "y": 2025})
    rules = found["policy"]
    assert rules["region"] == {"code": VILLAGE_A.code} and rules["year"] == 2025
    assert rules["grades"][0] == "100.00" and rules["grades"][-1] == "2000.00"
    assert len(rules["grades"]) == 12 and rules["aidCap"] == "2000.00"
    assert rules["subsidies"] == [
        {"grade": "100.00", "rural": "30.00", "urban": "30.00"},
        {"grade": "500.00", "rural": "60.00", "urban": "60.00"},
    ]
    groups = {g["code"]: g for g in rules["specialGroups"]}
    assert groups["031"] == {
        "code": "031",
        "name": "特困人员",
        "hardshipShare": "1",
        "hardshipPayment": "100.00",
    }
    assert groups["011"]["hardshipPayment"] == "0.00"
    assert rules["interest"] == {
        "rate": "0.015",
        "currentRate": "0",
        "currentYearCredits": "none",
        "rounding": "jiao_up",
    }
    assert rules["divisor"] == 139 and rules["minAge"] == 16
    assert rules["basicPension"] == {
        "monthly": "143.00",
        "layers": [{"regionPrefix": "", "monthly": "143.00"}],
    }
    chains = {c["kind"]: c for c in rules["reviewChains"]}
    assert chains["ENROLLMENT"]["steps"] == ["township", "county"]
    assert chains["ENROLLMENT"]["levels"] == ["TOWNSHIP", "COUNTY"]
    assert chains["INTEREST"]["levels"] == ["VILLAGE"]  # "region": the application's own level
    # placed at the county, enrolment skips the township step, as the workflow does
    county = await api.as_("county.reviewer", QUERY, {"r": "410121000000", "y": 2025})
    by_kind = {c["kind"]: c for c in county["policy"]["reviewChains"]}
    assert by_kind["ENROLLMENT"]["steps"] == ["township", "county"]
    assert by_kind["ENROLLMENT"]["levels"] == ["COUNTY"]


async def test_outside_the_scope_and_years_without_rules(api: Api, world: World) -> None:
    elsewhere = await api.as_("village.assistant", QUERY, {"r": VILLAGE_B.code, "y": 2025})
    assert elsewhere["policy"] is None  # as for any region outside the scope
    token = await api.token("village.assistant")
    early = await api.post(QUERY, {"r": VILLAGE_A.code, "y": 2010}, token=token, lang="en")
    assert early["data"]["policy"] is None
    [error] = early["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "No 'enrollment' parameters are configured for 410121" in error["message"]
    anonymous = await api.post(QUERY, {"r": VILLAGE_A.code, "y": 2025})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


MONTHLY = """query ($r: RegionCode!, $y: Year!, $m: Month) { policy(region: $r, year: $y, month: $m) {
  month basicPension { monthly layers { regionPrefix monthly ageTopups { fromAge monthly }
  yearsTopup { upTo perYear } } } } }"""


async def test_the_basic_pension_by_the_month(api: Api, services: Services, world: World) -> None:
    await install_policy(
        services,
        PROVINCE,
        2014,
        basic_pension={
            "monthly": "12",
            "age_topups": [{"from_age": 65, "monthly": "10"}],
            "years_topup": [{"up_to": 15, "per_year": "2"}, {"per_year": "3"}],
        },
    )
    token = await api.token("village.assistant")

    async def monthly(month: str | None) -> dict[str, Any]:
        variables = {"r": VILLAGE_A.code, "y": 2014, "m": month}
        found = await api.post(MONTHLY, variables, token=token)
        return found["data"]["policy"] if "errors" not in found else found

    june, july = await monthly("2014-06"), await monthly("2014-07")
    assert (june["month"], june["basicPension"]["monthly"]) == (6, "67.00")  # 55 + 12
    assert (july["month"], july["basicPension"]["monthly"]) == (7, "82.00")  # 70 from July
    assert (await monthly(None))["month"] == 1
    assert july["basicPension"]["layers"][1] == {
        "regionPrefix": "41",
        "monthly": "12.00",
        "ageTopups": [{"fromAge": 65, "monthly": "10.00"}],
        "yearsTopup": [{"upTo": 15, "perYear": "2.00"}, {"upTo": None, "perYear": "3.00"}],
    }
    wrong = await monthly("2015-07")
    [error] = wrong["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "2015-07" in error["message"]
