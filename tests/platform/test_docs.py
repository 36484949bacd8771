"""The docs must say what the code does: the role table, the GraphQL examples."""

from pathlib import Path

from jubao.authz.roles import ROLES
from jubao.authz.vocabulary import Act

DOC = Path(__file__).resolve().parents[2] / "docs" / "administration.md"


def catalogue_table() -> str:
    lines = [
        "| role | 名称 | granted at | may act on | may read |",
        "|---|---|---|---|---|",
    ]
    for role in ROLES:
        acts = [
            f"{act.value}: " + ", ".join(sorted(o.value for o in role.objects_with(act)))
            for act in (Act.PROCESS, Act.REVIEW, Act.ADMIN)
            if role.objects_with(act)
        ]
        levels = f"{role.min_level.name.lower()}–{role.max_level.name.lower()}"
        reads = ", ".join(sorted(o.value for o in role.objects_with(Act.READ)))
        lines.append(
            f"| `{role.name}` | {role.zh} | {levels} | {'; '.join(acts) or '—'} | {reads} |"
        )
    return "\n".join(lines)


def test_the_role_table_matches_the_catalogue() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- roles -->") + len("<!-- roles -->")
    end = text.index("<!-- /roles -->")
    assert text[start:end].strip() == catalogue_table(), (
        "docs/administration.md is stale; paste tests.platform.test_docs.catalogue_table()"
    )


def test_the_graphql_examples_in_the_docs_are_valid() -> None:
    import re

    from graphql import LoneAnonymousOperationRule, parse, specified_rules, validate

    from jubao.platform.api.schema import build_schema

    schema = build_schema()._schema
    # a block may show several operations side by side
    rules = [rule for rule in specified_rules if rule is not LoneAnonymousOperationRule]
    root = DOC.parents[1]
    for doc in (root / "README.md", root / "docs" / "api.md"):
        blocks = re.findall(r"```graphql\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
        assert blocks, doc
        for block in blocks:
            errors = validate(schema, parse(block), rules)
            assert not errors, f"{doc.name}: {errors}\n{block}"
