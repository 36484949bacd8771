"""Which handler carries out each kind of application."""

from __future__ import annotations

from jubao.pension.applications import Kind
from jubao.pension.changes import Change
from jubao.pension.contributions import BackPayment, CounterContribution, HardshipList
from jubao.pension.enrollment import Enrollment
from jubao.pension.interest import InterestPosting
from jubao.pension.policy_changes import PolicyChange
from jubao.pension.suspension import Suspension
from jubao.pension.workflow import Handler

HANDLERS: dict[Kind, Handler] = {
    Kind.ENROLLMENT: Enrollment(),
    Kind.CHANGE: Change(),
    Kind.CONTRIBUTION: CounterContribution(),
    Kind.BACK_PAYMENT: BackPayment(),
    Kind.HARDSHIP: HardshipList(),
    Kind.POLICY: PolicyChange(),
    Kind.INTEREST: InterestPosting(),
    Kind.SUSPENSION: Suspension(),
}
