"""Every mapped class, imported in one place so that the metadata is complete (for alembic)."""

from jubao.audit import AuditEvent
from jubao.authz.operators import Operator
from jubao.authz.policy import CasbinRule
from jubao.authz.throttle import LoginThrottle
from jubao.orm import Base
from jubao.pension.applications import Application, ApplicationReview
from jubao.pension.bank import BankBatch, BankBatchLine
from jubao.pension.contributions import Contribution
from jubao.pension.crosscheck import EmployeeInsured
from jubao.pension.imports import ImportBatch
from jubao.pension.interest import InterestRate, InterestRun
from jubao.pension.ledger import AccountBalance, AccountEntry
from jubao.pension.people import Person, PersonEvent
from jubao.pension.policy import PolicySet
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
    "BankBatch",
    "BankBatchLine",
    "CasbinRule",
    "Contribution",
    "EmployeeInsured",
    "IdempotencyRecord",
    "ImportBatch",
    "InterestRate",
    "InterestRun",
    "LoginThrottle",
    "Operator",
    "Person",
    "PersonEvent",
    "PolicySet",
    "RefreshToken",
    "Region",
    "RevokedFamily",
    "metadata",
]
