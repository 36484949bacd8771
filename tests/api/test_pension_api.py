"""The pension API through HTTP: enrolment to statement, masking, the queue, tenant walls."""

import asyncio
from datetime import date
from typing import Any

from sqlalchemy import select

from jubao.audit import AuditEvent
from jubao.authz.actor import Actor
from jubao.authz.grants import grant_role
from jubao.authz.operators import create_operator
from jubao.platform.services import Services
from tests.api.test_sql_counts import counting
from tests.helpers import COUNTY_A, PASSWORD, TOWN_A, VILLAGE_A, VILLAGE_A2, Api, World
from tests.pension.support import id_number

PERSON_FIELDS = "id name idNumber phone bankAccount personalDataVisible status grade regionCode hukou sex birthDate"
FORM = """form { __typename
  ... on EnrollmentForm { idNumber name phone bankAccount birthDate grade hukou region }
  ... on PersonChangeForm { reason person { id } changes { name address phone bankAccount idNumber } } }"""
ENROL = (
    """mutation ($input: EnrollmentInput!) { enrollmentSubmit(input: $input) {
  application { id status chain currentLevel """
    + FORM
    + """ } userErrors { field code message } } }"""
)
REVIEW = """mutation ($id: ID!, $decision: Decision!, $comment: String) {
  applicationReview(input: {application: $id, decision: $decision, comment: $comment}) {
    application { id status currentLevel reviews { level reviewer decision comment }
      result { __typename ... on EnrollmentResult { person { id name } }
        ... on ContributionsResult { contributions { id year credited } } } }
    userErrors { field code message } } }"""


def enrolment(**overrides: Any) -> dict[str, Any]:
    return {
        "idNumber": id_number(date(1968, 8, 8), 22),
        "name": "刘桂兰",
        "ethnicity": "01",
        "hukou": "RURAL",
        "region": VILLAGE_A.code,
        "address": "马家湾村二组",
        "phone": "13912345678",
        "bankAccount": "6222021234567890123",
        "grade": "500.00",
        **overrides,
    }


async def enrol(api: Api, **overrides: Any) -> str:
    submitted = await api.as_("village.assistant", ENROL, {"input": enrolment(**overrides)})
    payload = submitted["enrollmentSubmit"]
    assert payload["userErrors"] == [], payload
    application = payload["application"]["id"]
    for reviewer in ("township.reviewer", "county.reviewer"):
        decided = await api.as_(reviewer, REVIEW, {"id": application, "decision": "APPROVE"})
        assert decided["applicationReview"]["userErrors"] == [], decided
    result = decided["applicationReview"]["application"]["result"]
    assert result["__typename"] == "EnrollmentResult"
    return str(result["person"]["id"])


async def test_enrolment_review_and_the_person(api: Api, services: Services, world: World) -> None:
    submitted = await api.as_("village.assistant", ENROL, {"input": enrolment()})
    application = submitted["enrollmentSubmit"]["application"]
    assert application["status"] == "IN_REVIEW"
    assert (
        application["chain"] == ["TOWNSHIP", "COUNTY"] and application["currentLevel"] == "TOWNSHIP"
    )
    assert application["form"]["idNumber"] == enrolment()["idNumber"]  # the assistant may see it

    queue = await api.as_(
        "township.reviewer",
        "{ reviewQueue(first: 10) { totalCount edges { node { id kind " + FORM + " } } } }",
    )
    assert queue["reviewQueue"]["totalCount"] == 1
    # the city supervisor may read applications but not personal data
    seen = await api.as_(
        "city.supervisor",
        "query ($id: ID!) { node(id: $id) { ... on Application { " + FORM + " } } }",
        {"id": application["id"]},
    )
    assert (
        seen["node"]["form"]["idNumber"]
        == "410121********0223"[:6] + "********" + enrolment()["idNumber"][-4:]
    )
    assert seen["node"]["form"]["phone"] == "139****5678"
    assert seen["node"]["form"]["birthDate"] is None  # what the masked number hides

    own = await api.as_(
        "village.assistant", REVIEW, {"id": application["id"], "decision": "APPROVE"}
    )
    assert own["applicationReview"]["userErrors"][0]["code"] == "OWN"
    first = await api.as_(
        "township.reviewer",
        REVIEW,
        {"id": application["id"], "decision": "APPROVE", "comment": "材料齐全"},
    )
    assert first["applicationReview"]["application"]["currentLevel"] == "COUNTY"
    done = await api.as_(
        "county.reviewer", REVIEW, {"id": application["id"], "decision": "APPROVE"}
    )
    final = done["applicationReview"]["application"]
    assert final["status"] == "APPLIED"
    assert [r["level"] for r in final["reviews"]] == ["TOWNSHIP", "COUNTY"]

    query = (
        '{ persons(first: 10, where: {namePrefix: "刘"}) { totalCount edges { node { '
        + PERSON_FIELDS
        + " } } } }"
    )
    assistant = (await api.as_("village.assistant", query))["persons"]["edges"][0]["node"]
    assert assistant["idNumber"] == enrolment()["idNumber"] and assistant["personalDataVisible"]
    assert (assistant["status"], assistant["grade"], assistant["sex"], assistant["hukou"]) == (
        "CONTRIBUTING",
        "500.00",
        "FEMALE",
        "RURAL",
    )
    supervisor = (await api.as_("city.supervisor", query))["persons"]["edges"][0]["node"]
    assert (
        supervisor["idNumber"].startswith("410121********")
        and not supervisor["personalDataVisible"]
    )
    assert supervisor["bankAccount"] == "***************0123"
    elsewhere = await api.as_("countyb.reviewer", query)
    assert elsewhere["persons"]["totalCount"] == 0
    async with services.db.session(Actor.system("t")) as session:
        reads = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "person.personal_data_read")
            )
        ).all()
    assert reads and all(e.actor_id != world.ids["city.supervisor"] for e in reads)
    assert any(
        "id_number" in e.detail["fields"]
        for e in reads
        if e.actor_id == world.ids["village.assistant"]
    )


async def test_submission_errors_are_user_errors_in_both_languages(api: Api, world: World) -> None:
    result = await api.as_(
        "village.assistant", ENROL, {"input": enrolment(idNumber="41012119680808022X")}
    )
    [error] = result["enrollmentSubmit"]["userErrors"]
    assert (error["field"], error["code"]) == ("idNumber", "CHECK_DIGIT")
    young = await api.as_(
        "village.assistant",
        ENROL,
        {"input": enrolment(idNumber=id_number(date(2015, 1, 1), 2))},
        lang="en",
    )
    assert young["enrollmentSubmit"]["userErrors"][0]["message"].startswith("Under 16")
    bad_money = await api.post(
        ENROL, {"input": enrolment(grade="500.001")}, token=await api.token("village.assistant")
    )
    assert bad_money["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_contribution_and_statement(api: Api, world: World) -> None:
    person = await enrol(api)
    submit = """mutation ($p: ID!) { contributionSubmit(input: {person: $p, year: 2026, grade: "500.00", collective: "50.00", paidOn: "2026-11-23"}) {
        application { id } userErrors { code } } }"""
    application = (await api.as_("township.processor", submit, {"p": person}))[
        "contributionSubmit"
    ]["application"]["id"]
    await api.as_("county.reviewer", REVIEW, {"id": application, "decision": "APPROVE"})
    data = await api.as_(
        "county.reviewer",
        """query ($p: ID!) { node(id: $p) { ... on Person {
            account { total government balances { component balance } }
            contributions { year grade personal collective subsidy credited }
            statement(year: 2026) { openingTotal closingTotal credited interest lines { component amount } }
            history { kind actor } applications { kind status } } } }""",
        {"p": person},
    )
    node = data["node"]
    assert node["account"]["total"] == "610.00" and node["account"]["government"] == "60.00"
    assert node["contributions"] == [
        {
            "year": 2026,
            "grade": "500.00",
            "personal": "500.00",
            "collective": "50.00",
            "subsidy": "60.00",
            "credited": "610.00",
        }
    ]
    assert (
        node["statement"]["closingTotal"] == "610.00" and node["statement"]["credited"] == "610.00"
    )
    assert [a["kind"] for a in node["applications"]] == ["ENROLLMENT", "CONTRIBUTION"]
    assert node["history"][0]["kind"] == "ENROLLED"
    hidden = await api.as_(
        "village.assistant",
        "query ($p: ID!) { node(id: $p) { ... on Person { account { total } } } }",
        {"p": person},
    )
    assert (
        hidden["node"]["account"]["total"] == "610.00"
    )  # the assistant reads its village's accounts


async def test_people_outside_the_scope_are_invisible(api: Api, world: World) -> None:
    person = await enrol(api)
    for viewer in ("countyb.reviewer", "village.neighbour", "district.reviewer"):
        result = await api.as_(viewer, "query ($p: ID!) { node(id: $p) { id } }", {"p": person})
        assert result["node"] is None, viewer
        by_number = await api.as_(
            viewer,
            "query ($n: IdNumber!) { person(idNumber: $n) { id } }",
            {"n": enrolment()["idNumber"]},
        )
        assert by_number["person"] is None
    change = """mutation ($p: ID!) { personChangeSubmit(input: {person: $p, changes: {name: "改名"}, reason: "x"}) { userErrors { code } } }"""
    assert (await api.as_("village.neighbour", change, {"p": person}))["personChangeSubmit"][
        "userErrors"
    ] == [{"code": "NOT_FOUND"}]


async def test_concurrent_approvals_through_http(
    api: Api, services: Services, world: World
) -> None:
    system = Actor.system("test")
    async with services.db.transaction(system) as session:
        second = await create_operator(
            session,
            system,
            services.settings.passwords,
            username="county.reviewer2",
            display_name="二",
            region=COUNTY_A,
            password=PASSWORD,
            password_expired=False,
        )
        await grant_role(
            session,
            system,
            user_id=second.id,
            role_name="agency_reviewer",
            region=COUNTY_A,
            reason="测试",
        )
    submitted = await api.as_("village.assistant", ENROL, {"input": enrolment()})
    application = submitted["enrollmentSubmit"]["application"]["id"]
    await api.as_("township.reviewer", REVIEW, {"id": application, "decision": "APPROVE"})
    tokens = [await api.token("county.reviewer"), await api.token("county.reviewer2")]
    results = await asyncio.gather(
        *(api.post(REVIEW, {"id": application, "decision": "APPROVE"}, token=t) for t in tokens)
    )
    errors = [r["data"]["applicationReview"]["userErrors"] for r in results]
    assert sorted(len(e) for e in errors) == [0, 1], errors
    assert next(e for e in errors if e)[0]["code"] in {"CONFLICT", "CLOSED"}
    people = await api.as_("admin", "{ persons(first: 5) { totalCount } }")
    assert people["persons"]["totalCount"] == 1


async def test_a_page_of_people_costs_the_same_statements_whatever_its_size(
    api: Api, services: Services, world: World
) -> None:
    from tests.pension.support import enrol as enrol_directly

    for n in range(40):
        await enrol_directly(
            services,
            birth=date(1960, 1, 1 + n % 28),
            sequence=2 * n + 1,
            region=VILLAGE_A,
            enrolled_on=date(2020, 1, 1),
        )
    query = f"query ($n: Int!) {{ persons(first: $n) {{ totalCount edges {{ node {{ {PERSON_FIELDS} region {{ name }} account {{ total balances {{ component balance }} }} contributions {{ year }} applications {{ kind }} history {{ kind after {{ name idNumber phone }} application {{ id }} }} statement(year: 2026) {{ closingTotal lines {{ amount }} }} }} }} }} }}"
    token = await api.token("village.assistant")
    await api.post("{ __typename }", token=token)  # authenticated once, then remembered
    counts = []
    for first in (10, 40):
        with counting(services) as statements:
            result = await api.post(query, {"n": first}, token=token)
        assert "errors" not in result and len(result["data"]["persons"]["edges"]) == first
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


async def test_statement_downloads(api: Api, world: World) -> None:
    person = await enrol(api)
    url = f"/statements/{person}/2026"
    assistant = {"Authorization": f"Bearer {await api.token('village.assistant')}"}
    csv_file = await api.client.get(f"{url}.csv", headers=assistant)
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    text = csv_file.content.decode("utf-8-sig")
    assert "个人账户对账单" in text and enrolment()["idNumber"] in text
    excel = await api.client.get(f"{url}.xlsx", headers=assistant)
    assert excel.status_code == 200 and excel.content[:2] == b"PK"
    supervisor = {"Authorization": f"Bearer {await api.token('city.supervisor')}"}
    masked = (await api.client.get(f"{url}.csv", headers=supervisor)).content.decode("utf-8-sig")
    assert enrolment()["idNumber"] not in masked and "410121********" in masked
    for headers, status in (
        ({}, 401),
        ({"Authorization": f"Bearer {await api.token('countyb.reviewer')}"}, 404),
    ):
        assert (await api.client.get(f"{url}.csv", headers=headers)).status_code == status
    assert (await api.client.get(f"{url}.pdf", headers=assistant)).status_code == 404


async def test_two_mutations_in_one_request_each_read_back_their_own_change(
    api: Api, world: World
) -> None:
    person = await enrol(api)
    token = await api.token("village.assistant")
    result = await api.post(
        """mutation ($p: ID!) {
             a: personChangeSubmit(input: {person: $p, changes: {phone: "13700000001"}, reason: "换号"}) { application { id } userErrors { code } }
             b: personChangeSubmit(input: {person: $p, changes: {address: "新址"}, reason: "搬家"}) { application { id status } userErrors { code } } }""",
        {"p": person},
        token=token,
    )
    data = result["data"]
    assert data["a"]["userErrors"] == []
    # one open change per person: the second is refused, and says so
    assert data["b"]["userErrors"][0]["code"] == "PENDING"
    withdraw = await api.post(
        """mutation ($a: ID!, $p: ID!) {
             w: applicationWithdraw(input: {application: $a}) { application { status } }
             again: personChangeSubmit(input: {person: $p, changes: {address: "新址"}, reason: "搬家"}) { application { status form { ... on PersonChangeForm { changes { address phone } } } } userErrors { code } } }""",
        {"a": data["a"]["application"]["id"], "p": person},
        token=token,
    )
    assert withdraw["data"]["w"]["application"]["status"] == "WITHDRAWN"
    assert withdraw["data"]["again"]["application"]["status"] == "IN_REVIEW"
    assert withdraw["data"]["again"]["application"]["form"]["changes"] == {
        "address": "新址",
        "phone": None,
    }


async def test_persons_filtered_by_birth_year(api: Api, world: World) -> None:
    await enrol(api)  # born 1968
    query = "query ($w: PersonFilter) { persons(first: 5, where: $w) { totalCount } }"

    async def count(where: dict[str, Any]) -> int:
        return (await api.as_("village.assistant", query, {"w": where}))["persons"]["totalCount"]

    assert await count({"bornFrom": 1968, "bornTo": 1968}) == 1
    assert await count({"bornFrom": 1969}) == 0
    assert await count({"bornTo": 1967, "status": "CONTRIBUTING"}) == 0
    token = await api.token("village.assistant")
    refused = await api.post(query, {"w": {"bornFrom": 1066}}, token=token, lang="en")
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "reason": "BIRTH_YEAR"}
    assert refused["errors"][0]["message"] == "A birth year is 1900–2100, got 1066"


async def test_persons_filtered_by_region_hukou_group_and_id_number(api: Api, world: World) -> None:
    await enrol(api)  # rural, no special group, in village A
    other = id_number(date(1975, 5, 5), 78)  # ends in X
    await enrol(api, idNumber=other, name="王建国", hukou="URBAN", specialGroup="061")
    query = "query ($w: PersonFilter) { persons(first: 5, where: $w) { totalCount edges { node { name } } } }"

    async def names(where: dict[str, Any]) -> list[str]:
        found = (await api.as_("county.reviewer", query, {"w": where}))["persons"]
        assert found["totalCount"] == len(found["edges"])
        return sorted(edge["node"]["name"] for edge in found["edges"])

    both = ["刘桂兰", "王建国"]
    assert await names({"region": VILLAGE_A.code}) == both
    assert await names({"region": TOWN_A.code}) == both  # a region includes what is below it
    assert await names({"region": VILLAGE_A2.code}) == []
    assert await names({"hukou": "URBAN"}) == ["王建国"]
    assert await names({"hukou": "RURAL", "region": TOWN_A.code}) == ["刘桂兰"]
    assert await names({"specialGroup": "061"}) == ["王建国"]
    assert await names({"specialGroup": "021"}) == []
    assert await names({"idNumber": other}) == ["王建国"]
    assert await names({"idNumber": other.lower()}) == ["王建国"]  # an x typed in lower case
    assert await names({"idNumber": enrolment()["idNumber"], "hukou": "URBAN"}) == []
