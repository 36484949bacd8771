from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from jubao.errors import DomainError
from jubao.pension.policy.params import (
    NATIONAL,
    NATIONAL_MINIMUMS,
    Hukou,
    PolicyBook,
    PolicyError,
    PolicySet,
    as_file_values,
    parse_params,
    read_policy_file,
    resolve,
    seed_national,
    stored,
)
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode
from tests.helpers import COUNTY_A, PROVINCE, VILLAGE_A, World
from tests.pension.support import SYSTEM, install_policy

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "policy" / "changchun-2011.toml"


def sets(
    *entries: tuple[str, int, dict[str, Any]] | tuple[str, int, dict[str, Any], int],
) -> list[PolicySet]:
    """Parameter sets (prefix, year, parameters[, month])."""
    return [
        PolicySet(
            region_prefix=entry[0],
            effective_year=entry[1],
            params=entry[2],
            effective_month=entry[3] if len(entry) > 3 else 1,  # type: ignore[misc]
        )
        for entry in entries
    ]


NATIONAL_STORED = stored(NATIONAL.params)


def test_national_defaults() -> None:
    policy = resolve(sets(("", 2014, NATIONAL_STORED)), VILLAGE_A, 2026)
    assert [g // 100 for g in policy.contribution.grades] == [
        100,
        200,
        300,
        400,
        500,
        600,
        700,
        800,
        900,
        1000,
        1500,
        2000,
    ]
    assert policy.subsidy.amount(10000, Hukou.RURAL) == 3000  # ≥30 for the lowest grade
    assert policy.subsidy.amount(40000, Hukou.URBAN) == 3000
    assert policy.subsidy.amount(50000, Hukou.RURAL) == 6000  # ≥60 from 500
    assert policy.subsidy.amount(200000, Hukou.URBAN) == 6000
    assert policy.hardship_payment("031") == 10000  # 代缴 of the minimum grade
    assert policy.hardship_payment("011") == 0
    assert policy.account.divisor == 139
    assert policy.contribution.aid_limit == 200000  # collective + aid up to the top grade
    assert policy.chain("enrollment") == ["township", "county"]
    with pytest.raises(DomainError) as caught:
        policy.interest  # noqa: B018 - no national crediting rate exists
    assert caught.value.code is PolicyError.NOT_CONFIGURED


def test_changchun_example_file() -> None:
    policy_file = read_policy_file(EXAMPLE.read_text(encoding="utf-8"))
    assert policy_file.region == RegionCode("220100000000")
    assert policy_file.effective_year == 2011
    changchun = resolve(
        sets(("", 2014, NATIONAL_STORED), ("2201", 2011, stored(policy_file.params))),
        RegionCode("220102001001"),
        2012,
    )
    grades = changchun.contribution.grades
    assert [g // 100 for g in grades] == [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    subsidy = changchun.subsidy
    expected = {100: 30, 200: 35, 300: 40, 400: 45, 500: 50}
    for grade, amount in expected.items():
        assert (
            subsidy.amount(grade * 100, Hukou.RURAL)
            == subsidy.amount(grade * 100, Hukou.URBAN)
            == amount * 100
        )
    for grade, urban in {600: 55, 700: 60, 800: 65, 900: 70, 1000: 75}.items():
        assert subsidy.amount(grade * 100, Hukou.RURAL) == 5000
        assert subsidy.amount(grade * 100, Hukou.URBAN) == urban * 100
    assert subsidy.shares(3500) == (2100, 700, 700)  # 省 : 市 : 区 = 6 : 2 : 2
    assert subsidy.shares(7500) == (4500, 1500, 1500)
    assert changchun.hardship_payment("061") == 10000  # 低保户: the whole minimum grade
    assert changchun.hardship.subsidy_applies
    assert changchun.back_payment.max_years == 15 and not changchun.back_payment.subsidy
    assert changchun.basic_pension_rules.layers == (("2201", 0),)  # the city adds nothing…
    with_national = resolve(
        sets(
            ("", 2009, stored(NATIONAL_MINIMUMS[0].params)),
            ("2201", 2011, stored(policy_file.params)),
        ),
        RegionCode("220102001001"),
        2012,
    )
    # …基础养老金计发标准为每人每月55元，所需资金由中央财政补助55元
    assert with_national.basic_pension.layers == (("", 5500), ("2201", 0))
    assert with_national.basic_pension.monthly == 5500


def test_basic_pension_rules_add_up() -> None:
    national = sets(
        ("", 2014, NATIONAL_STORED),
        *(("", m.effective_year, stored(m.params), m.effective_month) for m in NATIONAL_MINIMUMS),
    )
    minimums = {
        (year, month): resolve(national, VILLAGE_A, year, month).basic_pension.monthly
        for year, month in ((2014, 1), (2014, 6), (2014, 7), (2015, 1), (2017, 12), (2018, 1))
    }
    # 人社部发〔2015〕5号: 70 yuan from 1 July 2014
    assert minimums == {
        (2014, 1): 5500,
        (2014, 6): 5500,
        (2014, 7): 7000,
        (2015, 1): 7000,
        (2017, 12): 7000,
        (2018, 1): 8800,
    }
    assert resolve(national, VILLAGE_A, 2026).basic_pension.monthly == 16300
    # Hengyang-style (rulebook §1.3): the national 88, 12 provincial, 3 county = 103; a later
    # national raise adds to the local layers instead of swallowing them.
    local = [
        *national,
        *sets(
            ("41", 2018, {"basic_pension": {"monthly": 1200}}),
            ("410121", 2018, {"basic_pension": {"monthly": 300}}),
        ),
    ]
    assert resolve(local, VILLAGE_A, 2019).basic_pension.monthly == 10300
    assert resolve(local, VILLAGE_A, 2024).basic_pension.layers == (
        ("", 12300),
        ("41", 1200),
        ("410121", 300),
    )
    assert resolve(local, RegionCode("420121101201"), 2024).basic_pension.monthly == 12300
    without = resolve(sets(("41", 2014, NATIONAL_STORED)), VILLAGE_A, 2020)
    with pytest.raises(DomainError) as caught:
        without.basic_pension  # noqa: B018 - no national layer at all
    assert caught.value.code is PolicyError.NOT_CONFIGURED


def test_most_specific_region_wins_per_section_and_latest_year_within_it() -> None:
    province = {"contribution": {"grades": [20000, 40000]}}
    county_old = {
        "subsidy": {
            "brackets": [{"grade": 100, "rural": 40, "urban": 40}],
            "split": {"province": 1, "city": 0, "county": 1},
        }
    }
    county_new = {
        "subsidy": {
            "brackets": [{"grade": 100, "rural": 45, "urban": 45}],
            "split": {"province": 1, "city": 0, "county": 1},
        }
    }
    all_sets = sets(
        ("", 2014, NATIONAL_STORED),
        ("41", 2015, stored(parse_params({"contribution": {"grades": [200, 400]}}))),
        ("410121", 2016, stored(parse_params(county_old))),
        ("410121", 2020, stored(parse_params(county_new))),
    )
    assert all_sets[1].params == province
    in_county_2018 = resolve(all_sets, VILLAGE_A, 2018)
    assert in_county_2018.contribution.grades == [20000, 40000]  # from the province
    assert in_county_2018.subsidy.amount(20000, Hukou.RURAL) == 4000  # county 2016
    assert in_county_2018.subsidy.shares(4000) == (2000, 0, 2000)
    assert resolve(all_sets, VILLAGE_A, 2021).subsidy.amount(20000, Hukou.RURAL) == 4500
    elsewhere = resolve(all_sets, RegionCode("410221101201"), 2021)
    assert elsewhere.subsidy.amount(20000, Hukou.RURAL) == 3000  # national
    with pytest.raises(DomainError) as caught:
        resolve(all_sets, VILLAGE_A, 2013)  # before any complete set
    assert caught.value.code is PolicyError.NOT_CONFIGURED


@pytest.mark.parametrize(
    "bad",
    [
        {"contribution": {"grades": [100.5]}},  # a float
        {"contribution": {"grades": [200, 100]}},  # not ascending
        {"contribution": {"grades": []}},
        {"interest": {"rate": 0.015}},  # a float rate
        {"interest": {"rate": "0.0000001"}},  # finer than a millionth
        {"subsidy": {"brackets": [], "split": {"province": 1, "city": 0, "county": 0}}},
        {
            "subsidy": {
                "brackets": [{"grade": 100, "rural": 30, "urban": 30}],
                "split": {"province": 0, "city": 0, "county": 0},
            }
        },
        {"hardship": {"groups": [{"code": "01", "name": "a"}, {"code": "01", "name": "b"}]}},
        {"review_chains": {"enrollment": []}},
        {"basic_pension": {"monthly": "-5"}},
        {"basic_pension": {"monthly": 55, "central": 55}},  # layers only say what they add
        {"review_chains": {"enrollment": ["village"]}},
        {
            "basic_pension": {
                "age_topups": [{"from_age": 70, "monthly": 20}, {"from_age": 65, "monthly": 10}]
            }
        },
        {"basic_pension": {"years_topup": [{"per_year": 2}, {"up_to": 15, "per_year": 3}]}},
        {
            "basic_pension": {
                "years_topup": [{"up_to": 15, "per_year": 2}, {"up_to": 15, "per_year": 3}]
            }
        },
        {"basic_pension": {"age_topups": [{"from_age": 55, "monthly": 10}]}},
        {"scheme": {"started": "2011-13"}},
        {"scheme": {"started": "2011-07-01"}},
        {"scheme": {"started": "2011-07", "required_years": 0}},
        {"review_chains": {"enrolment": ["county"]}},  # a kind misspelt would never apply
        {"unknown_section": {}},
    ],
)
def test_invalid_parameters_are_refused(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(DomainError) as caught:
        parse_params(bad)
    assert caught.value.code is PolicyError.INVALID


def test_unreadable_files() -> None:
    with pytest.raises(DomainError) as caught:
        read_policy_file("region = [")
    assert caught.value.code is PolicyError.UNREADABLE
    with pytest.raises(DomainError) as caught:
        read_policy_file('region = "220100000000"\neffective_year = 1999\n')
    assert caught.value.code is PolicyError.YEAR
    with pytest.raises(DomainError) as caught:
        read_policy_file('region = "220100000000"\neffective_year = 2014\neffective_month = 13\n')
    assert caught.value.code is PolicyError.MONTH
    july = read_policy_file('region = "national"\neffective_year = 2014\neffective_month = 7\n')
    assert (july.region, july.effective_year, july.effective_month) == (None, 2014, 7)


@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=12, unique=True))
def test_file_form_round_trips(grades: list[int]) -> None:
    params = parse_params(
        {
            "contribution": {"grades": [str(g) for g in sorted(grades)]},
            "interest": {"rate": "1.25%"},
            "basic_pension": {
                "monthly": "12.50",
                "age_topups": [{"from_age": 65, "monthly": "5"}],
                "years_topup": [{"up_to": 15, "per_year": "2"}, {"per_year": "3.5"}],
            },
            "scheme": {"started": "2011-07"},
        }
    )
    assert parse_params(as_file_values(params)) == params


WUHAN_STYLE = {
    # Wuhan's years-based basic pension (rulebook §5.7, L, read as 2 × min(y, 15) + 3 × max(0,
    # y − 15)) and a 65+ / 70+ / 80+ age top-up, as a city layer
    "basic_pension": {
        "monthly": "40",
        "age_topups": [
            {"from_age": 65, "monthly": "10"},
            {"from_age": 70, "monthly": "20"},
            {"from_age": 80, "monthly": "50"},
        ],
        "years_topup": [{"up_to": 15, "per_year": "2"}, {"per_year": "3"}],
    }
}


@pytest.mark.parametrize(
    ("years", "topup"), [(0, 0), (1, 200), (15, 3000), (16, 3300), (20, 4500), (40, 10500)]
)
def test_the_years_top_up_counts_each_band(years: int, topup: int) -> None:
    rules = parse_params(WUHAN_STYLE).basic_pension
    assert rules is not None and rules.for_years(years) == topup


@pytest.mark.parametrize(("age", "topup"), [(60, 0), (64, 0), (65, 1000), (79, 2000), (80, 5000)])
def test_the_age_top_up_is_the_highest_tier_reached(age: int, topup: int) -> None:
    rules = parse_params(WUHAN_STYLE).basic_pension
    assert rules is not None and rules.for_age(age) == topup


def test_each_level_pays_its_own_items() -> None:
    layers = sets(
        ("", 2014, NATIONAL_STORED),
        *(("", m.effective_year, stored(m.params), m.effective_month) for m in NATIONAL_MINIMUMS),
        ("4101", 2020, stored(parse_params(WUHAN_STYLE))),
        ("410121", 2022, stored(parse_params({"basic_pension": {"monthly": "3"}}))),
    )
    pension = resolve(layers, VILLAGE_A, 2026, 3).basic_pension
    lines = [(line.prefix, line.item.value, line.amount) for line in pension.lines(70, 20)]
    assert lines == [
        ("", "base", 16300),
        ("4101", "base", 4000),
        ("4101", "age", 2000),
        ("4101", "years", 4500),
        ("410121", "base", 300),
    ]
    assert sum(line[2] for line in lines) == 27100


def test_the_scheme_start_is_configured_not_assumed() -> None:
    policy = resolve(sets(("", 2014, NATIONAL_STORED)), VILLAGE_A, 2026)
    with pytest.raises(DomainError) as caught:
        policy.scheme  # noqa: B018 - where the scheme began is a fact of each county
    assert caught.value.code is PolicyError.NOT_CONFIGURED
    county = sets(
        ("", 2014, NATIONAL_STORED),
        ("410121", 2014, stored(parse_params({"scheme": {"started": "2010-10"}}))),
    )
    assert str(resolve(county, VILLAGE_A, 2026).scheme.start) == "2010-10"
    assert resolve(county, VILLAGE_A, 2026).scheme.required_years == 15


async def test_stored_policies_resolve_through_the_database(
    services: Services, world: World
) -> None:
    await install_policy(services, PROVINCE, 2020, interest={"rate": "0.015"})
    async with services.db.session(SYSTEM) as session:
        policy = await PolicyBook(session).for_region(VILLAGE_A, 2021)
    assert policy.interest.rate == 15_000
    assert policy.region == VILLAGE_A and policy.year == 2021
    assert COUNTY_A.contains(policy.region)


async def test_migrating_completes_the_national_sets_and_keeps_what_is_there(
    services: Services, world: World
) -> None:
    older = {"enrollment": {"min_age": 18}, "review_chains": {"enrollment": ["county"]}}
    async with services.db.transaction(SYSTEM) as session:
        national = await session.scalar(
            select(PolicySet).where(
                PolicySet.region_prefix == "",
                PolicySet.effective_year == 2014,
                PolicySet.effective_month == 1,
            )
        )
        assert national is not None
        national.params = older  # as an older release (or a loaded file) left it
        loaded_2018 = await session.scalar(
            select(PolicySet).where(PolicySet.region_prefix == "", PolicySet.effective_year == 2018)
        )
        assert loaded_2018 is not None
        loaded_2018.params = {"account": {"divisor": 139}}  # a national 2018 file without it
    async with services.db.transaction(SYSTEM) as session:
        assert await seed_national(session, SYSTEM) == 2
        assert await seed_national(session, SYSTEM) == 0  # nothing more to do
    async with services.db.session(SYSTEM) as session:
        policy = await PolicyBook(session).for_region(VILLAGE_A, 2019)
    assert policy.enrollment.min_age == 18  # kept
    assert policy.chain("enrollment") == ["county"]  # kept
    assert policy.chain("suspension") == ["county"]  # a kind the older release did not have
    assert policy.contribution.grades[-1] == 200000  # a section it lacked
    assert policy.basic_pension.monthly == 8800  # the 2018 layer back
