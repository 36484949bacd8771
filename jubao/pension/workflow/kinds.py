"""Which handler carries out each kind of application."""

from __future__ import annotations

from jubao.pension.accounts.contributions import BackPayment, CounterContribution, HardshipList
from jubao.pension.accounts.interest import InterestPosting
from jubao.pension.benefits.award import AwardClaim
from jubao.pension.benefits.correction import AwardCorrection
from jubao.pension.entitlement.pauses import Hold, Resumption
from jubao.pension.people.changes import Change
from jubao.pension.people.enrollment import Enrollment
from jubao.pension.people.suspension import Suspension
from jubao.pension.policy.changes import PolicyChange
from jubao.pension.termination.recovery import Repayment
from jubao.pension.termination.termination import TerminationKind
from jubao.pension.workflow.applications import Kind
from jubao.pension.workflow.engine import Handler

HANDLERS: dict[Kind, Handler] = {
    Kind.ENROLLMENT: Enrollment(),
    Kind.CHANGE: Change(),
    Kind.CONTRIBUTION: CounterContribution(),
    Kind.BACK_PAYMENT: BackPayment(),
    Kind.HARDSHIP: HardshipList(),
    Kind.POLICY: PolicyChange(),
    Kind.INTEREST: InterestPosting(),
    Kind.SUSPENSION: Suspension(),
    Kind.AWARD: AwardClaim(),
    Kind.AWARD_CORRECTION: AwardCorrection(),
    Kind.BENEFIT_HOLD: Hold(),
    Kind.BENEFIT_RESUMPTION: Resumption(),
    Kind.TERMINATION: TerminationKind(),
    Kind.RECOVERY_REPAYMENT: Repayment(),
}
