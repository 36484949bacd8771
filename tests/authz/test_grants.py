import asyncio

import pytest
from sqlalchemy import func, select

from jubao.audit import AuditEvent
from jubao.authz.actor import Actor
from jubao.authz.administration import AdministrationError
from jubao.authz.grants import GrantError, grant_role, revoke_grant
from jubao.authz.operators import OperatorError, deactivate_operator
from jubao.authz.policy import CasbinRule, grants_of
from jubao.errors import DomainError
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode, RegionCodeError
from jubao.text import TextError
from tests.authz.conftest import ActorFor
from tests.helpers import COUNTY_A, COUNTY_B, DISTRICT_A, PROVINCE, TOWN_A, VILLAGE_A, World


async def grant(
    acting: ActorFor, admin: str, user_id: int, role: str, region: RegionCode, reason: str = "需要"
) -> int:
    async with acting(admin) as (actor, session):
        return (
            await grant_role(
                session, actor, user_id=user_id, role_name=role, region=region, reason=reason
            )
        ).id


async def refused(coroutine: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coroutine  # type: ignore[misc]
    return caught.value


async def test_county_administrator_grants_inside_the_county_and_it_is_audited(
    services: Services, world: World, acting: ActorFor
) -> None:
    user = world.ids["nobody"]
    grant_id = await grant(acting, "perm.county", user, "township_processor", TOWN_A, "新进人员")
    async with services.db.session(Actor.system("t")) as session:
        held = await grants_of(session, user)
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "grant.add", AuditEvent.target == f"user:{user}"
            )
        )
    assert [(g.id, g.role, g.prefix) for g in held] == [
        (grant_id, "township_processor", "410121101")
    ]
    assert event is not None
    assert (event.actor_id, event.target, event.region_code, event.reason) == (
        world.ids["perm.county"],
        f"user:{user}",
        TOWN_A.code,
        "新进人员",
    )
    assert event.detail == {
        "grant_id": grant_id,
        "role": "township_processor",
        "prefix": "410121101",
    }


async def rows(services: Services) -> tuple[int, int]:
    async with services.db.session(Actor.system("t")) as session:
        grants = await session.scalar(select(func.count()).select_from(CasbinRule))
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
    return int(grants or 0), int(events or 0)


async def test_refusals_change_nothing(world: World, acting: ActorFor, services: Services) -> None:
    before = await rows(services)
    nobody = world.ids["nobody"]
    cases = [
        # outside the administrator's county
        ("perm.county", nobody, "agency_reviewer", COUNTY_B, AdministrationError.OUTSIDE_SUBTREE),
        (
            "perm.county",
            nobody,
            "city_supervisor",
            RegionCode("410100000000"),
            AdministrationError.OUTSIDE_SUBTREE,
        ),
        # level range
        ("perm.county", nobody, "village_assistant", TOWN_A, GrantError.LEVEL_MISMATCH),
        ("perm.province", nobody, "province_admin", COUNTY_A, GrantError.LEVEL_MISMATCH),
        # to oneself
        (
            "perm.county",
            world.ids["perm.county"],
            "agency_processor",
            COUNTY_A,
            AdministrationError.SELF_GRANT,
        ),
        # escalation: province_admin carries REGION ADMIN, which a permission admin lacks
        ("perm.province", nobody, "province_admin", PROVINCE, AdministrationError.ESCALATION),
        # a business operator cannot grant at all
        (
            "county.reviewer",
            nobody,
            "agency_processor",
            COUNTY_A,
            AdministrationError.OUTSIDE_SUBTREE,
        ),
        # unknown role and unknown region
        ("perm.county", nobody, "pope", COUNTY_A, GrantError.UNKNOWN_ROLE),
        (
            "perm.county",
            nobody,
            "township_processor",
            RegionCode("410121109000"),
            RegionCodeError.UNKNOWN_REGION,
        ),
        # a user outside the administrator's scope is "not found"
        (
            "perm.county",
            world.ids["countyb.reviewer"],
            "agency_processor",
            COUNTY_A,
            OperatorError.NOT_FOUND,
        ),
    ]
    for admin, user, role, region, code in cases:
        error = await refused(grant(acting, admin, user, role, region))
        assert error.code is code, (admin, role, region, error)
    assert await rows(services) == before


async def test_a_reason_is_required(world: World, acting: ActorFor) -> None:
    error = await refused(
        grant(acting, "perm.county", world.ids["nobody"], "agency_processor", COUNTY_A, "  ")
    )
    assert error.code is TextError.REQUIRED


async def test_static_separation_of_duties(
    world: World, acting: ActorFor, services: Services
) -> None:
    nobody = world.ids["nobody"]
    await grant(acting, "perm.county", nobody, "township_processor", TOWN_A)
    # reviewing the same objects in an overlapping region (the county above the township)
    error = await refused(grant(acting, "perm.county", nobody, "agency_reviewer", COUNTY_A))
    assert error.code is GrantError.SOD_CONFLICT
    assert "乡镇经办员" in error.message()
    assert "经办机构审核员" in error.message()
    # in a region that does not overlap it is allowed (the province admin grants there)
    await grant(acting, "admin", nobody, "agency_reviewer", COUNTY_B)
    # and the same grant twice is refused as a duplicate
    error = await refused(grant(acting, "admin", nobody, "agency_reviewer", COUNTY_B))
    assert error.code is GrantError.ALREADY_GRANTED
    # switched off for a deployment that wants it off
    async with acting("perm.county") as (actor, session):
        await grant_role(
            session,
            actor,
            user_id=nobody,
            role_name="township_reviewer",
            region=TOWN_A,
            reason="试点",
            separation_of_duties=False,
        )


async def test_sod_applies_to_reviewers_getting_process_rights(
    world: World, acting: ActorFor
) -> None:
    error = await refused(
        grant(acting, "perm.county", world.ids["county.reviewer"], "village_assistant", VILLAGE_A)
    )
    assert error.code is GrantError.SOD_CONFLICT


async def test_deactivated_operators_get_no_grants(world: World, acting: ActorFor) -> None:
    async with acting("perm.county") as (actor, session):
        await deactivate_operator(session, actor, world.ids["nobody"], "离职")
    error = await refused(
        grant(acting, "perm.county", world.ids["nobody"], "agency_processor", COUNTY_A)
    )
    assert error.code is GrantError.INACTIVE_USER


async def test_revoke_rules(world: World, acting: ActorFor, services: Services) -> None:
    own = world.grant_ids["perm.county"]
    elsewhere = world.grant_ids["countyb.reviewer"]
    above = world.grant_ids["city.supervisor"]
    target = world.grant_ids["township.processor"]

    async def revoke(admin: str, grant_id: int) -> None:
        async with acting(admin) as (actor, session):
            await revoke_grant(session, actor, grant_id=grant_id, reason="调岗")

    assert (await refused(revoke("perm.county", own))).code is AdministrationError.SELF_GRANT
    assert (await refused(revoke("perm.county", elsewhere))).code is GrantError.GRANT_NOT_FOUND
    assert (await refused(revoke("perm.county", above))).code is GrantError.GRANT_NOT_FOUND
    assert (await refused(revoke("perm.county", 999_999))).code is GrantError.GRANT_NOT_FOUND
    await revoke("perm.county", target)
    assert (await refused(revoke("perm.county", target))).code is GrantError.GRANT_NOT_FOUND
    async with services.db.session(Actor.system("t")) as session:
        assert await grants_of(session, world.ids["township.processor"]) == []
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "grant.revoke"))
    assert event is not None
    assert event.reason == "调岗"
    assert event.detail["role"] == "township_processor"


async def test_the_system_skips_administrator_rules_but_not_the_others(
    services: Services, world: World
) -> None:
    system = Actor.system("cli:test")
    async with services.db.transaction(system) as session:
        await grant_role(
            session,
            system,
            user_id=world.ids["nobody"],
            role_name="auditor",
            region=DISTRICT_A,
            reason="稽核",
        )
    with pytest.raises(DomainError) as caught:
        async with services.db.transaction(system) as session:
            await grant_role(
                session,
                system,
                user_id=world.ids["nobody"],
                role_name="auditor",
                region=TOWN_A,
                reason="x",
            )
    assert caught.value.code is GrantError.LEVEL_MISMATCH


async def test_concurrent_conflicting_grants_cannot_both_pass(
    services: Services, world: World, acting: ActorFor
) -> None:
    """Two administrators give one operator a maker and a checker role at the same moment:
    the row lock on the operator serialises the checks, so one of them is refused."""
    nobody = world.ids["nobody"]
    results = await asyncio.gather(
        grant(acting, "perm.county", nobody, "township_processor", TOWN_A),
        grant(acting, "perm.province", nobody, "township_reviewer", TOWN_A),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], DomainError)
    assert failures[0].code is GrantError.SOD_CONFLICT
