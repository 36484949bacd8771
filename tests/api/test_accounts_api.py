"""Interest runs through the API: the approval queues a background job, the result names the
run and the job, and the runs (and jobs) in one's scope say what each credited."""

from datetime import date

from jubao.platform.services import Services
from tests.helpers import COUNTY_A, PROVINCE, VILLAGE_A, Api, World, finish_jobs
from tests.pension.accounts.test_interest import pay
from tests.pension.support import enrol, install_policy

POST = """mutation ($r: RegionCode!, $y: Year!) { interestPostingSubmit(input: {region: $r, year: $y}) {
  application { id } userErrors { code } } }"""
DECIDE = """mutation ($id: ID!) { applicationReview(input: {application: $id, decision: APPROVE}) {
  application { result { ... on InterestPostingResult { run { id } job { id } } } }
  userErrors { code } } }"""
RUNS = "{ interestRuns(first: 10) { totalCount edges { node { id year regionCode accounts total } } } }"
JOB = """query ($id: ID!) { node(id: $id) { ... on Job { kind region state chunks chunksDone items
  total error } } }
"""
RUN = """query ($id: ID!) { node(id: $id) { ... on InterestRun { year accounts total finishedAt } } }"""


async def test_a_posting_names_its_run_and_the_runs_are_listed(
    api: Api, services: Services, world: World
) -> None:
    await install_policy(services, PROVINCE, 2014, interest={"rate": "0.02"})
    person = await enrol(
        services, birth=date(1970, 1, 1), sequence=3, region=VILLAGE_A, enrolled_on=date(2024, 1, 1)
    )
    await pay(services, person, 2024, date(2024, 3, 1))
    await pay(services, person, 2025, date(2025, 3, 1))
    for year in (2024, 2025):
        submitted = await api.as_("finance", POST, {"r": COUNTY_A.code, "y": year})
        application = submitted["interestPostingSubmit"]["application"]["id"]
        decided = await api.as_("county.reviewer", DECIDE, {"id": application})
        await finish_jobs(services)
    result = decided["applicationReview"]["application"]["result"]
    job = (await api.as_("finance", JOB, {"id": result["job"]["id"]}))["node"]
    assert job == {
        "kind": "INTEREST",
        "region": COUNTY_A.code,
        "state": "DONE",
        "chunks": 1,
        "chunksDone": 1,
        "items": 1,
        "total": "11.20",
        "error": None,
    }
    run = (await api.as_("finance", RUN, {"id": result["run"]["id"]}))["node"]
    assert (run["year"], run["accounts"], run["total"]) == (2025, 1, "11.20")
    assert run["finishedAt"]
    jobs = await api.as_("auditor", "{ jobs { totalCount edges { node { kind state } } } }")
    assert jobs["jobs"]["totalCount"] == 2
    elsewhere = await api.as_("countyb.reviewer", "{ jobs { totalCount } }")
    assert elsewhere["jobs"]["totalCount"] == 0
    assert (await api.as_("countyb.reviewer", JOB, {"id": result["job"]["id"]}))["node"] is None
    runs = await api.as_("auditor", RUNS)
    assert runs["interestRuns"]["totalCount"] == 2
    assert [e["node"]["total"] for e in runs["interestRuns"]["edges"]] == ["0.00", "11.20"]
    elsewhere = await api.as_("countyb.reviewer", RUNS)
    assert elsewhere["interestRuns"]["totalCount"] == 0
