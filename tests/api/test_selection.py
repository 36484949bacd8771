"""Look-ahead: whether a query asks for a field below the one being resolved."""

from types import SimpleNamespace

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from jubao.platform.api.pagination import asks_for


def field(name: str, *selections: Selection) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments={}, selections=list(selections))


def info(*selections: Selection):  # type: ignore[no-untyped-def]
    return SimpleNamespace(selected_fields=[field("persons", *selections)])


def test_a_field_asked_for_directly_or_through_fragments_is_seen() -> None:
    direct = info(field("edges", field("node", field("name"), field("account", field("total")))))
    inline = info(field("edges", field("node", InlineFragment("Person", [field("account")], {}))))
    named = info(
        FragmentSpread(
            "page", "PersonConnection", {}, [field("edges", field("node", field("account")))]
        )
    )
    for asked in (direct, inline, named):
        assert asks_for(asked, "edges", "node", "account")


def test_a_field_not_asked_for_or_elsewhere_is_not_seen() -> None:
    assert not asks_for(
        info(field("edges", field("node", field("name")))), "edges", "node", "account"
    )
    # the same name at another depth, or a fragment named like the field, does not count
    assert not asks_for(info(field("account")), "edges", "node", "account")
    assert not asks_for(
        info(field("edges", FragmentSpread("account", "Edge", {}, []))), "edges", "account"
    )
