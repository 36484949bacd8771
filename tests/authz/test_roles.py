import pytest
from sqlalchemy import delete

from jubao.authz.actor import Actor
from jubao.authz.policy import (
    CasbinRule,
    catalogue_policies,
    stored_role_policies,
    sync_role_policies,
)
from jubao.authz.roles import CATALOGUE, ROLES
from jubao.authz.vocabulary import Act, Obj
from jubao.platform.migrate import PolicyOutOfDateError, check_role_policies
from jubao.platform.services import Services
from jubao.tenants.codes import Level


def test_no_role_both_processes_and_reviews_an_object() -> None:
    for role in ROLES:
        assert not role.objects_with(Act.PROCESS) & role.objects_with(Act.REVIEW), role.name


def test_every_right_to_act_comes_with_the_right_to_read() -> None:
    for role in ROLES:
        for obj, act in role.permissions:
            assert (obj, Act.READ) in role.permissions, (role.name, obj, act)


def test_level_ranges_are_sane() -> None:
    for role in ROLES:
        assert role.min_level <= role.max_level
    assert CATALOGUE["village_assistant"].fits(Level.VILLAGE)
    assert not CATALOGUE["village_assistant"].fits(Level.TOWNSHIP)
    assert CATALOGUE["province_admin"].fits(Level.PROVINCE)
    assert not CATALOGUE["province_admin"].fits(Level.CITY)


def test_every_business_step_has_a_maker_and_a_checker() -> None:
    processed = {o for r in ROLES for o in r.objects_with(Act.PROCESS)}
    reviewed = {o for r in ROLES for o in r.objects_with(Act.REVIEW)}
    assert processed - {Obj.ACCOUNT, Obj.PAYROLL} <= reviewed
    assert {Obj.ACCOUNT, Obj.PAYROLL} <= reviewed  # finance posts, the county reviews


def test_only_administrators_hold_admin_rights() -> None:
    holders = {r.name for r in ROLES if r.objects_with(Act.ADMIN)}
    assert holders == {"province_admin", "permission_admin"}


async def test_migrate_stores_the_catalogue_and_sync_repairs_drift(services: Services) -> None:
    actor = Actor.system("test")
    async with services.db.session(actor) as session:
        assert await stored_role_policies(session) == catalogue_policies()
    await check_role_policies(services.db)

    async with services.db.transaction(actor) as session:
        await session.execute(
            delete(CasbinRule).where(CasbinRule.ptype == "p", CasbinRule.v0 == "auditor")
        )
        session.add(CasbinRule(ptype="p", v0="ghost", v1="person", v2="read"))
    with pytest.raises(PolicyOutOfDateError):  # a drifted role table stops the service
        await check_role_policies(services.db)

    async with services.db.transaction(actor) as session:
        added, removed = await sync_role_policies(session)
    assert (added, removed) == (len(CATALOGUE["auditor"].permissions), 1)
    await check_role_policies(services.db)
