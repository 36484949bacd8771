from collections import Counter

import pytest

from jubao.tenants.codes import Level, RegionCode
from jubao.tenants.demo import demo_regions
from jubao.tenants.importer import parse_rows


@pytest.mark.parametrize("size", [(2, 2, 2, 3), (3, 3, 3, 4), (10, 10, 20, 25)])
def test_demo_tree_is_a_valid_code_table(size: tuple[int, int, int, int]) -> None:
    regions = list(demo_regions(*size))
    cities, counties, townships, villages = size
    levels = Counter(RegionCode(r.code).level for r in regions)
    assert levels == {
        Level.PROVINCE: 1,
        Level.CITY: cities,
        Level.COUNTY: cities * counties,
        Level.TOWNSHIP: cities * counties * townships,
        Level.VILLAGE: cities * counties * townships * villages,
    }
    codes = {r.code for r in regions}
    assert len(codes) == len(regions)
    rows, rejected = parse_rows(
        (n, [r.code, r.name, r.urban_rural_class or ""]) for n, r in enumerate(regions, start=2)
    )
    assert rejected == []
    for row in rows:
        assert row.region.parent is None or row.region.parent.code in codes
    siblings = Counter((RegionCode(r.code).parent, r.name) for r in regions)
    assert max(siblings.values()) == 1, "two siblings share a name"


def test_demo_is_deterministic() -> None:
    assert list(demo_regions()) == list(demo_regions())


def test_township_and_village_codes_follow_the_civil_affairs_rules() -> None:
    for region in demo_regions(2, 3, 5, 6):
        code = RegionCode(region.code)
        if code.level is Level.TOWNSHIP:
            kind = region.code[6]
            suffix = {"0": "街道", "1": "镇", "2": "乡"}[kind]
            assert region.name.endswith(suffix)
        if code.level is Level.VILLAGE:
            number = int(region.code[9:])
            assert region.name.endswith("社区") == (number < 200)
            assert (region.urban_rural_class or "")[0] == ("1" if number < 200 else "2")
