"""Every mapped class, imported in one place so that the metadata is complete (for alembic)."""

from jubao.audit import AuditEvent
from jubao.authz.operators import Operator
from jubao.authz.policy import CasbinRule
from jubao.authz.throttle import LoginThrottle
from jubao.jobs import Job, JobChunk
from jubao.orm import Base
from jubao.pension.accounts.bank import BankBatch, BankBatchLine
from jubao.pension.accounts.contributions import Contribution
from jubao.pension.accounts.interest import InterestRate, InterestRun
from jubao.pension.accounts.ledger import AccountBalance, AccountEntry, FundEntry, LedgerTxn
from jubao.pension.benefits.award import Award
from jubao.pension.benefits.payroll import PayLine, PayrollRun
from jubao.pension.entitlement.holds import BenefitHold
from jubao.pension.entitlement.verification import Verification
from jubao.pension.people.crosscheck import EmployeeInsured
from jubao.pension.people.imports import ImportBatch
from jubao.pension.people.persons import Person, PersonEvent
from jubao.pension.policy.params import PolicySet
from jubao.pension.termination.deaths import DeathReport
from jubao.pension.termination.payouts import Payout
from jubao.pension.termination.recovery import RecoveryOrder
from jubao.pension.termination.termination import Termination
from jubao.pension.workflow.applications import Application, ApplicationReview
from jubao.platform.idempotency import IdempotencyRecord
from jubao.platform.tokens import RefreshToken, RevokedFamily
from jubao.tenants.models import Region

metadata = Base.metadata

__all__ = [
    "AccountBalance",
    "AccountEntry",
    "Application",
    "ApplicationReview",
    "AuditEvent",
    "Award",
    "BankBatch",
    "BankBatchLine",
    "BenefitHold",
    "CasbinRule",
    "Contribution",
    "DeathReport",
    "EmployeeInsured",
    "FundEntry",
    "IdempotencyRecord",
    "ImportBatch",
    "InterestRate",
    "InterestRun",
    "Job",
    "JobChunk",
    "LedgerTxn",
    "LoginThrottle",
    "Operator",
    "PayLine",
    "Payout",
    "PayrollRun",
    "Person",
    "PersonEvent",
    "PolicySet",
    "RecoveryOrder",
    "RefreshToken",
    "Region",
    "RevokedFamily",
    "Termination",
    "Verification",
    "metadata",
]
