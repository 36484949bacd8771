"""Every review chain reaches steps that some operator can hold, wherever the application is
placed — cities without counties (东莞 4419, 中山 4420, 儋州 4604, 嘉峪关 6202) included."""

from hypothesis import given
from hypothesis import strategies as st

from jubao.pension.policy.params import level_of_step
from jubao.pension.workflow.engine import _prefix_at, review_levels
from jubao.tenants.codes import Level, RegionCode

STEPS = st.lists(st.sampled_from(["province", "city", "county", "township", "region"]), min_size=1)
COUNTYLESS = ["4419", "4420", "4604", "6202"]


@st.composite
def regions(draw: st.DrawFn) -> RegionCode:
    """Any region below a province: under an ordinary city, or under a city without counties."""
    if draw(st.booleans()):
        city = draw(st.sampled_from(COUNTYLESS))
        county = "00"
        level = draw(st.sampled_from([Level.TOWNSHIP, Level.VILLAGE]))
    else:
        city = f"{draw(st.integers(11, 65)):02d}{draw(st.integers(1, 99)):02d}"
        county = f"{draw(st.integers(1, 99)):02d}"
        level = draw(st.sampled_from([Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]))
    township = f"{draw(st.integers(1, 999)):03d}"
    village = f"{draw(st.integers(1, 999)):03d}"
    code = (city + county + township + village)[: level.prefix_length]
    return RegionCode(code.ljust(12, "0"))


@given(regions(), STEPS)
def test_every_step_of_every_chain_is_a_region_above_or_at_the_application(
    region: RegionCode, steps: list[str]
) -> None:
    levels = review_levels(steps, region)
    for level in levels:
        # a prefix of the region itself or one of its ancestors: a region a grant can name
        assert _prefix_at(region.code, level) in region.prefixes, (region, steps, level)
    if region.code[4:6] != "00":  # elsewhere every step keeps its level, if above the region
        named = [level_of_step(step, region) for step in steps]
        assert levels == list(dict.fromkeys(int(n) for n in named if n <= region.level))


def test_in_a_city_without_counties_the_city_agency_takes_the_county_step() -> None:
    village = RegionCode("441900101201")  # a village of a town of 东莞
    assert review_levels(["township", "county"], village) == [Level.TOWNSHIP, Level.CITY]
    assert _prefix_at(village.code, Level.CITY) == "4419"
    assert review_levels(["county", "city"], village) == [Level.CITY]  # one step, not two
    ordinary = RegionCode("410121101201")
    assert review_levels(["township", "county"], ordinary) == [Level.TOWNSHIP, Level.COUNTY]
    county = RegionCode("410121000000")  # placed at the county: the township step falls away
    assert review_levels(["township", "county"], county) == [Level.COUNTY]
