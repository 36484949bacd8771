"""Personal data through HTTP: nothing that the mask hides can be read elsewhere, and every
unmasked read is recorded against the region it belongs to."""

from sqlalchemy import select

from jubao.audit import AuditEvent
from jubao.authz.actor import Actor
from jubao.platform.services import Services
from tests.api.test_pension_api import REVIEW, enrol, enrolment
from tests.helpers import VILLAGE_A, Api, World

PERSON = "query ($p: ID!) { node(id: $p) { ... on Person { idNumber birthDate birthYear sex } } }"
CHANGE = """mutation ($p: ID!) { personChangeSubmit(input: {person: $p, reason: "换卡",
  changes: {phone: "13700000001", bankAccount: "6222029999888877776"}}) {
  application { id } userErrors { code } } }"""
PAYLOADS = """{ applications(first: 10, kind: CHANGE) { edges { node {
  form { ... on PersonChangeForm { changes { phone bankAccount } } } } } } }"""
NUMBER = enrolment()["idNumber"]
MASKED = NUMBER[:6] + "********" + NUMBER[-4:]


async def reads(services: Services) -> list[AuditEvent]:
    async with services.db.session(Actor.system("t")) as session:
        found = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "person.personal_data_read")
        )
        return list(found)


async def test_the_birth_date_is_as_private_as_the_id_number(
    api: Api, services: Services, world: World
) -> None:
    person = await enrol(api)  # born 1968-08-08
    before = len(await reads(services))
    supervisor = (await api.as_("city.supervisor", PERSON, {"p": person}))["node"]
    assert supervisor == {
        "idNumber": MASKED,
        "birthDate": None,  # the eight masked digits are the birth date
        "birthYear": 1968,
        "sex": "FEMALE",
    }
    assert len(await reads(services)) == before  # nothing unmasked, nothing recorded
    assistant = (await api.as_("village.assistant", PERSON, {"p": person}))["node"]
    assert assistant["idNumber"] == NUMBER
    assert assistant["birthDate"] == "1968-08-08"
    [event] = (await reads(services))[before:]
    assert event.region_code == VILLAGE_A.code  # the village's auditors see it
    assert event.detail["fields"] == ["birth_date", "id_number"]
    # the enrolment application's payload hides it too
    forms = """{ applications(first: 5, kind: ENROLLMENT) { edges { node {
      form { ... on EnrollmentForm { idNumber birthDate } } } } } }"""
    [edge] = (await api.as_("city.supervisor", forms))["applications"]["edges"]
    assert edge["node"]["form"] == {"idNumber": MASKED, "birthDate": None}


async def test_new_values_in_a_change_application_are_masked(
    api: Api, services: Services, world: World
) -> None:
    person = await enrol(api)
    submitted = await api.as_("village.assistant", CHANGE, {"p": person})
    assert submitted["personChangeSubmit"]["userErrors"] == []
    [edge] = (await api.as_("city.supervisor", PAYLOADS))["applications"]["edges"]
    assert edge["node"]["form"]["changes"] == {
        "phone": "137****0001",
        "bankAccount": "***************7776",
    }
    before = len(await reads(services))
    [edge] = (await api.as_("county.reviewer", PAYLOADS))["applications"]["edges"]
    assert edge["node"]["form"]["changes"] == {
        "phone": "13700000001",
        "bankAccount": "6222029999888877776",
    }
    [event] = (await reads(services))[before:]
    assert event.region_code == VILLAGE_A.code
    assert event.detail["fields"] == ["bank_account", "phone"]
    # once applied, the history keeps before and after, masked alike
    application = submitted["personChangeSubmit"]["application"]["id"]
    decided = await api.as_("county.reviewer", REVIEW, {"id": application, "decision": "APPROVE"})
    assert decided["applicationReview"]["userErrors"] == []
    history = """query ($p: ID!) { node(id: $p) { ... on Person { history { kind
      before { phone bankAccount } after { phone bankAccount } } } } }"""
    events = (await api.as_("city.supervisor", history, {"p": person}))["node"]["history"]
    changed = next(e for e in events if e["kind"] == "CHANGED")
    assert changed["after"] == {"phone": "137****0001", "bankAccount": "***************7776"}
    assert changed["before"]["phone"] == "139****5678"
    before = len(await reads(services))
    shown = (await api.as_("county.reviewer", history, {"p": person}))["node"]["history"]
    assert next(e for e in shown if e["kind"] == "CHANGED")["after"]["phone"] == "13700000001"
    [event] = (await reads(services))[before:]  # the whole file, recorded as one read
    assert event.detail["fields"] == ["bank_account", "phone"]
