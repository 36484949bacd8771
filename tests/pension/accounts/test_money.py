import pytest
from hypothesis import given
from hypothesis import strategies as st

from jubao.errors import DomainError
from jubao.pension.accounts.money import (
    Rounding,
    format_yuan,
    parse_yuan,
    round_fraction,
    split_by_ratio,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("1", 100),
        ("1234.5", 123450),
        ("1234.50", 123450),
        ("0.01", 1),
        ("-3.05", -305),
        (560, 56000),
    ],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "bad",
    [
        "1.234",
        "1,000",
        "",
        "abc",
        "1e3",
        1.5,
        1e9,
        True,
        " 12 3",
        " 300.00",  # nothing around the number
        "300.00 ",
        "３００.００",  # full-width digits
        "٣٠٠.٠٠",  # Arabic-Indic digits, which Decimal would read
        pytest.param(10**5000, id="5000-digits"),  # beyond any amount and int-to-text limits
    ],
)
def test_parse_yuan_refuses(bad: object) -> None:
    with pytest.raises(DomainError):
        parse_yuan(bad)  # type: ignore[arg-type]


def test_format_yuan() -> None:
    assert [format_yuan(f) for f in (0, 5, 100, 934200, -5)] == [
        "0.00",
        "0.05",
        "1.00",
        "9342.00",
        "-0.05",
    ]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_and_parse_are_inverse(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


def test_rounding_rules() -> None:
    # 5.625 fen: half-up gives 6; 见分进角 rounds any fen up to the next jiao: 10
    assert round_fraction(5625, 1000, Rounding.HALF_UP) == 6
    assert round_fraction(5624, 1000, Rounding.HALF_UP) == 6
    assert round_fraction(5499, 1000, Rounding.HALF_UP) == 5
    assert round_fraction(5625, 1000, Rounding.JIAO_UP) == 10
    assert round_fraction(10000, 1000, Rounding.JIAO_UP) == 10
    assert round_fraction(10001, 1000, Rounding.JIAO_UP) == 20
    assert round_fraction(0, 7, Rounding.JIAO_UP) == 0


def test_split_by_ratio_the_changchun_way() -> None:
    # 省 : 市 : 区 = 6 : 2 : 2
    assert split_by_ratio(3500, [6, 2, 2]) == [2100, 700, 700]
    assert split_by_ratio(4500, [6, 2, 2]) == [2700, 900, 900]
    assert split_by_ratio(1, [6, 2, 2]) == [1, 0, 0]
    assert split_by_ratio(7, [1, 1, 1]) == [3, 2, 2]


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=6).filter(any),
)
def test_split_always_adds_up(total: int, weights: list[int]) -> None:
    parts = split_by_ratio(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * whole - total * weight) < whole  # each within one fen of exact
