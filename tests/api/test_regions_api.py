from tests.helpers import Api, World

REGION = "query ($code: RegionCode!) { region(code: $code) { id code name level urbanRuralClass parent { code } } }"
REGIONS = """query ($parent: RegionCode, $level: RegionLevel, $first: Int!, $after: String) {
  regions(parent: $parent, level: $level, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { code name level } } } }"""


def codes(data: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["node"]["code"] for e in data["regions"]["edges"]]


async def test_region_by_code(api: Api) -> None:
    data = await api.as_("county.reviewer", REGION, {"code": "410121101201"})
    region = data["region"]
    assert region["code"] == "410121101201"
    assert region["level"] == "VILLAGE"
    assert region["urbanRuralClass"] == "220"
    assert region["parent"] == {"code": "410121101000"}
    # the county's own parent (the city) is outside the county reviewer's scope
    county = await api.as_("county.reviewer", REGION, {"code": "410121000000"})
    assert county["region"]["parent"] is None
    outside = await api.as_("county.reviewer", REGION, {"code": "410221000000"})
    assert outside["region"] is None
    unknown = await api.as_("county.reviewer", REGION, {"code": "410121109000"})
    assert unknown["region"] is None


async def test_browsing_the_tree(api: Api) -> None:
    roots = await api.as_("county.reviewer", REGIONS, {"first": 10})
    assert codes(roots) == ["410121000000"]
    townships = await api.as_("county.reviewer", REGIONS, {"parent": "410121000000", "first": 10})
    assert codes(townships) == ["410121101000", "410121201000"]
    villages = await api.as_("county.reviewer", REGIONS, {"level": "VILLAGE", "first": 4})
    assert villages["regions"]["totalCount"] == 6
    assert villages["regions"]["pageInfo"]["hasNextPage"] is True
    rest = await api.as_(
        "county.reviewer",
        REGIONS,
        {"level": "VILLAGE", "first": 4, "after": villages["regions"]["pageInfo"]["endCursor"]},
    )
    assert len(codes(villages)) + len(codes(rest)) == 6
    assert not set(codes(villages)) & set(codes(rest))
    province = await api.as_("admin", REGIONS, {"parent": "410000000000", "first": 10})
    assert codes(province) == ["410100000000", "410200000000"]


async def test_a_village_assistant_sees_only_its_village(api: Api, world: World) -> None:
    roots = await api.as_("village.assistant", REGIONS, {"first": 10})
    assert codes(roots) == ["410121101201"]
    everything = await api.as_("village.assistant", REGIONS, {"level": "VILLAGE", "first": 100})
    assert codes(everything) == ["410121101201"]
    township = await api.as_("village.assistant", REGIONS, {"parent": "410121101000", "first": 100})
    assert codes(township) == ["410121101201"]
    assert (await api.as_("village.assistant", REGION, {"code": "410121101202"}))["region"] is None
