"""The contribution arithmetic of rulebook §5.3–5.5, on worked numbers."""

import pytest

from jubao.errors import DomainError
from jubao.pension.accounts.contributions import ContributionError, ContributionKind, assess
from jubao.pension.policy.params import NATIONAL, Hukou, PolicySet, parse_params, resolve, stored
from tests.helpers import VILLAGE_A
from tests.pension.support import national_with

NATIONAL_POLICY = resolve(
    [PolicySet(region_prefix="", effective_year=2014, params=stored(NATIONAL.params))],
    VILLAGE_A,
    2024,
)


def test_the_rulebooks_examples() -> None:
    # grade 500 → subsidy ≥60: the account is credited 560 yuan; grade 100 + 30 = 130
    high = assess(NATIONAL_POLICY, grade=50000, hukou=Hukou.RURAL, special_group="011")
    assert (high.personal, high.subsidy, high.credited) == (50000, 6000, 56000)
    low = assess(NATIONAL_POLICY, grade=10000, hukou=Hukou.URBAN, special_group=None)
    assert (low.personal, low.subsidy, low.credited) == (10000, 3000, 13000)


def test_hardship_groups_get_the_minimum_grade_paid_and_keep_the_subsidy() -> None:
    # 特困 (031): the government pays the 100-yuan minimum; choosing 300 the person pays 200
    paid_for = assess(NATIONAL_POLICY, grade=30000, hukou=Hukou.RURAL, special_group="031")
    assert (paid_for.personal, paid_for.hardship, paid_for.subsidy) == (20000, 10000, 3000)
    assert paid_for.credited == 33000
    at_minimum = assess(NATIONAL_POLICY, grade=10000, hukou=Hukou.RURAL, special_group="031")
    assert (at_minimum.personal, at_minimum.hardship, at_minimum.credited) == (0, 10000, 13000)


def test_a_partial_hardship_share_and_a_policy_without_subsidy_for_it() -> None:
    params = national_with(
        hardship={
            "groups": [{"code": "062", "name": "低保差额", "hardship_share": "0.7"}],
            "subsidy_applies": False,
        }
    )
    policy = resolve(
        [PolicySet(region_prefix="", effective_year=2014, params=stored(parse_params(params)))],
        VILLAGE_A,
        2024,
    )
    result = assess(policy, grade=10000, hukou=Hukou.RURAL, special_group="062")
    assert (result.personal, result.hardship, result.subsidy) == (3000, 7000, 0)


def test_subsidy_split_and_aid() -> None:
    params = national_with(
        subsidy={
            "brackets": [{"grade": "100", "rural": "35", "urban": "35"}],
            "split": {"province": 6, "city": 2, "county": 2},
        }
    )
    policy = resolve(
        [PolicySet(region_prefix="", effective_year=2014, params=stored(parse_params(params)))],
        VILLAGE_A,
        2024,
    )
    result = assess(
        policy, grade=20000, hukou=Hukou.RURAL, special_group=None, collective=5000, aid=2000
    )
    assert (result.subsidy_province, result.subsidy_city, result.subsidy_county) == (2100, 700, 700)
    assert result.credited == 20000 + 3500 + 5000 + 2000


def test_back_payment_earns_no_subsidy_unless_the_policy_grants_it() -> None:
    result = assess(
        NATIONAL_POLICY,
        grade=50000,
        hukou=Hukou.RURAL,
        special_group="031",
        kind=ContributionKind.BACK_PAYMENT,
    )
    assert (result.personal, result.hardship, result.subsidy) == (50000, 0, 0)
    granted = resolve(
        [
            PolicySet(
                region_prefix="",
                effective_year=2014,
                params=stored(
                    parse_params(national_with(back_payment={"max_years": 15, "subsidy": True}))
                ),
            )
        ],
        VILLAGE_A,
        2024,
    )
    assert (
        assess(
            granted,
            grade=50000,
            hukou=Hukou.RURAL,
            special_group=None,
            kind=ContributionKind.BACK_PAYMENT,
        ).subsidy
        == 6000
    )


@pytest.mark.parametrize(
    ("grade", "collective", "aid", "code"),
    [
        (25000, 0, 0, ContributionError.GRADE),
        (0, 0, 0, ContributionError.GRADE),
        (10000, 150000, 60000, ContributionError.AID_CAP),  # 2,100 > the 2,000 top grade
        (10000, -1, 0, ContributionError.NEGATIVE),
    ],
)
def test_refusals(grade: int, collective: int, aid: int, code: ContributionError) -> None:
    with pytest.raises(DomainError) as caught:
        assess(
            NATIONAL_POLICY,
            grade=grade,
            hukou=Hukou.RURAL,
            special_group=None,
            collective=collective,
            aid=aid,
        )
    assert caught.value.code is code


def test_the_grade_message_lists_the_grades() -> None:
    with pytest.raises(DomainError) as caught:
        assess(NATIONAL_POLICY, grade=25000, hukou=Hukou.RURAL, special_group=None)
    assert caught.value.message() == (
        "2024 年的缴费档次中没有 250.00 元（可选：100.00、200.00、300.00、400.00、500.00、"
        "600.00、700.00、800.00、900.00、1000.00、1500.00、2000.00）"
    )
