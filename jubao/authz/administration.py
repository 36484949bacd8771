"""Who may administer whom: the rules shared by granting, revoking and deactivating.

An administrator acts only inside their own subtree (``grant admin`` at the region), never on
themselves, and never hands out or takes away administrative rights they do not hold there.
The system (command line) is not bound by these rules.
"""

from __future__ import annotations

from jubao.authz.actor import Actor
from jubao.authz.roles import Role
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode
from jubao.tenants.codes import RegionCode


class AdministrationError(ErrorCode):
    OUTSIDE_SUBTREE = (
        "您不能在 {region} 授权或撤销授权：它不在您管理的区划范围内",
        "You cannot grant or revoke at {region}: it is outside the regions you administer",
    )
    SELF_GRANT = ("不能给自己授权或撤销自己的授权", "You cannot grant or revoke your own roles")
    ESCALATION = (
        "不能授予或撤销超出您自身权限的角色：该角色含有您在 {region} 不具备的管理权限（{rights}）",
        "You cannot grant or revoke a role with rights you do not hold: it has administrative "
        "rights you lack in {region} ({rights})",
    )


def check_administers(actor: Actor, role: Role | None, region: RegionCode, user_id: int) -> None:
    """May ``actor`` grant or revoke ``role`` at ``region`` for operator ``user_id``?"""
    if actor.is_system:
        return
    if not actor.can(Obj.GRANT, Act.ADMIN, region):
        raise DomainError(AdministrationError.OUTSIDE_SUBTREE, field="region", region=region.code)
    if user_id == actor.operator_id:
        raise DomainError(AdministrationError.SELF_GRANT, field="user")
    lacking = sorted(
        obj.value
        for obj in (role.objects_with(Act.ADMIN) if role else ())
        if not actor.can(obj, Act.ADMIN, region)
    )
    if lacking:
        raise DomainError(
            AdministrationError.ESCALATION,
            field="role",
            region=region.code,
            rights=", ".join(lacking),
        )
