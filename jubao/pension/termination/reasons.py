"""Why an insurance ends, and which part of the account each reason pays out."""

from __future__ import annotations

from enum import StrEnum

from jubao.errors import Text


class TerminationReason(StrEnum):
    """注销原因 (rulebook §5.12)."""

    DEATH = "death"  # 死亡
    NATIONALITY = "nationality"  # 丧失中国国籍（出国定居）
    OTHER_PENSION = "other_pension"  # 已享受职工基本养老保险等其他基本养老保障（含重复领取）
    OTHER_SCHEME = "other_scheme"  # 参加其他社会保险退保
    DUPLICATE_ENROLMENT = "duplicate_enrolment"  # 重复参保
    NEVER_PAID = "never_paid"  # 参保未缴费
    LOCAL = "local"  # 本地政策规定的其他原因

    @property
    def text(self) -> Text:
        return Text(_REASON_ZH[self], self.value.replace("_", " "))


_REASON_ZH = {
    TerminationReason.DEATH: "死亡",
    TerminationReason.NATIONALITY: "丧失中国国籍",
    TerminationReason.OTHER_PENSION: "已享受其他基本养老保障",
    TerminationReason.OTHER_SCHEME: "参加其他社会保险退保",
    TerminationReason.DUPLICATE_ENROLMENT: "重复参保",
    TerminationReason.NEVER_PAID: "参保未缴费",
    TerminationReason.LOCAL: "其他（本地政策）",
}


class RefundScope(StrEnum):
    """Which components of the account are paid out; the rest goes back to the pool."""

    ALL = "all"  # 全部储存额（含政府补贴）
    NO_SUBSIDIES = "no_subsidies"  # 除政府补贴（含代缴）外
    PERSONAL = "personal"  # 个人缴费及其利息（保费和利息）
    NONE = "none"

    @property
    def text(self) -> Text:
        return Text(_SCOPE_ZH[self], self.value.replace("_", " "))


_SCOPE_ZH = {
    RefundScope.ALL: "全部储存额",
    RefundScope.NO_SUBSIDIES: "除政府补贴外的储存额",
    RefundScope.PERSONAL: "个人缴费及利息",
    RefundScope.NONE: "不支付",
}


class FuneralRule(StrEnum):
    """丧葬补助金 (rulebook §5.11: optional, locally defined)."""

    NONE = "none"
    FIXED = "fixed"  # Qingzhou: 500
    BY_YEARS = "by_years"  # 1,000 under 15 years of contribution, 1,500 from 15
    MULTIPLE = "multiple"  # Wuhan: 13 × the basic pension in the month of death
