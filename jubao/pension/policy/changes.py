"""A change of policy parameters made through the API: an application like any other."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError
from jubao.pension.policy.params import PolicyError, PolicyFile, parse_params, save_policy
from jubao.pension.workflow.applications import Application
from jubao.pension.workflow.engine import Placement, RegionKind
from jubao.pension.workflow.forms import RegionCodeText, Year
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import check_in_use
from jubao.text import TITLE


class PolicyForm(BaseModel):
    """政策参数调整 — new parameters for a region from a year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Annotated[RegionCodeText, Field(description="区划")]
    effective_year: Annotated[Year, Field(description="生效年度")]
    effective_month: Annotated[
        int,
        Field(
            ge=1,
            le=12,
            description="生效月份（1–12，默认 1 月；基础养老金等按月生效的参数用）",
        ),
    ] = 1
    title: Annotated[str, TITLE, Field(description="文件名称")]
    # The sections of a policy file, as a file writes them (yuan, decimal-string rates): the
    # document the staff write and read, checked section by section by ``parse_params``.
    parameters: Annotated[
        dict[str, Any],
        Field(
            description=(
                "参数，与政策文件同格式 — sections as in a policy file (yuan, decimal rates)"
            ),
            validation_alias=AliasChoices("parameters", "params"),
        ),
    ]


class PolicyResult(BaseModel):
    policy_set_id: Annotated[int, Field(description="参数集编号 — the parameter set stored")]


async def _policy_file(session: AsyncSession, form: PolicyForm) -> PolicyFile:
    region = RegionCode(form.region)
    await check_in_use(session, region)
    if not 2009 <= form.effective_year <= 2100:
        raise DomainError(PolicyError.YEAR, field="effectiveYear")
    return PolicyFile(
        region, form.effective_year, form.title, parse_params(form.parameters), form.effective_month
    )


class PolicyChange(RegionKind):
    form = PolicyForm
    result = PolicyResult

    async def prepare(
        self, session: AsyncSession, actor: Actor, form: PolicyForm, today: date
    ) -> Placement:
        policy = await _policy_file(session, form)
        assert policy.region is not None
        return Placement(
            policy.region,
            form,
            subject=f"{policy.region.prefix}:{form.effective_year}-{form.effective_month:02d}",
        )

    async def apply(
        self,
        session: AsyncSession,
        actor: Actor,
        application: Application,
        form: PolicyForm,
        today: date,
    ) -> PolicyResult:
        policy = await _policy_file(session, form)
        saved = await save_policy(session, actor, policy, reason=f"application {application.id}")
        return PolicyResult(policy_set_id=saved.id)
