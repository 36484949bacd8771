"""Nodes whose global ID holds a row's integer key, fetched through one of the request's
DataLoaders (so within the caller's scope): a key that is malformed, too large, unknown or out
of scope resolves to null alike."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any, ClassVar, Self

import strawberry
from strawberry import relay

from jubao.platform.api.ids import INT64, int_key


class KeyedNode(relay.Node):
    largest: ClassVar[int] = INT64  # the key column's range

    @classmethod
    def load(cls, info: strawberry.Info[Any, Any], keys: list[int]) -> Awaitable[list[Any]]:
        """The rows for ``keys`` (None where there is none), from the request's loader."""
        raise NotImplementedError

    @classmethod
    def of(cls, row: Any) -> Self:
        raise NotImplementedError

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one signature for strawberry's overloads
        cls,
        *,
        info: strawberry.Info[Any, Any],
        node_ids: Iterable[str],
        required: bool = False,
    ) -> list[Self | None]:
        keys = [int_key(k, cls.largest) for k in node_ids]
        rows = await cls.load(info, [k for k in keys if k is not None])
        found = {row.id: row for row in rows if row is not None}
        return [cls.of(found[k]) if k in found else None for k in keys]
