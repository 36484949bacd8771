"""Application forms: one pydantic model per kind is the only definition of what a form holds.

The model is the stored payload (snake_case JSON, amounts in fen), and the API derives from it
both the GraphQL input a front end submits and the typed form and result it reads back
(`jubao.platform.api.forms`). The fields carry what the derivations and the checks need to
know, as ``Annotated`` metadata:

- `MONEY`: an amount in fen (the API's ``Money``, yuan with two places);
- `YEAR`: a scheme year (the API's ``Year``);
- `Region`: a 12-digit region code (the API's ``RegionCode``);
- `Ref`: the database id of another object (the API takes and gives its global ID, and names
  the field without ``_id``: ``person_id`` is ``person``, ``person_ids`` is ``persons``);
- `Personal`: personal data, shown masked to those without the right to see it;
- a `jubao.text.TextField`: free text, cleaned by the one text rule.

The model checks only the shape (types): a submission through the API has that shape by
construction, so a failure there is a stored payload or a caller bypassing the API, and is
refused without echoing library text. Every rule a person can break is checked by the kind's
handler, with its own error code and the field named as the API names it (`api_name`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from jubao.errors import DomainError, ErrorCode
from jubao.text import TextField

log = logging.getLogger("jubao.forms")
F = TypeVar("F", bound=BaseModel)


@dataclass(frozen=True)
class Money:
    """An amount in fen."""


@dataclass(frozen=True)
class SchemeYear:
    """A calendar year of the scheme."""


@dataclass(frozen=True)
class Region:
    """A 12-digit region code."""


@dataclass(frozen=True)
class Ref:
    """The id of an object of ``type_name`` (a GraphQL node type)."""

    type_name: str


@dataclass(frozen=True)
class Personal:
    """Personal data of the kind ``kind`` (a key of `jubao.pension.people.personal.MASKS`)."""

    kind: str


MONEY = Money()
YEAR = SchemeYear()
Amount = Annotated[int, MONEY]
Year = Annotated[int, YEAR]
RegionCodeText = Annotated[str, Region()]
PersonRef = Annotated[int, Ref("Person")]
PersonRefs = Annotated[list[int], Ref("Person")]


class FormError(ErrorCode):
    SHAPE = (
        "申请内容格式不正确（{name}）",
        "The request is not in the form's shape ({name})",
    )


def marker(info: FieldInfo, kind: type[Any]) -> Any:
    """The field's metadata item of type ``kind``, or None (also inside ``X | None`` and
    ``list[X]``, where pydantic leaves it in the annotation)."""
    return next(
        (m for m in (*info.metadata, *_inner(info.annotation)) if isinstance(m, kind)), None
    )


def _inner(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        return [*extras, *_inner(base)]
    return [item for arg in get_args(annotation) for item in _inner(arg)]


def bare(annotation: Any) -> Any:
    """The type under ``Annotated``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def api_name(name: str, info: FieldInfo | None = None) -> str:
    """The name the API gives a form field: camelCase, and a reference without its ``_id``."""
    if info is not None and marker(info, Ref) is not None:
        name = name.removesuffix("_ids") + "s" if name.endswith("_ids") else name
        name = name.removesuffix("_id")
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def optional(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return (origin is Union or origin is UnionType) and NoneType in get_args(annotation)


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The form model a field holds (directly or optionally), if it holds one."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def read_form(model: type[F], data: dict[str, Any]) -> F:
    """``data`` as a ``model`` form: its shape checked, every free-text field cleaned by its
    rule (`DomainError` naming the field as the API does)."""
    try:
        form = model.model_validate(data)
    except ValidationError as error:
        # Library text names internals and is English: logged, not shown.
        path = _path(model, error.errors()[0]["loc"])
        log.warning("form %s refused: %s", model.__name__, error)
        raise DomainError(FormError.SHAPE, field=path, name=path) from None
    return _cleaned(form, "")


def _path(model: type[BaseModel], loc: Iterable[Any]) -> str:
    names = []
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            break
        info = current.model_fields[part]
        names.append(api_name(part, info))
        current = nested_model(info.annotation)
    return ".".join(names) or "input"


def _cleaned(form: F, prefix: str) -> F:
    updates: dict[str, Any] = {}
    for name, info in type(form).model_fields.items():
        value = getattr(form, name)
        path = prefix + api_name(name, info)
        rule = marker(info, TextField)
        if rule is not None and value is not None:
            updates[name] = (
                rule.optional(value, field=path)
                if rule.blank_is_none
                else rule.clean(value, field=path)
            )
        elif isinstance(value, BaseModel):
            updates[name] = _cleaned(value, path + ".")
    return form.model_copy(update=updates) if updates else form
