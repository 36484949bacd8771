"""Bad input through the API: one citizen is one record whatever digits the number was typed
in; free text that cannot be stored or shown safely is refused, naming the field."""

from datetime import date

from tests.api.test_pension_api import ENROL, enrol, enrolment
from tests.helpers import Api, World
from tests.pension.support import id_number

FULL_WIDTH = {ord(d): 0xFF10 + int(d) for d in "0123456789"} | {ord("X"): "Ｘ"}
ARABIC_INDIC = {ord(d): 0x0660 + int(d) for d in "0123456789"}


async def test_one_citizen_is_one_record_whatever_digits_typed(api: Api, world: World) -> None:
    await enrol(api)
    number = enrolment()["idNumber"]
    again = await api.as_(
        "village.assistant", ENROL, {"input": enrolment(idNumber=number.translate(FULL_WIDTH))}
    )
    [error] = again["enrollmentSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("idNumber", "ALREADY_ENROLLED")
    other = await api.as_(
        "village.assistant", ENROL, {"input": enrolment(idNumber=number.translate(ARABIC_INDIC))}
    )
    [error] = other["enrollmentSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("idNumber", "MALFORMED")


async def test_a_full_width_number_is_stored_in_ascii(api: Api, world: World) -> None:
    number = id_number(date(1970, 3, 15), 31)
    submitted = await api.as_(
        "village.assistant", ENROL, {"input": enrolment(idNumber=number.translate(FULL_WIDTH))}
    )
    application = submitted["enrollmentSubmit"]["application"]
    assert application["form"]["idNumber"] == number
    pending = await api.as_("village.assistant", ENROL, {"input": enrolment(idNumber=number)})
    assert pending["enrollmentSubmit"]["userErrors"][0]["code"] == "PENDING"
    found = await api.as_(
        "village.assistant",
        "query ($n: IdNumber!) { persons(first: 5, where: {idNumber: $n}) { totalCount } }",
        {"n": number.translate(FULL_WIDTH)},
    )
    assert found["persons"]["totalCount"] == 0  # not enrolled yet: in review
