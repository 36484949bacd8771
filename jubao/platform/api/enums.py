"""GraphQL enums mirroring the domain vocabulary."""

from __future__ import annotations

from enum import Enum

import strawberry

from jubao.authz.roles import ROLES
from jubao.authz.vocabulary import Act, Obj
from jubao.tenants.codes import Level

RegionLevel = strawberry.enum(
    Level, name="RegionLevel", description="行政级别 — administrative level"
)
AuthzObject = strawberry.enum(
    Obj, name="AuthzObject", description="业务对象 — business area a permission applies to"
)
AuthzAction = strawberry.enum(
    Act,
    name="AuthzAction",
    description="操作 — READ 查询, PROCESS 经办, REVIEW 审核, ADMIN 管理",
)
RoleName = strawberry.enum(
    Enum("RoleName", {role.name.upper(): role.name for role in ROLES}),  # type: ignore[misc]
    description="角色 — a role in the catalogue",
)
