"""Every refusal a mutation's services can raise is a declared code, and every field it names
is a field of a mutation's input (read from the source of the services behind the mutations,
so that a new refusal cannot turn into a masked internal error or point at nothing)."""

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNamedType, GraphQLNonNull

from jubao.platform.api.schema import build_schema
from jubao.platform.api.user_errors import UserErrorCode

ROOT = Path(__file__).resolve().parents[2]
# The services behind the mutations: what they import (within jubao, outside the platform
# layer) is what they can raise.
ENTRY_MODULES = (
    "jubao.pension.workflow.kinds",
    "jubao.pension.workflow.engine",
    "jubao.authz.operators",
    "jubao.authz.grants",
    "jubao.authz.login",
    "jubao.platform.tokens",
    "jubao.platform.api.forms",
    "jubao.platform.api.applications",
    "jubao.platform.api.users",
    "jubao.platform.api.grants",
    "jubao.platform.api.auth",
)


def source_of(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def reachable() -> Iterator[tuple[str, ast.Module]]:
    seen: set[str] = set()
    todo = list(ENTRY_MODULES)
    while todo:
        module = todo.pop()
        if module in seen or not source_of(module).exists():
            continue
        seen.add(module)
        tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
        yield module, tree
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.startswith("jubao.") and not name.startswith("jubao.platform"):
                    todo.append(name)
                    # `from jubao.pension.workflow import engine as workflow` names a module too
                    if isinstance(node, ast.ImportFrom):
                        todo.extend(f"{name}.{a.name}" for a in node.names)


def domain_errors(tree: ast.Module) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "DomainError"
        ):
            yield node


def test_every_code_a_mutation_can_raise_is_declared() -> None:
    declared = {member.name for member in UserErrorCode}
    raised = {}
    for module, tree in reachable():
        for call in domain_errors(tree):
            code = call.args[0] if call.args else None
            if isinstance(code, ast.Attribute) and isinstance(code.value, ast.Name):
                raised[f"{code.value.id}.{code.attr}"] = (module, call.lineno)
    assert len(raised) > 100  # the scan reaches the services
    missing = {name: where for name, where in raised.items() if name.split(".")[1] not in declared}
    assert missing == {}


def input_paths() -> set[str]:
    """Every field of every mutation's input, dotted below nested inputs, and of the query
    filters (``where.…``)."""
    schema = build_schema()._schema

    def named(kind: object) -> GraphQLNamedType:
        while isinstance(kind, GraphQLNonNull | GraphQLList):
            kind = kind.of_type
        return kind  # type: ignore[return-value]

    def paths(kind: GraphQLNamedType, prefix: str) -> Iterator[str]:
        if isinstance(kind, GraphQLInputObjectType):
            for name, field in kind.fields.items():
                yield prefix + name
                yield from paths(named(field.type), f"{prefix}{name}.")

    found: set[str] = set()
    assert schema.mutation_type is not None and schema.query_type is not None
    for field in schema.mutation_type.fields.values():
        for argument in field.args.values():
            found |= set(paths(named(argument.type), ""))
    for field in schema.query_type.fields.values():
        if "where" in field.args:
            found |= set(paths(named(field.args["where"].type), "where."))
    return found


def named_fields(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Field names written in the source: ``field="…"`` arguments and defaults, and the first
    argument of a ``TextField``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "field" and isinstance(keyword.value, ast.Constant):
                    yield keyword.value.value, node.lineno
            if isinstance(node.func, ast.Name) and node.func.id == "TextField" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    yield first.value, node.lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            positional = arguments.posonlyargs + arguments.args
            pairs = list(
                zip(
                    positional[len(positional) - len(arguments.defaults) :],
                    arguments.defaults,
                    strict=True,
                )
            )
            pairs += [
                (a, d)
                for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
                if d
            ]
            for arg, default in pairs:
                if arg.arg == "field" and isinstance(default, ast.Constant) and default.value:
                    yield default.value, node.lineno


def test_every_field_named_is_a_field_of_an_input() -> None:
    allowed = input_paths()
    assert {"idNumber", "changes.name", "persons", "parameters", "application"} <= allowed
    wrong = sorted(
        (module, line, name)
        for module, tree in reachable()
        for name, line in named_fields(tree)
        if name not in allowed
    )
    assert wrong == []


def test_the_scan_sees_the_modules_it_should() -> None:
    names = {module for module, _ in reachable()}
    for module in (
        "jubao.pension.accounts.contributions",
        "jubao.pension.people.enrollment",
        "jubao.text",
    ):
        assert module in names
        importlib.import_module(module)
