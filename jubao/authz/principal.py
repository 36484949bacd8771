"""The compiled per-request authorization state of one operator.

Built from the operator's grants (one indexed query) and the role catalogue, it answers
``can(obj, act, region)`` with at most five set look-ups (one per ancestor prefix) and
``scope(obj, act)`` as a set of prefixes for SQL. It gives the same answers as Casbin's
``enforce`` asked once per ancestor domain (``tests/authz/test_principal_vs_casbin.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from jubao.authz.policy import Grant
from jubao.authz.roles import CATALOGUE, Permission
from jubao.authz.vocabulary import Act, Obj
from jubao.tenants.codes import RegionCode
from jubao.tenants.scope import Scope


class Principal:
    __slots__ = ("_prefixes", "_reads", "_scopes", "grants", "user_id")

    def __init__(self, user_id: int, grants: Iterable[Grant]) -> None:
        self.user_id = user_id
        self.grants = tuple(grants)
        index: dict[Permission, set[str]] = defaultdict(set)
        for grant in self.grants:
            role = CATALOGUE.get(grant.role)
            if role is None:  # a role removed from the catalogue confers nothing
                continue
            for permission in role.permissions:
                index[permission].add(grant.prefix)
        self._prefixes = {perm: frozenset(prefixes) for perm, prefixes in index.items()}
        self._scopes: dict[Permission, Scope] = {}
        self._reads: frozenset[tuple[Obj, frozenset[str]]] | None = None

    def can(self, obj: Obj, act: Act, region: RegionCode) -> bool:
        prefixes = self._prefixes.get((obj, act))
        if prefixes is None:
            return False
        return any(p in prefixes for p in region.prefixes)

    def prefixes(self, obj: Obj, act: Act) -> frozenset[str]:
        """The exact grant prefixes (not minimised) through which this principal holds a right:
        for steps that must be taken at one level, not merely somewhere above it."""
        return self._prefixes.get((obj, act), frozenset())

    def scope(self, obj: Obj, act: Act) -> Scope:
        key = (obj, act)
        scope = self._scopes.get(key)
        if scope is None:
            scope = self._scopes[key] = Scope.of(self._prefixes.get(key, ()))
        return scope

    @property
    def reads(self) -> frozenset[tuple[Obj, frozenset[str]]]:
        """Where this principal may read each object: equal for two operators who see the
        same rows, so what is derived from it (SQL criteria) can be shared between them."""
        if self._reads is None:
            self._reads = frozenset(
                (obj, prefixes)
                for (obj, act), prefixes in self._prefixes.items()
                if act is Act.READ
            )
        return self._reads

    def permissions(self) -> Iterator[tuple[Obj, Act, Scope]]:
        """Every (object, action) this principal holds somewhere, with where."""
        for obj, act in sorted(self._prefixes):
            yield obj, act, self.scope(obj, act)
