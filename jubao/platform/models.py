"""Every mapped class, imported in one place so that the metadata is complete (for alembic)."""

from jubao.audit import AuditEvent
from jubao.authz.login import LoginThrottle
from jubao.authz.operators import Operator
from jubao.authz.policy import CasbinRule
from jubao.orm import Base
from jubao.platform.tokens import RefreshToken
from jubao.tenants.models import Region

metadata = Base.metadata

__all__ = [
    "AuditEvent",
    "CasbinRule",
    "LoginThrottle",
    "Operator",
    "RefreshToken",
    "Region",
    "metadata",
]
