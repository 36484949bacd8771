"""`node(id:)` and `nodes(ids:)`: any object by its global ID, within the caller's scope.

An ID that is malformed, names an unknown type, names no object, or names an object outside
the caller's scope all give the same answer, null — so IDs reveal nothing about other tenants.
"""

from __future__ import annotations

import asyncio
from inspect import isawaitable

import strawberry
from strawberry import relay

from jubao.platform.api.accounts import InterestRunNode
from jubao.platform.api.applications import Application
from jubao.platform.api.audit import AuditEventNode
from jubao.platform.api.benefits import BenefitAwardNode
from jubao.platform.api.context import Info
from jubao.platform.api.errors import Problem, problem
from jubao.platform.api.grants import Grant
from jubao.platform.api.jobs import JobNode
from jubao.platform.api.payroll import PayLineNode, PayrollRunNode
from jubao.platform.api.people import ContributionNode, PersonNode, StatementNode
from jubao.platform.api.permissions import LoggedIn
from jubao.platform.api.regions import Region
from jubao.platform.api.users import User

NODE_TYPES: dict[str, type[relay.Node]] = {
    "Region": Region,
    "User": User,
    "Grant": Grant,
    "Person": PersonNode,
    "Application": Application,
    "Contribution": ContributionNode,
    "Statement": StatementNode,
    "InterestRun": InterestRunNode,
    "BenefitAward": BenefitAwardNode,
    "PayrollRun": PayrollRunNode,
    "Job": JobNode,
    "PayLine": PayLineNode,
    "AuditEvent": AuditEventNode,
}
MAX_NODES = 100


async def _resolve(info: Info, global_id: str) -> relay.Node | None:
    try:
        parsed = relay.GlobalID.from_id(global_id)
    except (ValueError, TypeError):
        return None
    node_type = NODE_TYPES.get(parsed.type_name)
    if node_type is None:
        return None
    found = node_type.resolve_nodes(info=info, node_ids=[parsed.node_id])
    [node] = await found if isawaitable(found) else found
    return node


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="按全局 ID 取对象 — an object by global ID; null if unknown or not visible",
        permission_classes=[LoggedIn],
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        return await _resolve(info, id)

    @strawberry.field(
        description=f"按全局 ID 批量取对象 — objects by global IDs (at most {MAX_NODES})",
        permission_classes=[LoggedIn],
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            raise problem(info.context.lang, Problem.TOO_MANY_IDS, max=MAX_NODES)
        return list(await asyncio.gather(*(_resolve(info, i) for i in ids)))
