"""注销结算 as arithmetic: the rulebook's worked example, and the invariants every closing keeps
whatever the account (hypothesis)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from jubao.pension.accounts.ledger import Component
from jubao.pension.policy.params import FuneralGrant
from jubao.pension.termination.reasons import FuneralRule, RefundScope
from jubao.pension.termination.reckoning import funeral_grant, reckon, refunded

# Fuzhou (rulebook §5.11): 13,900.00 at award, 39 payments of 100.00 taken 80 / 20 from the
# personal part and the subsidy
AFTER_39 = {Component.PERSONAL: 800_000, Component.SUBSIDY_PROVINCE: 200_000}


def test_the_fuzhou_example_under_both_rules() -> None:
    now = reckon(AFTER_39, RefundScope.ALL)
    assert (now.refund, sum(now.to_pool.values()), now.payout) == (1_000_000, 0, 1_000_000)
    before = reckon(AFTER_39, RefundScope.NO_SUBSIDIES)
    assert (before.refund, before.to_pool, before.payout) == (
        800_000,
        {Component.SUBSIDY_PROVINCE: 200_000},
        800_000,
    )


def test_what_each_scope_pays_out() -> None:
    assert [c for c in Component if refunded(RefundScope.PERSONAL, c)] == [Component.PERSONAL]
    assert {c for c in Component if refunded(RefundScope.NO_SUBSIDIES, c)} == {
        Component.PERSONAL,
        Component.COLLECTIVE,
        Component.AID,
    }  # 代缴 is government money too
    assert not any(refunded(RefundScope.NONE, c) for c in Component)


def test_funeral_grants_by_rule_and_phase() -> None:
    # (amounts in a policy are yuan: "500" is 50,000 fen)
    fixed = FuneralGrant.model_validate({"rule": "fixed", "amount": "500"})
    assert funeral_grant(fixed, receiving=True, years=3, standard=16_300) == 50_000
    by_years = FuneralGrant.model_validate({"rule": "by_years", "below": "1000", "above": "1500"})
    assert funeral_grant(by_years, receiving=False, years=14, standard=0) == 100_000
    assert funeral_grant(by_years, receiving=False, years=15, standard=0) == 150_000
    wuhan = FuneralGrant(rule=FuneralRule.MULTIPLE, multiple=13, contribution_phase=False)
    assert by_years.rule is FuneralRule.BY_YEARS
    assert funeral_grant(wuhan, receiving=True, years=20, standard=19_000) == 13 * 19_000
    assert funeral_grant(wuhan, receiving=False, years=20, standard=19_000) == 0
    assert funeral_grant(FuneralGrant(), receiving=True, years=30, standard=19_000) == 0
    for lacking in ({"rule": "fixed"}, {"rule": "by_years", "below": "1000"}, {"rule": "multiple"}):
        with pytest.raises(ValidationError):
            FuneralGrant.model_validate(lacking)


amounts = st.integers(min_value=0, max_value=10**9)


@given(
    balances=st.dictionaries(st.sampled_from(list(Component)), amounts, max_size=len(Component)),
    scope=st.sampled_from(list(RefundScope)),
    funeral=amounts,
    overpaid=amounts,
    fine=amounts,
)
def test_every_fen_of_a_closing_is_somewhere(
    balances: dict[Component, int], scope: RefundScope, funeral: int, overpaid: int, fine: int
) -> None:
    found = reckon(balances, scope, funeral=funeral, overpaid=overpaid, fine=fine)
    # the account goes wholly to the payee or to the pool
    assert found.refund + sum(found.to_pool.values()) == sum(balances.values())
    # what is recovered is never more than owed nor than what is paid out
    assert 0 <= found.recovered <= min(overpaid, found.refund + found.funeral)
    # the payee's money and the recovery are what the account and the grant give
    assert found.payout + found.recovered == found.refund + found.funeral
    assert found.payout >= 0
    assert sum(found.paid_as().values()) == found.payout
    assert all(v >= 0 for v in found.paid_as().values())
    # what stays owed: the rest of the overpayment and the whole fine
    assert found.owed == overpaid - found.recovered + fine
