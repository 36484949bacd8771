"""Why a pension is paused or restricted, and whether the months lost are paid back."""

from __future__ import annotations

from enum import StrEnum

from jubao.errors import Text


class HoldReason(StrEnum):
    """暂停（或限制）待遇的原因 (rulebook §5.10)."""

    UNVERIFIED = "unverified"  # 1201 未按期认证: no verification within the cycle
    IMPRISONED = "imprisoned"  # 服刑
    DETAINED = "detained"  # 被通缉、羁押，尚未判决
    NON_CUSTODIAL = "non_custodial"  # 管制、缓刑、假释: paid, without later increases
    SUSPECTED_DEATH = "suspected_death"  # 疑似死亡, while it is investigated
    MISSING = "missing"  # 下落不明
    OTHER = "other"

    @property
    def text(self) -> Text:
        return Text(_REASON_ZH[self], self.value.replace("_", " "))

    @property
    def pays(self) -> bool:
        """Whether the pension is still paid (at the amount of the month the hold began)."""
        return self is HoldReason.NON_CUSTODIAL

    @property
    def code(self) -> str | None:
        """The code other systems use (Hunan: 1201 for a missed verification)."""
        return "1201" if self is HoldReason.UNVERIFIED else None


_REASON_ZH = {
    HoldReason.UNVERIFIED: "未按期资格认证",
    HoldReason.IMPRISONED: "服刑",
    HoldReason.DETAINED: "被通缉或羁押（尚未判决）",
    HoldReason.NON_CUSTODIAL: "管制、缓刑、假释（不参加调待）",
    HoldReason.SUSPECTED_DEATH: "疑似死亡",
    HoldReason.MISSING: "下落不明",
    HoldReason.OTHER: "其他",
}


class BackPay(StrEnum):
    """Whether the months a pause held back are paid when it ends (补发)."""

    ALWAYS = "always"
    NEVER = "never"
    IF_CLEARED = "if_cleared"  # acquitted, found alive: as the resumption states
