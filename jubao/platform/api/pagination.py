"""Relay connections with keyset pagination in SQL and a lazily counted ``totalCount``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Select, func, select
from strawberry import relay
from strawberry.relay.types import NodeType
from strawberry.types.nodes import SelectedField, Selection

from jubao.platform.api.context import Info
from jubao.platform.api.errors import Problem, problem

NodeT = TypeVar("NodeT", bound=relay.Node)
MAX_PAGE = 100
DEFAULT_PAGE = 20

First = Annotated[int, strawberry.argument(description=f"每页条数 — page size, 1–{MAX_PAGE}")]
After = Annotated[
    str | None, strawberry.argument(description="从该游标之后开始 — start after this cursor")
]


@strawberry.type(description="分页列表 — a page of a list")
class Connection(relay.Connection[NodeType]):
    _count: strawberry.Private[Select[Any] | None] = None

    @strawberry.field(description="符合条件的总数 — number of items in the whole list")
    async def total_count(self, info: Info) -> int:
        assert self._count is not None
        async with info.context.session() as session:
            return int(await session.scalar(self._count) or 0)


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def _decode(cursor: str, info: Info) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("k:"):
        raise problem(info.context.lang, Problem.BAD_CURSOR)
    return text[2:]


async def paginate(
    info: Info,
    statement: Select[Any],
    key: Any,
    *,
    first: int,
    after: str | None,
    to_node: Callable[[Any], NodeT],
    key_type: Callable[[str], Any | None] = str,
    preload: Callable[[Sequence[Any]], Awaitable[object]] | None = None,
    newest_first: bool = False,
) -> Connection[NodeT]:
    """One page of ``statement`` ordered by the unique column ``key`` (descending with
    ``newest_first``), after ``after``.
    ``key_type`` turns a cursor's text back into a key, or None if it is not one;
    ``preload`` is given the page's rows before their nodes are resolved (to fill the
    DataLoaders their fields will ask, so those fields need not wait)."""
    if not 1 <= first <= MAX_PAGE:
        raise problem(info.context.lang, Problem.PAGE_SIZE, max=MAX_PAGE)
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    page = statement.order_by(key.desc() if newest_first else key).limit(first + 1)
    if after is not None:
        value = key_type(_decode(after, info))
        if value is None:
            raise problem(info.context.lang, Problem.BAD_CURSOR)
        page = page.where(key < value if newest_first else key > value)
    async with info.context.session() as session:
        rows: Sequence[Any] = (await session.scalars(page)).all()
    has_next = len(rows) > first
    rows = rows[:first]
    if preload is not None and rows:
        await preload(rows)
    edges = [relay.Edge(cursor=_encode(str(_key_of(row, key))), node=to_node(row)) for row in rows]
    return Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        _count=count,
    )


def asks_for(info: Info, *path: str) -> bool:
    """Whether the query asks for the field at ``path`` below the field being resolved
    (looking through fragments; ``@skip``/``@include`` are not evaluated)."""
    return any(_selects(field.selections, path) for field in info.selected_fields)


def _selects(selections: Iterable[Selection], path: Sequence[str]) -> bool:
    name, *rest = path
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name and (not rest or _selects(selection.selections, rest)):
                return True
        elif _selects(selection.selections, path):
            return True
    return False


def _key_of(row: Any, key: Any) -> Any:
    return getattr(row, key.key)
