"""``userErrors``: business rules that refused a mutation, each with a code, a message in the
caller's language and the input field at fault.

Every mutation's errors carry a code of one enum, ``UserErrorCode``, built from every domain
error-code class a mutation can reach (a test walks the services behind the mutations and
fails if one could raise a code missing here): a code can never be missing from a
mutation's list and turn a refusal into a masked internal error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from inspect import get_annotations
from typing import TypeVar

import strawberry

from jubao.authz.actor import AccessError
from jubao.authz.administration import AdministrationError
from jubao.authz.grants import GrantError
from jubao.authz.login import LoginError
from jubao.authz.operators import OperatorError
from jubao.authz.passwords import PasswordError
from jubao.errors import DomainError, ErrorCode, Lang
from jubao.pension.accounts.contributions import ContributionError
from jubao.pension.accounts.interest import InterestError
from jubao.pension.accounts.money import MoneyError
from jubao.pension.benefits.award import AwardError
from jubao.pension.benefits.correction import CorrectionError
from jubao.pension.benefits.payroll import PayrollError
from jubao.pension.entitlement.pauses import HoldError
from jubao.pension.entitlement.verification import VerificationError
from jubao.pension.month import MonthError
from jubao.pension.people.changes import ChangeError
from jubao.pension.people.crosscheck import CrosscheckError
from jubao.pension.people.dated_lists import DatedListError
from jubao.pension.people.enrollment import EligibilityError
from jubao.pension.people.idnumber import IdNumberError
from jubao.pension.people.persons import PersonError
from jubao.pension.policy.params import PolicyError
from jubao.pension.termination.deaths import DeathFileError
from jubao.pension.termination.recovery import RecoveryError
from jubao.pension.termination.termination import TerminationError
from jubao.pension.workflow.applications import ApplicationError
from jubao.pension.workflow.forms import FormError
from jubao.platform.tokens import TokenError
from jubao.tabular import TableError
from jubao.tenants.abolition import AbolitionError
from jubao.tenants.codes import RegionCodeError
from jubao.text import TextError

P = TypeVar("P")

SOURCES: tuple[type[ErrorCode], ...] = (
    AccessError,
    AdministrationError,
    GrantError,
    LoginError,
    OperatorError,
    PasswordError,
    TokenError,
    TextError,
    RegionCodeError,
    AbolitionError,
    FormError,
    IdNumberError,
    MoneyError,
    PersonError,
    EligibilityError,
    ChangeError,
    ApplicationError,
    ContributionError,
    InterestError,
    PolicyError,
    AwardError,
    CorrectionError,
    HoldError,
    VerificationError,
    TerminationError,
    RecoveryError,
    DeathFileError,
    DatedListError,
    PayrollError,
    MonthError,
    # reached through modules the mutations share with the file imports
    CrosscheckError,
    TableError,
)


def _code_enum() -> type[Enum]:
    """One value per code name; its description lists the messages it stands for (a name such
    as NOT_FOUND is shared by several areas)."""
    messages: dict[str, list[str]] = {}
    for source in SOURCES:
        for code in source:
            messages.setdefault(code.name, []).append(code.zh)
    members = {
        name: strawberry.enum_value(name, description=" / ".join(dict.fromkeys(texts)))
        for name, texts in messages.items()
    }
    enum = Enum("UserErrorCode", members)  # type: ignore[misc]
    return strawberry.enum(
        enum,
        description="业务规则错误代码 — why a business rule refused a mutation",
    )


UserErrorCode = _code_enum()


@strawberry.interface(description="业务规则错误 — a business rule refused the request")
class UserError:
    field: str | None = strawberry.field(
        description=(
            "出错的输入字段 — the input field at fault: its camelCase name inside the mutation's "
            "input, dotted for nested ones (changes.name); null when no one field is"
        )
    )
    message: str = strawberry.field(description="错误说明 — message in the request's language")
    code: Enum = strawberry.field(
        graphql_type=UserErrorCode, description="错误代码 — switch on this, not the message"
    )


def to_user_error(error_type: type[UserError], error: DomainError, lang: Lang) -> UserError:
    """The error as ``error_type``; a field of the type's own (such as ``retryAfter``) takes
    the error's parameter of the same name."""
    own = {name: error.params[name] for name in get_annotations(error_type) if name in error.params}
    return error_type(
        field=error.field, message=error.message(lang), code=UserErrorCode[error.code.name], **own
    )


async def attempt(
    lang: Lang, payload: Callable[..., P], error_type: type[UserError], work: Awaitable[P]
) -> P:
    """Run a mutation's work; a business-rule refusal becomes the payload's ``userErrors``
    (the transaction inside ``work`` has been rolled back by then)."""
    try:
        return await work
    except DomainError as error:
        return payload(user_errors=[to_user_error(error_type, error, lang)])
