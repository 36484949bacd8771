"""GraphQL enums mirroring the domain vocabulary."""

from __future__ import annotations

from enum import Enum

import strawberry

from jubao.authz.roles import ROLES
from jubao.authz.vocabulary import Act, Obj
from jubao.pension.applications import Decision as _Decision
from jubao.pension.applications import Kind as _Kind
from jubao.pension.applications import Status as _Status
from jubao.pension.contributions import Channel as _Channel
from jubao.pension.contributions import ContributionKind as _ContributionKind
from jubao.pension.idnumber import Sex as _Sex
from jubao.pension.ledger import Component as _Component
from jubao.pension.ledger import EntryKind as _EntryKind
from jubao.pension.people import EventKind as _EventKind
from jubao.pension.people import PersonStatus as _PersonStatus
from jubao.pension.policy import Hukou as _Hukou
from jubao.pension.suspension import SuspensionAction as _SuspensionAction
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


# --- the pension domain ------------------------------------------------------------------------

Sex = strawberry.enum(_Sex, name="Sex", description="性别 — sex (aac004: 1 男, 2 女)")
Hukou = strawberry.enum(_Hukou, name="Hukou", description="户籍性质 — RURAL 农业, URBAN 非农业")
PersonStatus = strawberry.enum(
    _PersonStatus,
    name="PersonStatus",
    description=(
        "居保状态 — CONTRIBUTING 正常缴费, CONTRIBUTION_SUSPENDED 暂停缴费, RECEIVING 正常待遇, "
        "BENEFIT_SUSPENDED 暂停待遇, TERMINATED 终止参保"
    ),
)
AccountComponent = strawberry.enum(
    _Component,
    name="AccountComponent",
    description=(
        "账户组成 — PERSONAL 个人缴费, COLLECTIVE 集体补助, AID 其他资助, SUBSIDY_PROVINCE/CITY/"
        "COUNTY 省/市/县级补贴, HARDSHIP 政府代缴"
    ),
)
EntryKind = strawberry.enum(
    _EntryKind,
    name="EntryKind",
    description="记账类型 — CONTRIBUTION 缴费, INTEREST 利息, REVERSAL 冲正",
)
ApplicationKind = strawberry.enum(
    _Kind,
    name="ApplicationKind",
    description=(
        "业务类型 — ENROLLMENT 参保登记, CHANGE 变更登记, CONTRIBUTION 柜台缴费, "
        "BACK_PAYMENT 补缴, HARDSHIP 代缴名单, POLICY 政策参数调整, INTEREST 年度结息, "
        "SUSPENSION 暂停或恢复缴费"
    ),
)
SuspensionAction = strawberry.enum(
    _SuspensionAction,
    name="SuspensionAction",
    description="SUSPEND 暂停缴费, RESUME 恢复缴费",
)
ApplicationStatus = strawberry.enum(
    _Status,
    name="ApplicationStatus",
    description="申请状态 — IN_REVIEW 审核中, APPLIED 办结, REJECTED 退回, WITHDRAWN 撤回",
)
Decision = strawberry.enum(
    _Decision, name="Decision", description="审核结论 — APPROVE 通过, REJECT 退回"
)
ContributionKind = strawberry.enum(
    _ContributionKind,
    name="ContributionKind",
    description="缴费类型 — NORMAL 正常缴费, BACK_PAYMENT 补缴",
)
ContributionChannel = strawberry.enum(
    _Channel,
    name="ContributionChannel",
    description="征收方式 — COUNTER 柜台, BANK 银行代收, HARDSHIP_LIST 代缴名单, IMPORT 历史数据",
)
PersonEventKind = strawberry.enum(
    _EventKind,
    name="PersonEventKind",
    description="档案记录类型 — ENROLLED 参保, CHANGED 变更, SUSPENDED 暂停缴费, RESUMED 恢复缴费",
)
