"""See tests/conftest.py for the shared `acting` fixture."""

from tests.conftest import ActorFor

__all__ = ["ActorFor"]
