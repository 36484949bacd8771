"""Bad input through the API: one citizen is one record whatever digits the number was typed
in; free text that cannot be stored or shown safely is refused, naming the field."""

from datetime import date

from jubao.authz.actor import Actor
from jubao.authz.grants import grant_role
from jubao.authz.operators import create_operator
from jubao.platform.services import Services
from tests.api.test_pension_api import ENROL, enrol, enrolment
from tests.helpers import COUNTY_B, PASSWORD, Api, World
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


CHANGE = """mutation ($p: ID!, $c: PersonChangesInput!, $r: String!) {
  personChangeSubmit(input: {person: $p, changes: $c, reason: $r}) {
    application { id } userErrors { field code message } } }"""


async def test_free_text_that_cannot_be_stored_or_shown_is_refused(api: Api, world: World) -> None:
    """One rule for every free-text field: control and format characters (NUL, bidi overrides,
    zero-width), blank-only text and over-long text are refused, naming the field; the text
    that is kept is NFC."""
    cases = [
        ({"name": "刘\x00桂兰"}, "name", "CHARACTER"),
        ({"name": "\u202e兰桂刘"}, "name", "CHARACTER"),
        ({"name": "刘\u200b桂兰"}, "name", "CHARACTER"),
        ({"name": "\u3000 \u3164"}, "name", "REQUIRED"),
        ({"address": "村" * 201}, "address", "TOO_LONG"),
    ]
    for overrides, field, code in cases:
        result = await api.as_("village.assistant", ENROL, {"input": enrolment(**overrides)})
        [error] = result["enrollmentSubmit"]["userErrors"]
        assert (error["field"], error["code"]) == (field, code), (overrides, error)
    [error] = (
        await api.as_("village.assistant", ENROL, {"input": enrolment(name="刘\x00")}, lang="en")
    )["enrollmentSubmit"]["userErrors"]
    assert error["message"] == (
        "The name contains a character that is not allowed, U+0000 (a control or format "
        "character, or invalid encoding)"
    )
    decomposed = "Jose\u0301"  # é as e + combining accent
    submitted = await api.as_(
        "village.assistant", ENROL, {"input": enrolment(name=f"  {decomposed}  ")}
    )
    assert submitted["enrollmentSubmit"]["application"]["form"]["name"] == "José"


async def test_nested_and_list_fields_are_named_as_the_input_names_them(
    api: Api, world: World
) -> None:
    person = await enrol(api)
    changed = await api.as_(
        "village.assistant", CHANGE, {"p": person, "c": {"name": "\x07"}, "r": "改名"}
    )
    [error] = changed["personChangeSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("changes.name", "CHARACTER")
    reason = await api.as_(
        "village.assistant", CHANGE, {"p": person, "c": {"name": "刘兰"}, "r": " "}
    )
    assert reason["personChangeSubmit"]["userErrors"][0]["field"] == "reason"
    listed = await api.as_(
        "township.processor",
        """mutation ($p: [ID!]!) { hardshipListSubmit(input: {region: "410121101000", year: 2026,
             persons: $p, paidOn: "2026-06-30"}) { userErrors { field code message } } }""",
        {"p": [person, person]},
    )
    [error] = listed["hardshipListSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("persons", "LIST_DUPLICATE")
    assert error["message"] == "刘桂兰在代缴名单中出现了 2 次"


async def test_a_search_prefix_is_bounded_and_clean(api: Api, world: World) -> None:
    query = "query ($p: String) { persons(first: 5, where: {namePrefix: $p}) { totalCount } }"
    token = await api.token("county.reviewer")
    for prefix, says in (("刘" * 51, "姓名开头不能超过 50 个字符"), ("刘\x00", "U+0000")):
        result = await api.post(query, {"p": prefix}, token=token)
        [error] = result["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert says in error["message"]
    assert (await api.as_("county.reviewer", query, {"p": "刘"}))["persons"]["totalCount"] == 0


async def test_back_payment_beyond_the_cap_says_so_in_chinese(api: Api, world: World) -> None:
    person = await enrol(api)
    result = await api.as_(
        "township.processor",
        """mutation ($p: ID!, $y: [Year!]!) { backPaymentSubmit(input: {person: $p, years: $y,
             grade: "200.00", paidOn: "2026-11-01"}) { userErrors { field code message } } }""",
        {"p": person, "y": list(range(2009, 2026))},
    )
    [error] = result["backPaymentSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("years", "BACK_PAYMENT_CAP")
    assert error["message"] == "补缴累计不能超过 15 年（已补缴 0 年，本次 17 年）"


async def test_policy_parameters_are_explained_in_the_callers_language(
    api: Api, world: World
) -> None:
    submit = """mutation ($p: JSON!) { policyChangeSubmit(input: {region: "410121000000",
      effectiveYear: 2027, title: "县调整", parameters: $p}) { userErrors { field code message } } }"""
    result = await api.as_("county.processor", submit, {"p": {"contribution": {"grades": [100.5]}}})
    [error] = result["policyChangeSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("parameters", "INVALID")
    assert error["message"] == (
        "政策参数无效：contribution.grades[0]：金额应为整数或十进制字符串，不能是浮点数"
    )
    english = await api.as_(
        "county.processor", submit, {"p": {"interest": {"rait": "0.02"}}}, lang="en"
    )
    message = english["policyChangeSubmit"]["userErrors"][0]["message"]
    assert "interest.rait: is not a parameter" in message and "Field" not in message


async def test_money_is_strict(api: Api, world: World) -> None:
    token = await api.token("village.assistant")
    for grade in ("３００.００", "٣٠٠.٠٠", " 300.00", "300.001", 300.5):
        result = await api.post(ENROL, {"input": enrolment(grade=grade)}, token=token)
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", grade
    literal = await api.post(
        'mutation { enrollmentSubmit(input: {idNumber: "x", name: "x", ethnicity: "01", '
        'hukou: RURAL, region: "410121101201", address: "x", grade: 1e9}) { userErrors { code } } }',
        token=token,
    )
    assert literal["errors"][0]["extensions"]["code"] in {
        "BAD_USER_INPUT",
        "GRAPHQL_VALIDATION_FAILED",
    }
    whole = await api.as_("village.assistant", ENROL, {"input": enrolment(grade=300)})
    assert whole["enrollmentSubmit"]["application"]["form"]["grade"] == "300.00"


async def test_a_year_says_what_type_it_wants(api: Api, world: World) -> None:
    token = await api.token("finance")
    result = await api.post(
        'query ($y: Year!) { policy(region: "410121101201", year: $y) { grades } }',
        {"y": "2026"},
        token=token,
        lang="en",
    )
    assert "A year must be an integer" in result["errors"][0]["message"]


async def test_a_region_outside_the_scope_answers_like_an_unknown_one(
    api: Api, world: World
) -> None:
    """Enrolling into another county's village, real or not, answers the same: the caller's
    right is decided from the code, before anything is looked up."""
    answers = []
    for village in ("410221101201", "410221101299"):  # exists / does not, both in county B
        result = await api.as_("village.assistant", ENROL, {"input": enrolment(region=village)})
        [error] = result["enrollmentSubmit"]["userErrors"]
        answers.append((error["field"], error["code"], error["message"].replace(village, "…")))
    assert answers[0] == answers[1] and answers[0][1] == "FORBIDDEN"
    unknown_here = await api.as_(
        "village.assistant", ENROL, {"input": enrolment(region="410121101299")}
    )
    assert unknown_here["enrollmentSubmit"]["userErrors"][0]["code"] in {
        "FORBIDDEN",
        "UNKNOWN_REGION",
    }


async def test_already_enrolled_names_the_county_only_to_those_who_cover_it(
    api: Api, services: Services, world: World
) -> None:
    await enrol(api)
    here = await api.as_("county.processor", ENROL, {"input": enrolment(region="410121201201")})
    [error] = here["enrollmentSubmit"]["userErrors"]
    assert error["message"] == "该身份证号码已在本省参保（410121）"
    system = Actor.system("test")
    async with services.db.transaction(system) as session:
        other = await create_operator(
            session,
            system,
            services.settings.passwords,
            username="countyb.processor",
            display_name="乙县经办",
            region=COUNTY_B,
            password=PASSWORD,
            password_expired=False,
        )
        await grant_role(
            session,
            system,
            user_id=other.id,
            role_name="agency_processor",
            region=COUNTY_B,
            reason="测试",
        )
    elsewhere = await api.as_(
        "countyb.processor", ENROL, {"input": enrolment(region="410221101201")}
    )
    [error] = elsewhere["enrollmentSubmit"]["userErrors"]
    assert (error["code"], error["message"]) == ("ALREADY_ENROLLED", "该身份证号码已在本省参保")


async def test_nobody_of_pension_age_enrols_as_a_contributor(api: Api, world: World) -> None:
    result = await api.as_(
        "village.assistant",
        ENROL,
        {"input": enrolment(idNumber=id_number(date(1961, 5, 1), 41))},
    )
    [error] = result["enrollmentSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("idNumber", "AT_PENSION_AGE")
