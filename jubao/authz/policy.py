"""The Casbin policy: model, store (``casbin_rule``) and the role table kept in it.

Casbin is the policy model and store: ``p`` rows are role permissions (from the catalogue),
``g`` rows are grants ``(user:<id>, role, region prefix)``. Writes go through the published
async SQLAlchemy adapter, inside the caller's transaction. Decisions do not go through
Casbin's interpreter (see ``principal``); a differential test proves they agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import casbin
from casbin_async_sqlalchemy_adapter import Adapter
from sqlalchemy import Index, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jubao.authz.roles import ROLES
from jubao.orm import Base

MODEL_TEXT = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act
"""


class CasbinRule(Base):
    """Casbin's own table layout, so that any Casbin adapter can read it."""

    __tablename__ = "casbin_rule"
    __table_args__ = (
        UniqueConstraint("ptype", "v0", "v1", "v2"),
        Index("ix_casbin_rule_ptype_v0", "ptype", "v0"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ptype: Mapped[str] = mapped_column(String(255))
    v0: Mapped[str | None] = mapped_column(String(255))
    v1: Mapped[str | None] = mapped_column(String(255))
    v2: Mapped[str | None] = mapped_column(String(255))
    v3: Mapped[str | None] = mapped_column(String(255))
    v4: Mapped[str | None] = mapped_column(String(255))
    v5: Mapped[str | None] = mapped_column(String(255))

    def __str__(self) -> str:
        # The adapter turns each row into a policy line with str().
        values = [self.ptype]
        for v in (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5):
            if v is None:
                break
            values.append(v)
        return ", ".join(values)


def subject(user_id: int) -> str:
    return f"user:{user_id}"


def user_id_of(subject_: str) -> int:
    return int(subject_.removeprefix("user:"))


def new_model() -> casbin.Model:
    model = casbin.Model()
    model.load_model_from_text(MODEL_TEXT)
    return model


def catalogue_policies() -> set[tuple[str, str, str]]:
    return {(role.name, obj.value, act.value) for role in ROLES for obj, act in role.permissions}


def adapter_for(session: AsyncSession) -> Adapter:
    """The Casbin adapter writing through ``session`` (so writes share its transaction)."""
    return Adapter(session.bind, db_class=CasbinRule, db_session=session)


@dataclass(frozen=True, slots=True)
class Grant:
    """A role held by a user over a region prefix (one ``g`` row)."""

    id: int
    user_id: int
    role: str
    prefix: str


def grant_of(row: CasbinRule) -> Grant:
    return Grant(id=row.id, user_id=user_id_of(str(row.v0)), role=str(row.v1), prefix=str(row.v2))


async def grants_of(session: AsyncSession, user_id: int) -> list[Grant]:
    rows = await session.scalars(
        select(CasbinRule)
        .where(CasbinRule.ptype == "g", CasbinRule.v0 == subject(user_id))
        .order_by(CasbinRule.id)
    )
    return [grant_of(row) for row in rows]


async def grant_by_id(session: AsyncSession, grant_id: int) -> Grant | None:
    row = await session.get(CasbinRule, grant_id)
    return grant_of(row) if row is not None and row.ptype == "g" else None


async def stored_role_policies(session: AsyncSession) -> set[tuple[str, str, str]]:
    rows = await session.execute(
        select(CasbinRule.v0, CasbinRule.v1, CasbinRule.v2).where(CasbinRule.ptype == "p")
    )
    return {(r, o, a) for r, o, a in rows if r and o and a}


async def sync_role_policies(session: AsyncSession) -> tuple[int, int]:
    """Make the ``p`` rows equal the code catalogue; returns (added, removed)."""
    stored = await stored_role_policies(session)
    wanted = catalogue_policies()
    adapter = adapter_for(session)
    missing = sorted(wanted - stored)
    stale = sorted(stored - wanted)
    if missing:
        await adapter.add_policies("p", "p", [list(p) for p in missing])
    for policy in stale:
        await adapter.remove_policy("p", "p", list(policy))
    return len(missing), len(stale)
