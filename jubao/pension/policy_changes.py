"""A change of policy parameters made through the API: an application like any other."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from jubao.authz.actor import Actor
from jubao.errors import DomainError
from jubao.pension.applications import Application
from jubao.pension.policy import PolicyError, PolicyFile, parse_params, save_policy
from jubao.pension.workflow import Placement, RegionKind, parse_payload
from jubao.tenants.codes import RegionCode
from jubao.tenants.models import Region


class PolicyPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str
    effective_year: int = Field(ge=2009, le=2100)
    title: str = Field(min_length=1, max_length=200)
    params: dict[str, Any]  # sections as in a policy file (yuan, decimal-string rates)


async def _policy_file(session: AsyncSession, request: PolicyPayload) -> PolicyFile:
    region = RegionCode(request.region)
    if await session.get(Region, region.code) is None:
        raise DomainError(PolicyError.UNKNOWN_REGION, field="region", region=region.code)
    return PolicyFile(region, request.effective_year, request.title, parse_params(request.params))


class PolicyChange(RegionKind):
    payload_model = PolicyPayload

    async def prepare(
        self, session: AsyncSession, actor: Actor, payload: dict[str, Any], today: date
    ) -> Placement:
        request = parse_payload(PolicyPayload, payload)
        policy = await _policy_file(session, request)
        assert policy.region is not None
        return Placement(
            policy.region,
            request.model_dump(mode="json"),
            subject=f"{policy.region.prefix}:{request.effective_year}",
        )

    async def apply(
        self, session: AsyncSession, actor: Actor, application: Application, today: date
    ) -> dict[str, Any]:
        request = parse_payload(PolicyPayload, application.payload)
        policy = await _policy_file(session, request)
        saved = await save_policy(session, actor, policy, reason=f"application {application.id}")
        return {"policy_set_id": saved.id}
