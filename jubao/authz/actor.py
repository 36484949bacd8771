"""`Actor`: who is acting, as services see it — an operator with a principal, or the system."""

from __future__ import annotations

from dataclasses import dataclass

from jubao.authz.principal import Principal
from jubao.authz.vocabulary import Act, Obj
from jubao.errors import DomainError, ErrorCode
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope


class AccessError(ErrorCode):
    FORBIDDEN = (
        "您没有在 {region} {act}{obj}的权限",
        "You may not {act} {obj} in {region}",
    )


@dataclass(frozen=True, slots=True)
class Actor:
    """``principal`` is None only for the system (command line, scheduled batches)."""

    operator_id: int | None
    label: str
    principal: Principal | None

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(operator_id=None, label=label, principal=None)

    @classmethod
    def operator(cls, operator_id: int, username: str, principal: Principal) -> Actor:
        return cls(
            operator_id=operator_id, label=f"user:{operator_id} {username}", principal=principal
        )

    @property
    def is_system(self) -> bool:
        return self.principal is None

    def can(self, obj: Obj, act: Act, region: RegionCode) -> bool:
        return self.principal is None or self.principal.can(obj, act, region)

    def require(self, obj: Obj, act: Act, region: RegionCode, *, field: str | None = None) -> None:
        if not self.can(obj, act, region):
            raise DomainError(
                AccessError.FORBIDDEN,
                field=field,
                region=region.code,
                act=act.text,
                obj=obj.text,
            )

    def scope(self, obj: Obj, act: Act) -> Scope | None:
        """Where the actor may ``act`` on ``obj``; None means everywhere (the system)."""
        return None if self.principal is None else self.principal.scope(obj, act)
