"""What ending an insurance pays out and gets back, as arithmetic (rulebook §5.11–5.12).

The account is closed: the components the reason refunds are paid out (to the heirs, or to the
person), the others go back to the pool. A death may bring a funeral grant. What was paid that
was not due — pensions for months after the death, or a basic pension received beside another
statutory pension — is recovered from what is paid out first; what that does not cover stays
owed (`jubao.pension.termination.recovery`).

Worked example (§5.11, Fuzhou): an account of 13,900.00 at award pays 100.00 a month; after 39
payments the heirs are paid 13,900.00 − 3,900.00 = 10,000.00 — or 8,000.00 under the 2009 rule
when the subsidies are 20 % of each component (2,000.00 back to the pool).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jubao.pension.accounts.ledger import Component
from jubao.pension.policy.params import FuneralGrant
from jubao.pension.termination.reasons import FuneralRule, RefundScope


def refunded(scope: RefundScope, component: Component) -> bool:
    """Whether ``scope`` pays ``component`` out."""
    if scope is RefundScope.ALL:
        return True
    if scope is RefundScope.NO_SUBSIDIES:
        return not component.government
    if scope is RefundScope.PERSONAL:
        return component is Component.PERSONAL
    return False


def funeral_grant(rule: FuneralGrant, *, receiving: bool, years: int, standard: int) -> int:
    """The grant for a death: by the rule of the month of death, for the phase the person was
    in; ``standard`` is the basic pension standard of that month (for a multiple of it)."""
    if not (rule.payout_phase if receiving else rule.contribution_phase):
        return 0
    if rule.rule is FuneralRule.FIXED:
        return rule.amount
    if rule.rule is FuneralRule.BY_YEARS:
        return rule.above if years >= rule.years else rule.below
    if rule.rule is FuneralRule.MULTIPLE:
        return rule.multiple * standard
    return 0


@dataclass(frozen=True)
class Reckoning:
    """注销结算: every figure of closing one account, in fen."""

    scope: RefundScope
    balances: dict[Component, int]  # the account as it stands
    funeral: int
    overpaid: int  # paid that was not due
    fine: int  # a fraud's fine (owed beside the overpayment, never taken from heirs)

    @property
    def refunds(self) -> dict[Component, int]:
        return {c: a for c, a in self.balances.items() if a and refunded(self.scope, c)}

    @property
    def to_pool(self) -> dict[Component, int]:
        return {c: a for c, a in self.balances.items() if a and not refunded(self.scope, c)}

    @property
    def refund(self) -> int:
        return sum(self.refunds.values())

    @property
    def recovered(self) -> int:
        """Taken from what is paid out, towards the overpayment."""
        return min(self.overpaid, self.refund + self.funeral)

    @property
    def payout(self) -> int:
        return self.refund + self.funeral - self.recovered

    @property
    def owed(self) -> int:
        """What stays to be recovered: the rest of the overpayment, and the fine."""
        return self.overpaid - self.recovered + self.fine

    def paid_as(self) -> dict[str, int]:
        """The payout by what it spends (the recovery taken from the refund first)."""
        from_refund = min(self.recovered, self.refund)
        return {
            "refund": self.refund - from_refund,
            "funeral": self.funeral - (self.recovered - from_refund),
        }


def reckon(
    balances: Mapping[Component, int],
    scope: RefundScope,
    *,
    funeral: int = 0,
    overpaid: int = 0,
    fine: int = 0,
) -> Reckoning:
    return Reckoning(scope, dict(balances), funeral, overpaid, fine)
