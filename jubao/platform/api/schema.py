"""The GraphQL schema: the root types and the hardening around them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from jubao.platform.api.accounts import AccountQueries, InterestRunNode
from jubao.platform.api.applications import Application, ApplicationMutations, ApplicationQueries
from jubao.platform.api.audit import AuditEventNode, AuditQueries
from jubao.platform.api.auth import AuthMutations, AuthQueries
from jubao.platform.api.benefits import BenefitAwardNode, BenefitQueries
from jubao.platform.api.context import Context
from jubao.platform.api.entitlement import VerificationMutations, VerificationQueries
from jubao.platform.api.grants import Grant, RoleMutations, RoleQueries
from jubao.platform.api.jobs import JobNode, JobQueries
from jubao.platform.api.nodes import NodeQueries
from jubao.platform.api.pagination import MAX_PAGE
from jubao.platform.api.payroll import PayLineNode, PayrollMutations, PayrollQueries, PayrollRunNode
from jubao.platform.api.people import ContributionNode, PersonNode, PersonQueries, StatementNode
from jubao.platform.api.policy import PolicyQueries
from jubao.platform.api.regions import Region, RegionQueries
from jubao.platform.api.scalars import SCALARS
from jubao.platform.api.termination import TerminationQueries
from jubao.platform.api.users import User, UserMutations, UserQueries
from jubao.platform.settings import Settings

CACHE_SIZE = 256  # parsed and validated documents kept per process


@strawberry.type(description="查询 — queries")
class Query(
    AuthQueries,
    NodeQueries,
    RegionQueries,
    UserQueries,
    RoleQueries,
    PersonQueries,
    ApplicationQueries,
    PolicyQueries,
    AccountQueries,
    BenefitQueries,
    PayrollQueries,
    VerificationQueries,
    TerminationQueries,
    JobQueries,
    AuditQueries,
):
    pass


@strawberry.type(description="变更 — mutations")
class Mutation(
    AuthMutations,
    UserMutations,
    RoleMutations,
    ApplicationMutations,
    PayrollMutations,
    VerificationMutations,
):
    pass


class RecordDisclosures(SchemaExtension):
    """Personal data shown unmasked is recorded before the answer leaves; if it cannot be
    recorded, the answer does not leave."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context) or "disclosure" not in vars(context):
            return  # nothing personal was asked for
        disclosure = context.disclosure
        if not disclosure.reads:
            return
        try:
            async with context.services.db.transaction(context.actor) as session:
                await disclosure.record(session)
        except Exception as error:
            result = self.execution_context.result
            if result is not None:
                result.data = None
                result.errors = [GraphQLError(str(error), original_error=error)]
            else:
                raise


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Client mistakes are not worth a log line; `rewrite_errors` logs unexpected ones."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The depth and alias limits as rules built once: strawberry's QueryDepthLimiter and
    # MaxAliasesLimiter build a new rule class per request, and a new class among the rules
    # makes every request miss ValidationCache (≈1.4 ms of validation each time).
    limits: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth, should_ignore=None),
        aliases_rule(settings.max_aliases),
    ]
    # Factories, so that every request gets fresh extension instances.
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(AddValidationRules, limits),
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(ParserCache, maxsize=CACHE_SIZE),
        partial(ValidationCache, maxsize=CACHE_SIZE),
        RecordDisclosures,
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[
            Region,
            User,
            Grant,
            PersonNode,
            Application,
            ContributionNode,
            StatementNode,
            InterestRunNode,
            BenefitAwardNode,
            PayrollRunNode,
            PayLineNode,
            JobNode,
            AuditEventNode,
        ],
        extensions=extensions,
        config=StrawberryConfig(
            disable_field_suggestions=settings.production,
            relay_max_results=MAX_PAGE,
            scalar_map=SCALARS,
        ),
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
