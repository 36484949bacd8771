import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jubao.errors import DomainError, Lang
from jubao.tenants.codes import Level, RegionCode, RegionCodeError, prefix_level


@pytest.mark.parametrize(
    ("code", "level", "prefix", "parent"),
    [
        ("410000000000", Level.PROVINCE, "41", None),
        ("410100000000", Level.CITY, "4101", "410000000000"),
        ("410102000000", Level.COUNTY, "410102", "410100000000"),
        ("410102001000", Level.TOWNSHIP, "410102001", "410102000000"),
        ("410102001001", Level.VILLAGE, "410102001001", "410102001000"),
        ("110101001001", Level.VILLAGE, "110101001001", "110101001000"),  # the rulebook's example
        ("419001100000", Level.TOWNSHIP, "419001100", "419001000000"),  # 省直辖县级 city code 90
        # cities without counties (东莞): townships right under the city
        ("441900003000", Level.TOWNSHIP, "441900003", "441900000000"),
        ("441900003001", Level.VILLAGE, "441900003001", "441900003000"),
    ],
)
def test_level_prefix_and_parent(code: str, level: Level, prefix: str, parent: str | None) -> None:
    region = RegionCode(code)
    assert region.level is level
    assert region.prefix == prefix
    assert (region.parent.code if region.parent else None) == parent


def test_ancestors_and_prefixes() -> None:
    region = RegionCode("410102001001")
    assert [a.code for a in region.ancestors] == [
        "410000000000",
        "410100000000",
        "410102000000",
        "410102001000",
    ]
    assert region.prefixes == ("41", "4101", "410102", "410102001", "410102001001")
    assert RegionCode("410000000000").ancestors == ()


def test_a_city_without_counties_has_four_levels_of_prefixes() -> None:
    village = RegionCode("441900003001")
    assert village.prefixes == ("44", "4419", "441900003", "441900003001")
    assert [a.code for a in village.ancestors] == ["440000000000", "441900000000", "441900003000"]
    assert RegionCode("441900000000").contains(village)
    assert RegionCode.from_prefix("441900003") == RegionCode("441900003000")


def test_contains() -> None:
    county = RegionCode("410102000000")
    assert county.contains(RegionCode("410102001001"))
    assert county.contains(county)
    assert not county.contains(RegionCode("410103001001"))
    assert not county.contains(RegionCode("410100000000"))
    # A prefix that happens to continue with other digits is not containment.
    assert not RegionCode("410100000000").contains(RegionCode("411001000000"))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("41010200100", RegionCodeError.MALFORMED),  # 11 digits
        ("4101020010011", RegionCodeError.MALFORMED),  # 13 digits
        ("41010200100a", RegionCodeError.MALFORMED),
        ("４10102001001", RegionCodeError.MALFORMED),  # a full-width digit
        (" 410102001001", RegionCodeError.MALFORMED),
        ("000000000000", RegionCodeError.NO_LEVEL),
        ("410000001000", RegionCodeError.NO_LEVEL),  # township under no city or county
        ("440000003000", RegionCodeError.NO_LEVEL),  # a township needs at least a city
        ("410100000001", RegionCodeError.NO_LEVEL),  # only the county segment may be skipped
        ("410102000001", RegionCodeError.NO_LEVEL),  # village under no township
    ],
)
def test_malformed_codes_are_refused(text: str, error: RegionCodeError) -> None:
    with pytest.raises(DomainError) as caught:
        RegionCode(text)
    assert caught.value.code is error
    assert text[:5] in caught.value.message(Lang.ZH) or error is RegionCodeError.MALFORMED


def test_error_messages_in_both_languages() -> None:
    with pytest.raises(DomainError) as caught:
        RegionCode("123")
    assert caught.value.message(Lang.ZH) == "区划代码必须是 12 位数字，收到“123”"
    assert caught.value.message(Lang.EN) == "A region code must be exactly 12 digits, got '123'"


def test_from_prefix() -> None:
    assert RegionCode.from_prefix("4101").code == "410100000000"
    assert RegionCode.from_prefix("410102001").level is Level.TOWNSHIP
    for bad in ("4", "41010", "41000000", "4100"):
        with pytest.raises(DomainError):
            RegionCode.from_prefix(bad)
    assert prefix_level("410102") is Level.COUNTY


def test_value_semantics() -> None:
    a, b = RegionCode("410102001001"), RegionCode("410102001001")
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert RegionCode("410102001001") < RegionCode("410102001002")
    with pytest.raises(AttributeError):
        a.code = "x"  # type: ignore[misc]


segment = st.integers(min_value=1, max_value=99)
codes = st.builds(
    lambda level, p, c, d, t, v: "".join(
        f"{n:0{w}d}" if i < level else "0" * w
        for i, (n, w) in enumerate(((p, 2), (c, 2), (d, 2), (t, 3), (v, 3)))
    ),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=11, max_value=82),
    segment,
    segment,
    st.integers(min_value=1, max_value=599),
    st.integers(min_value=1, max_value=399),
)


@given(codes)
def test_every_valid_code_is_contained_by_exactly_its_ancestors(code: str) -> None:
    region = RegionCode(code)
    assert len(region.prefixes) == region.level
    for ancestor in region.ancestors:
        assert ancestor.contains(region)
        assert not region.contains(ancestor)
        assert ancestor.level < region.level
    chain = [*region.ancestors, region]
    assert all(child.parent == parent for parent, child in itertools.pairwise(chain))
    assert RegionCode.from_prefix(region.prefix) == region
