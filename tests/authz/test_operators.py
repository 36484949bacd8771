import pytest
from sqlalchemy import func, select

from jubao.audit import AuditEvent
from jubao.authz.actor import AccessError, Actor
from jubao.authz.grants import grant_role
from jubao.authz.operators import (
    Operator,
    OperatorError,
    create_operator,
    deactivate_operator,
)
from jubao.authz.passwords import PasswordError
from jubao.errors import DomainError
from jubao.platform.services import Services
from jubao.tenants.codes import RegionCode, RegionCodeError
from jubao.text import TextError
from tests.authz.conftest import ActorFor
from tests.helpers import COUNTY_A, COUNTY_B, VILLAGE_A, World


async def create(
    services: Services,
    acting: ActorFor,
    admin: str,
    username: str,
    region: RegionCode,
    password: str = "abcdef12345",
) -> Operator:
    async with acting(admin) as (actor, session):
        return await create_operator(
            session,
            actor,
            services.settings.passwords,
            username=username,
            display_name="李四",
            region=region,
            password=password,
        )


async def test_create_operator(services: Services, world: World, acting: ActorFor) -> None:
    operator = await create(services, acting, "perm.county", "  Li.Si  ", VILLAGE_A)
    assert operator.username == "li.si"
    assert operator.password_hash.startswith("$argon2id$")
    async with services.db.session(Actor.system("t")) as session:
        event = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "user.create", AuditEvent.actor_id == world.ids["perm.county"]
            )
        )
    assert event is not None
    assert event.target == f"user:{operator.id}"


@pytest.mark.parametrize(
    ("admin", "username", "region", "password", "code"),
    [
        ("perm.county", "x", VILLAGE_A, "abcdef12345", OperatorError.USERNAME_INVALID),
        ("perm.county", "张三", VILLAGE_A, "abcdef12345", OperatorError.USERNAME_INVALID),
        ("perm.county", "admin", VILLAGE_A, "abcdef12345", OperatorError.USERNAME_TAKEN),
        ("perm.county", "ADMIN", VILLAGE_A, "abcdef12345", OperatorError.USERNAME_TAKEN),
        ("perm.county", "new.one", COUNTY_B, "abcdef12345", AccessError.FORBIDDEN),
        ("county.reviewer", "new.one", COUNTY_A, "abcdef12345", AccessError.FORBIDDEN),
        (
            "perm.county",
            "new.one",
            RegionCode("410121109000"),
            "abcdef12345",
            RegionCodeError.UNKNOWN_REGION,
        ),
        ("perm.county", "new.one", VILLAGE_A, "short1", PasswordError.TOO_SHORT),
        ("perm.county", "new.one", VILLAGE_A, "abcdefghijkl", PasswordError.TOO_SIMPLE),
        ("perm.county", "new.one", VILLAGE_A, "xnew.one12345", PasswordError.CONTAINS_USERNAME),
        ("perm.county", "new.one", VILLAGE_A, "a1" * 65, PasswordError.TOO_LONG),
    ],
)
async def test_create_refusals_change_nothing(
    services: Services,
    world: World,
    acting: ActorFor,
    admin: str,
    username: str,
    region: RegionCode,
    password: str,
    code: object,
) -> None:
    with pytest.raises(DomainError) as caught:
        await create(services, acting, admin, username, region, password)
    assert caught.value.code is code
    async with services.db.session(Actor.system("t")) as session:
        assert await session.scalar(select(func.count()).select_from(Operator)) == len(world.ids)


async def test_deactivate(services: Services, world: World, acting: ActorFor) -> None:
    target = world.ids["village.assistant"]
    async with acting("perm.county") as (actor, session):
        operator = await deactivate_operator(session, actor, target, "离职")
        assert not operator.active
        assert operator.token_version == 1

    async def again(admin: str, user: int, reason: str = "再次") -> DomainError:
        with pytest.raises(DomainError) as caught:
            async with acting(admin) as (actor, session):
                await deactivate_operator(session, actor, user, reason)
        return caught.value

    assert (await again("perm.county", target)).code is OperatorError.ALREADY_INACTIVE
    assert (
        await again("perm.county", world.ids["perm.county"])
    ).code is OperatorError.SELF_DEACTIVATE
    assert (
        await again("perm.county", world.ids["countyb.reviewer"])
    ).code is OperatorError.NOT_FOUND
    assert (await again("perm.county", world.ids["nobody"], "")).code is TextError.REQUIRED
    # visible (a county reviewer may read operators) but not theirs to administer
    assert (await again("county.reviewer", world.ids["nobody"])).code is AccessError.FORBIDDEN


async def test_nobody_retires_an_operator_holding_more_than_they_could_revoke(
    services: Services, world: World, acting: ActorFor
) -> None:
    system = Actor.system("t")
    async with services.db.transaction(system) as session:
        await grant_role(
            session,
            system,
            user_id=world.ids["nobody"],
            role_name="province_admin",
            region=RegionCode("410000000000"),
            reason="测试",
        )
    with pytest.raises(DomainError) as caught:
        async with acting("perm.county") as (actor, session):
            await deactivate_operator(session, actor, world.ids["nobody"], "越权")
    assert caught.value.code is OperatorError.OUTRANKS
    # the province administrator may
    async with acting("admin") as (actor, session):
        retired = await deactivate_operator(session, actor, world.ids["nobody"], "离职")
    assert not retired.active
