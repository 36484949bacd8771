"""A demo province with invented but realistic place names and correctly structured codes.

Township codes follow the civil-affairs rule (0xx 街道, 1xx 镇, 2xx 乡); village codes put
residents' committees (社区) in 001–199 and villagers' committees (村) from 201. Generation is
deterministic, so tests and demos see the same tree every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

PROVINCE_CODE = "41"
PROVINCE_NAME = "中原省"

_CITIES = "青州 临河 安平 白水 东阳 南丰 龙泉 金川 望川 云溪 洛平 嘉禾 宁安 汉阳 桐城 丰源".split()
_DISTRICTS = "城关 东城 西城 南关 北关 新城 河东 河西".split()
_COUNTIES = (
    "永宁 长乐 新安 平阳 清河 太和 丰乐 宁远 富平 德化 兴隆 和顺 万安 泰来 安仁 宜阳 "
    "永和 长宁 通远 广昌 乐平 崇义 石城 定南 安远 会同 靖安 保和 永丰 大安"
).split()
_PLACE_FIRST = "石柳红杨李王黄高新长永安和太平丰东西南北大小上下前后金银青白双三".replace(" ", "")
_PLACE_SECOND = "桥园旗庄集店庙河山湖岗坪口寨铺营湾沟坡岭堡渡"
SURNAMES = (
    "张李王刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
)
_VILLAGE_SUFFIX = "庄 家湾 屯 楼 寨 营 洼 岗 集 河 沟 店 坡 桥 家湾 庙 园 堡 岭 坪 家台 圩".split()
_COMMUNITIES = "幸福 和平 建设 人民 团结 光明 文化 新华 朝阳 胜利 解放 前进 振兴 东风 康乐".split()


@dataclass(frozen=True)
class DemoRegion:
    code: str
    name: str
    urban_rural_class: str | None = None


def _unique_names(
    rng: random.Random, make: Callable[[random.Random], str], count: int
) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = make(rng)
        if name not in names:
            names.append(name)
    return names


def _township_name(rng: random.Random) -> str:
    return rng.choice(_PLACE_FIRST) + rng.choice(_PLACE_SECOND)


def _village_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(_VILLAGE_SUFFIX) + "村"


# The most cities, counties per city, townships per county and villages per township that
# the codes below leave room for.
DEMO_LIMITS = (99, 79, 99, 199)


def demo_regions(
    cities: int = 2, counties: int = 2, townships: int = 2, villages: int = 3, *, seed: int = 2026
) -> Iterator[DemoRegion]:
    """Province → cities → counties (the first of each city a district) → townships (one
    street office in a district, then towns, then townships) → communities and villages."""
    sizes = (cities, counties, townships, villages)
    if not all(1 <= n <= most for n, most in zip(sizes, DEMO_LIMITS, strict=True)):
        raise ValueError("demo size out of range")
    rng = random.Random(seed)  # noqa: S311 - invented names, not secrets
    yield DemoRegion(PROVINCE_CODE.ljust(12, "0"), PROVINCE_NAME)
    city_names = rng.sample(_CITIES, min(cities, len(_CITIES)))
    for c in range(cities):
        city = f"{PROVINCE_CODE}{c + 1:02d}"
        city_name = city_names[c] if c < len(city_names) else f"第{c + 1}市"
        yield DemoRegion(city.ljust(12, "0"), city_name + "市")
        county_names = rng.sample(_COUNTIES, min(counties, len(_COUNTIES)))
        for k in range(counties):
            is_district = k == 0
            county = f"{city}{2 if is_district else 20 + k:02d}"
            if is_district:
                county_name = rng.choice(_DISTRICTS) + "区"
            else:
                county_name = (county_names[k] if k < len(county_names) else f"第{k}") + "县"
            yield DemoRegion(county.ljust(12, "0"), county_name)
            yield from _townships(rng, county, townships, villages, is_district)


def _townships(
    rng: random.Random, county: str, count: int, villages: int, is_district: bool
) -> Iterator[DemoRegion]:
    names = _unique_names(rng, _township_name, count)
    streets = 1 if is_district else 0
    towns = max(0, (count - streets + 1) // 2)
    for t in range(count):
        if t < streets:
            kind, code, suffix = "street", f"{t + 1:03d}", "街道"
        elif t < streets + towns:
            kind, code, suffix = "town", f"{100 + t - streets + 1:03d}", "镇"
        else:
            kind, code, suffix = "xiang", f"{200 + t - streets - towns + 1:03d}", "乡"
        township = f"{county}{code}"
        yield DemoRegion(township.ljust(12, "0"), names[t] + suffix)
        yield from _villages(rng, township, villages, kind)


def _villages(rng: random.Random, township: str, count: int, kind: str) -> Iterator[DemoRegion]:
    communities = count if kind == "street" else (1 if kind == "town" else 0)
    community_names = rng.sample(_COMMUNITIES, min(communities, len(_COMMUNITIES)))
    village_names = _unique_names(rng, _village_name, count - communities)
    for v in range(count):
        if v < communities:
            name = (community_names[v] if v < len(community_names) else f"第{v + 1}") + "社区"
            klass = "111" if kind == "street" else "121"
            yield DemoRegion(f"{township}{v + 1:03d}", name, klass)
        else:
            n = v - communities
            klass = "210" if kind == "xiang" and n == 0 else "220"
            yield DemoRegion(f"{township}{200 + n + 1:03d}", village_names[n], klass)
