"""Retries from a flaky network: the same contribution sent twice makes one application, and a
mutation sent again with the same Idempotency-Key gets the first answer without running."""

from typing import Any

from tests.api.test_pension_api import enrol
from tests.helpers import Api, World

PAY = """mutation ($p: ID!, $g: Money!) { contributionSubmit(input: {person: $p, year: 2026,
  grade: $g, paidOn: "2026-11-23"}) { application { id } userErrors { code message } } }"""
COUNT = "{ applications(first: 50, kind: CONTRIBUTION) { totalCount } }"


async def send(api: Api, username: str, body: dict[str, Any], key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {await api.token(username)}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await api.client.post("/graphql", json=body, headers=headers)


async def test_a_second_contribution_for_the_same_year_is_refused_at_submit(
    api: Api, world: World
) -> None:
    person = await enrol(api)
    first = await api.as_("township.processor", PAY, {"p": person, "g": "500.00"})
    assert first["contributionSubmit"]["userErrors"] == []
    again = await api.as_("township.processor", PAY, {"p": person, "g": "500.00"})
    assert again["contributionSubmit"]["userErrors"][0]["code"] == "PENDING"
    assert (await api.as_("county.reviewer", COUNT))["applications"]["totalCount"] == 1


async def test_a_repeat_with_the_same_key_gets_the_first_answer(api: Api, world: World) -> None:
    person = await enrol(api)
    body = {"query": PAY, "variables": {"p": person, "g": "500.00"}}
    first = await send(api, "township.processor", body, "pay-2026-0001")
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    application = first.json()["data"]["contributionSubmit"]["application"]["id"]
    # the same request, its JSON written in another order
    reordered = {"variables": {"g": "500.00", "p": person}, "query": PAY}
    repeat = await send(api, "township.processor", reordered, "pay-2026-0001")
    assert repeat.status_code == 200 and repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json()["data"]["contributionSubmit"]["application"]["id"] == application
    assert (await api.as_("county.reviewer", COUNT))["applications"]["totalCount"] == 1

    other = {"query": PAY, "variables": {"p": person, "g": "300.00"}}
    reused = await send(api, "township.processor", other, "pay-2026-0001")
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    # keys are each operator's own: another operator's same key is another request
    theirs = await send(api, "county.processor", other, "pay-2026-0001")
    assert theirs.status_code == 200 and "idempotent-replayed" not in theirs.headers


async def test_keys_that_cannot_be_kept_and_requests_they_do_not_apply_to(
    api: Api, world: World
) -> None:
    bad = await send(api, "county.reviewer", {"query": "{ me { user { id } } }"}, "key with spaces")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_INVALID"
    for _ in range(2):  # a query with a key is simply answered, each time
        answered = await send(api, "county.reviewer", {"query": COUNT}, "q-1")
        assert answered.status_code == 200 and "idempotent-replayed" not in answered.headers
