"""GraphQL enums: the domain's own enums, registered under their GraphQL names.

Registering leaves each enum the class it was, so the names below are plain aliases of the
domain classes: values cross the API layer as domain values, and annotations type-check.
"""

from __future__ import annotations

import strawberry

from jubao.authz.roles import RoleName
from jubao.authz.vocabulary import Act, Obj
from jubao.pension.accounts.contributions import Channel, ContributionKind
from jubao.pension.accounts.ledger import Component, EntryKind
from jubao.pension.benefits.payroll import Funder, LineKind, LineState, RunKind, RunState
from jubao.pension.entitlement.reasons import HoldReason
from jubao.pension.entitlement.verification import ListKind, Method
from jubao.pension.people.idnumber import Sex
from jubao.pension.people.persons import EventKind, PersonStatus
from jubao.pension.people.suspension import SuspensionAction
from jubao.pension.policy.params import Hukou, PensionItem
from jubao.pension.termination.reasons import RefundScope, TerminationReason
from jubao.pension.workflow.applications import Decision, Kind, Status
from jubao.tenants.codes import Level

_DESCRIBED = (
    (Level, "RegionLevel", "行政级别 — administrative level"),
    (Obj, "AuthzObject", "业务对象 — business area a permission applies to"),
    (Act, "AuthzAction", "操作 — READ 查询, PROCESS 经办, REVIEW 审核, ADMIN 管理"),
    (RoleName, "RoleName", "角色 — a role in the catalogue"),
    (Sex, "Sex", "性别 — sex (aac004: 1 男, 2 女)"),
    (Hukou, "Hukou", "户籍性质 — RURAL 农业, URBAN 非农业"),
    (
        PersonStatus,
        "PersonStatus",
        "居保状态 — CONTRIBUTING 正常缴费, CONTRIBUTION_SUSPENDED 暂停缴费, RECEIVING 正常待遇, "
        "BENEFIT_SUSPENDED 暂停待遇, TERMINATED 终止参保",
    ),
    (
        Component,
        "AccountComponent",
        "账户组成 — PERSONAL 个人缴费, COLLECTIVE 集体补助, AID 其他资助, SUBSIDY_PROVINCE/CITY/"
        "COUNTY 省/市/县级补贴, HARDSHIP 政府代缴",
    ),
    (
        EntryKind,
        "EntryKind",
        "记账类型 — CONTRIBUTION 缴费, INTEREST 利息, REVERSAL 冲正, PENSION 个人账户养老金支付",
    ),
    (
        Kind,
        "ApplicationKind",
        "业务类型 — ENROLLMENT 参保登记, CHANGE 变更登记, CONTRIBUTION 柜台缴费, "
        "BACK_PAYMENT 补缴, HARDSHIP 代缴名单, POLICY 政策参数调整, INTEREST 年度结息, "
        "SUSPENSION 暂停或恢复缴费, AWARD 待遇核定",
    ),
    (SuspensionAction, "SuspensionAction", "SUSPEND 暂停缴费, RESUME 恢复缴费"),
    (
        Status,
        "ApplicationStatus",
        "申请状态 — IN_REVIEW 审核中, APPLIED 办结, REJECTED 退回, WITHDRAWN 撤回",
    ),
    (Decision, "Decision", "审核结论 — APPROVE 通过, REJECT 退回"),
    (ContributionKind, "ContributionKind", "缴费类型 — NORMAL 正常缴费, BACK_PAYMENT 补缴"),
    (
        Channel,
        "ContributionChannel",
        "征收方式 — COUNTER 柜台, BANK 银行代收, HARDSHIP_LIST 代缴名单, IMPORT 历史数据",
    ),
    (
        EventKind,
        "PersonEventKind",
        "档案记录类型 — ENROLLED 参保, CHANGED 变更, SUSPENDED 暂停缴费, RESUMED 恢复缴费, "
        "AWARDED 待遇核定, AWARD_CORRECTED 待遇核定更正, BENEFIT_HELD 待遇暂停（或限制）, "
        "BENEFIT_RESUMED 待遇恢复, VERIFIED 资格认证, TERMINATED 注销登记",
    ),
    (
        PensionItem,
        "PensionItem",
        "基础养老金项目 — BASE 本级基础养老金, AGE 高龄加发, YEARS 缴费年限加发（长缴多得）",
    ),
    (
        Funder,
        "FundingLevel",
        "出资层级 — NATIONAL 中央, PROVINCE 省级, CITY 市级, COUNTY 县级",
    ),
    (
        RunKind,
        "PayrollRunKind",
        "发放批次类型 — REGULAR 正常发放, SUPPLEMENTARY 补充发放, ONE_OFF 一次性支付",
    ),
    (
        RunState,
        "PayrollRunState",
        "发放批次状态 — PREPARED 已生成, REVIEWED 已审核, RELEASED 已拨付（送银行）",
    ),
    (
        LineKind,
        "PayLineKind",
        "发放明细类型 — REGULAR 正常, ARREARS 调待补发, REISSUE 重发, "
        "BACK_PAY 恢复补发（暂停期间）, PAYOUT 一次性支付（注销）",
    ),
    (
        HoldReason,
        "HoldReason",
        "待遇暂停原因 — UNVERIFIED 未按期资格认证（1201）, IMPRISONED 服刑, DETAINED 被通缉或羁押, "
        "NON_CUSTODIAL 管制、缓刑、假释（照发但不参加调待）, SUSPECTED_DEATH 疑似死亡, MISSING "
        "下落不明, OTHER 其他",
    ),
    (
        TerminationReason,
        "TerminationReason",
        "注销原因 — DEATH 死亡, NATIONALITY 丧失中国国籍, OTHER_PENSION 已享受其他基本养老保障, "
        "OTHER_SCHEME 参加其他社会保险退保, DUPLICATE_ENROLMENT 重复参保, NEVER_PAID 参保未缴费, "
        "LOCAL 其他（本地政策）",
    ),
    (
        RefundScope,
        "RefundScope",
        "支付范围 — ALL 全部储存额, NO_SUBSIDIES 除政府补贴外, PERSONAL 个人缴费及利息, "
        "NONE 不支付",
    ),
    (
        Method,
        "VerificationMethod",
        "认证方式 — COUNTER 经办机构, PHONE 手机, TERMINAL 自助终端, OTHER 其他, "
        "DATA 数据比对（静默认证）",
    ),
    (
        ListKind,
        "VerificationList",
        "认证名单 — DUE 本月应认证（认证期最后一月）, OVERDUE 逾期未认证（尚未暂停）, "
        "PAUSED 未认证暂停",
    ),
    (
        LineState,
        "PayLineState",
        "发放明细状态 — PENDING 待拨付, HELD 待补录账户, SENT 已送银行, PAID 发放成功, "
        "FAILED 发放失败",
    ),
)
for _enum, _name, _description in _DESCRIBED:
    strawberry.enum(_enum, name=_name, description=_description)

RegionLevel = Level
AuthzObject = Obj
AuthzAction = Act
AccountComponent = Component
ApplicationKind = Kind
ApplicationStatus = Status
ContributionChannel = Channel
PersonEventKind = EventKind
FundingLevel = Funder
PayrollRunKind = RunKind
PayrollRunState = RunState
PayLineKind = LineKind
PayLineState = LineState
VerificationMethod = Method
VerificationList = ListKind

__all__ = [
    "AccountComponent",
    "ApplicationKind",
    "ApplicationStatus",
    "AuthzAction",
    "AuthzObject",
    "ContributionChannel",
    "ContributionKind",
    "Decision",
    "EntryKind",
    "FundingLevel",
    "HoldReason",
    "Hukou",
    "PayLineKind",
    "PayLineState",
    "PayrollRunKind",
    "PayrollRunState",
    "PensionItem",
    "PersonEventKind",
    "PersonStatus",
    "RefundScope",
    "RegionLevel",
    "RoleName",
    "Sex",
    "SuspensionAction",
    "TerminationReason",
    "VerificationList",
    "VerificationMethod",
]
