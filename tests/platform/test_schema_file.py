from pathlib import Path

from jubao.platform.api.schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_current() -> None:
    """schema.graphql is the checked-in contract; regenerate with `jubao schema export`."""
    assert (ROOT / "schema.graphql").read_text(encoding="utf-8") == schema_sdl()


def test_every_type_and_field_the_clients_use_is_documented() -> None:
    sdl = schema_sdl()
    for name in (
        "type Region",
        "type User",
        "type Grant",
        "type Me",
        "enum RoleName",
        "scalar RegionCode",
    ):
        index = sdl.index(name)
        assert sdl[:index].rstrip().endswith('"""'), f"{name} has no description"
