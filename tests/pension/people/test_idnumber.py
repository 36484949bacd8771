from datetime import date

import pytest

from jubao.errors import DomainError
from jubao.pension.people.idnumber import (
    IdNumber,
    IdNumberError,
    Sex,
    canonical_id_number,
    check_character,
    is_canonical,
    mask_id_number,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("value", "birth", "sex"),
    [
        # the rulebook's table (§8.1)
        ("11010519491231002X", date(1949, 12, 31), Sex.FEMALE),
        ("440524188001010014", date(1880, 1, 1), Sex.MALE),
        ("120223198902021249", date(1989, 2, 2), Sex.FEMALE),
        ("130132199210293822", date(1992, 10, 29), Sex.FEMALE),
    ],
)
def test_valid_numbers(value: str, birth: date, sex: Sex) -> None:
    number = IdNumber.parse(value, today=TODAY)
    assert (number.value, number.birth_date, number.sex) == (value, birth, sex)


def test_the_worked_check_digit_example() -> None:
    assert check_character("11010519491231002") == "X"


def test_lowercase_x_and_legacy_fifteen_digits() -> None:
    assert IdNumber.parse(" 11010519491231002x ", today=TODAY).value == "11010519491231002X"
    assert IdNumber.parse("110105491231002", today=TODAY).value == "11010519491231002X"


def test_full_width_digits_become_the_one_canonical_form() -> None:
    """A number typed on a full-width keyboard is the same citizen, stored the same way."""
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert canonical_id_number(full_width) == "11010519491231002X"
    assert IdNumber.parse(full_width, today=TODAY).value == "11010519491231002X"
    assert IdNumber.read("\u3000１１０１０５４９１２３１００２").value == "11010519491231002X"


@pytest.mark.parametrize(
    "value",
    [
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits: int() reads them, the scheme does not
        "११०१०५१९४९१२३१००२X",  # Devanagari
        "11010519491231002\u0425",  # a Cyrillic Х
        "1101051949123100 2X",
        "11010519491231002X\x00",
    ],
)
def test_other_digits_and_look_alikes_are_refused(value: str) -> None:
    with pytest.raises(DomainError) as caught:
        IdNumber.read(value)
    assert caught.value.code is IdNumberError.MALFORMED


def test_canonical_form_check() -> None:
    assert is_canonical("11010519491231002X")
    assert not is_canonical("11010519491231002x")
    assert not is_canonical("１１０１０５１９４９１２３１００２X")
    assert not is_canonical("110105194912310021")  # wrong check character


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("130402198207290622", IdNumberError.CHECK_DIGIT),  # the rulebook's invalid sample
        ("41010219900230001X", IdNumberError.CHECK_DIGIT),
        ("1101051949123100", IdNumberError.MALFORMED),
        ("11010519491231002Y", IdNumberError.MALFORMED),
        ("", IdNumberError.MALFORMED),
    ],
)
def test_invalid_numbers(value: str, error: IdNumberError) -> None:
    with pytest.raises(DomainError) as caught:
        IdNumber.parse(value, today=TODAY)
    assert caught.value.code is error


def with_check(body: str) -> str:
    return body + check_character(body)


def test_impossible_and_future_dates() -> None:
    with pytest.raises(DomainError) as caught:
        IdNumber.parse(with_check("41010219900230001"), today=TODAY)  # 30 February
    assert caught.value.code is IdNumberError.BIRTH_DATE
    with pytest.raises(DomainError) as caught:
        IdNumber.parse(with_check("41010230000101001"), today=TODAY)
    assert caught.value.code is IdNumberError.FUTURE_BIRTH


def test_cross_checks_with_the_form() -> None:
    number = IdNumber.read("11010519491231002X")
    number.check_matches(sex=Sex.FEMALE, birth_date=date(1949, 12, 31))
    with pytest.raises(DomainError) as caught:
        number.check_matches(sex=Sex.MALE, birth_date=None)
    assert caught.value.code is IdNumberError.SEX_MISMATCH
    assert caught.value.message() == "性别与身份证号码不符：号码表明为女"
    with pytest.raises(DomainError) as caught:
        number.check_matches(sex=None, birth_date=date(1949, 12, 30))
    assert caught.value.code is IdNumberError.BIRTH_MISMATCH


def test_age_and_mask() -> None:
    number = IdNumber.read("11010519491231002X")
    assert number.age_on(date(2009, 12, 30)) == 59
    assert number.age_on(date(2009, 12, 31)) == 60
    assert mask_id_number(number.value) == "110105********002X"
