"""GraphQL types derived from the application forms of `jubao.pension.workflow.forms`.

Each kind's pydantic form is the one definition; from it come the input a front end submits
(``…Input``), the conversion of that input into the stored form, and the typed object read
back (``…Form``, ``…Result``) — camelCase fields, ``Money``, enums, global IDs resolved to the
objects they name (null outside the caller's scope), personal data shown or masked by the
one rule of `jubao.pension.people.personal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, get_args, get_origin

import strawberry
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from strawberry.scalars import JSON
from strawberry.types.base import StrawberryList, StrawberryOptional

from jubao.errors import DomainError
from jubao.pension.month import Month
from jubao.pension.people.persons import PersonError
from jubao.pension.workflow.forms import Money as MoneyMark
from jubao.pension.workflow.forms import (
    Personal,
    Ref,
    Region,
    SchemeYear,
    api_name,
    bare,
    marker,
    nested_model,
)
from jubao.platform.api import enums  # noqa: F401 - registers the domain enums with strawberry
from jubao.platform.api.context import Info
from jubao.platform.api.ids import INT64, int_key_of
from jubao.platform.api.scalars import Money, Year
from jubao.tenants.codes import RegionCode


def _base_type(info: FieldInfo) -> Any:
    """The GraphQL type of one value of a field, before optionality and lists."""
    annotation = _unwrapped(info.annotation)
    if get_origin(annotation) is list:
        annotation = bare(get_args(annotation)[0])
    if marker(info, MoneyMark) is not None:
        return Money
    if marker(info, SchemeYear) is not None:
        return Year
    if marker(info, Region) is not None:
        return RegionCode
    if annotation is dict or get_origin(annotation) is dict:
        return JSON
    if annotation is Month:
        return Month
    if isinstance(annotation, type) and issubclass(annotation, Enum | str | int | bool | date):
        return annotation
    raise TypeError(f"no GraphQL type for {info.annotation!r}")


def _unwrapped(annotation: Any) -> Any:
    """``X`` of ``X | None`` (and of ``Annotated[X, …]``)."""
    annotation = bare(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if args and type(None) in get_args(annotation) and len(args) == 1:
        return bare(args[0])
    return annotation


def _optional(info: FieldInfo) -> bool:
    return type(None) in get_args(info.annotation)


def _is_list(info: FieldInfo) -> bool:
    return get_origin(_unwrapped(info.annotation)) is list


def _wrap(graphql_type: Any, info: FieldInfo) -> Any:
    if _is_list(info):
        graphql_type = StrawberryList(graphql_type)
    return StrawberryOptional(graphql_type) if _optional(info) else graphql_type


# --- input ---------------------------------------------------------------------------------------


_INPUTS: dict[type[BaseModel], type] = {}


def input_type(model: type[BaseModel], name: str | None = None) -> type:
    """The GraphQL input of ``model`` (nested forms get ``<Model>Input``)."""
    if model in _INPUTS:
        return _INPUTS[model]
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        nested = nested_model(info.annotation)
        graphql_type: Any
        if marker(info, Ref) is not None:
            graphql_type = strawberry.ID
        elif nested is not None:
            graphql_type = input_type(nested)
        else:
            graphql_type = _base_type(info)
        annotations[field_name] = _wrap(graphql_type, info)
        default: Any = strawberry.UNSET if info.is_required() else info.default
        if default is not None and marker(info, MoneyMark) is not None:
            default = Money(default)
        namespace[field_name] = strawberry.field(
            name=api_name(field_name, info), description=info.description, default=default
        )
    namespace["__annotations__"] = annotations
    cls = type(name or f"{model.__name__}Input", (), namespace)
    _INPUTS[model] = strawberry.input(cls, description=model.__doc__)
    return _INPUTS[model]


def to_payload(model: type[BaseModel], value: Any, prefix: str = "") -> dict[str, Any]:
    """The stored form (snake_case, fen, database ids) of an input of ``model``'s type. A
    global ID that names no object of the right type is "not found", naming the field."""
    payload: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        given = getattr(value, field_name, None)
        if given is None or given is strawberry.UNSET:
            continue
        path = prefix + api_name(field_name, info)
        ref = marker(info, Ref)
        nested = nested_model(info.annotation)
        if ref is not None:
            keys = [_key(item, ref, path) for item in given] if _is_list(info) else None
            payload[field_name] = keys if keys is not None else _key(given, ref, path)
        elif nested is not None:
            payload[field_name] = to_payload(nested, given, path + ".")
        else:
            payload[field_name] = _plain(given)
    return payload


def _key(global_id: str, ref: Ref, field: str) -> int:
    key = int_key_of(global_id, ref.type_name, INT64)
    if key is None:
        raise DomainError(PersonError.NOT_FOUND, field=field)
    return key


def _plain(value: Any) -> Any:
    if isinstance(value, RegionCode):
        return value.code
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- output ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """Whose form it is, for personal data: where they live and what it is recorded under."""

    region: RegionCode
    subject: str


NodeLoader = Callable[[Info, list[int]], Any]
# Node types that forms refer to, by name: how to load them (scoped: null if not visible).
NODE_LOADERS: dict[str, NodeLoader] = {}


_OUTPUTS: dict[type[BaseModel], type] = {}


def output_type(model: type[BaseModel], name: str | None = None) -> type:
    """The GraphQL object type of ``model``, built from a form instance with `instance`."""
    if model in _OUTPUTS:
        return _OUTPUTS[model]
    namespace: dict[str, Any] = {
        "__annotations__": {
            "form": strawberry.Private[BaseModel],
            "owner": strawberry.Private[Owner],
        }
    }
    for field_name, info in model.model_fields.items():
        namespace[field_name] = _output_field(field_name, info)
    cls = type(name or model.__name__, (), namespace)
    _OUTPUTS[model] = strawberry.type(cls, description=model.__doc__)
    return _OUTPUTS[model]


def instance(model: type[BaseModel], form: BaseModel, owner: Owner) -> Any:
    return output_type(model)(form=form, owner=owner)


def _output_field(field_name: str, info: FieldInfo) -> Any:
    ref, personal, nested = marker(info, Ref), marker(info, Personal), nested_model(info.annotation)
    if ref is not None:
        return _ref_field(field_name, info, ref)
    if nested is not None:
        nested_type = output_type(nested)

        def nested_value(root: Any) -> Any:
            value = getattr(root.form, field_name)
            return None if value is None else nested_type(form=value, owner=root.owner)

        return strawberry.field(
            resolver=nested_value,
            graphql_type=_wrap(nested_type, info),
            name=api_name(field_name, info),
            description=info.description,
        )
    if personal is not None:
        masked_type = date if _unwrapped(info.annotation) is date else str

        def shown(root: Any, info: Info) -> Any:
            value = getattr(root.form, field_name)
            owner = root.owner
            return info.context.disclosure.show(owner.region, owner.subject, personal.kind, value)

        return strawberry.field(
            resolver=shown,
            graphql_type=StrawberryOptional(masked_type),
            name=api_name(field_name, info),
            description=(info.description or "") + "（无权限时脱敏） — masked without the right",
        )

    def plain(root: Any) -> Any:
        return getattr(root.form, field_name)

    return strawberry.field(
        resolver=plain,
        graphql_type=_wrap(_base_type(info), info),
        name=api_name(field_name, info),
        description=info.description,
    )


def _ref_field(field_name: str, info: FieldInfo, ref: Ref) -> Any:
    many = _is_list(info)

    async def load(root: Any, info: Info) -> Any:
        keys = getattr(root.form, field_name)
        if keys is None:
            return None
        found = await NODE_LOADERS[ref.type_name](info, keys if many else [keys])
        return [node for node in found if node is not None] if many else found[0]

    return strawberry.field(
        resolver=load,
        graphql_type=_ref_graphql_type(ref, many),
        name=api_name(field_name, info),
        description=(info.description or "") + ("" if many else "（不在您范围内时为空）"),
    )


_NODE_TYPES: dict[str, type] = {}


def register_node(type_name: str, node_type: type, loader: NodeLoader) -> None:
    """Make ``type_name`` references in forms resolve to ``node_type`` through ``loader``."""
    _NODE_TYPES[type_name] = node_type
    NODE_LOADERS[type_name] = loader


def _ref_graphql_type(ref: Ref, many: bool) -> Any:
    node_type = _NODE_TYPES[ref.type_name]
    return StrawberryList(node_type) if many else StrawberryOptional(node_type)
