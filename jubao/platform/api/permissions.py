"""Field permissions. Authorization proper happens in the services and the SQL scope; these
only make sure there is a caller."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from jubao.platform.api.context import Info
from jubao.platform.api.errors import Problem, problem

# What an operator whose password someone else set may still do: see who they are, set theirs.
_BEFORE_OWN_PASSWORD = frozenset({"me", "passwordChange"})


class LoggedIn(BasePermission):
    message = "Authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raises the localized UNAUTHENTICATED error (with the reason a token was refused).
        authenticated = info.context.authenticated
        if authenticated.operator.password_expired and info.field_name not in _BEFORE_OWN_PASSWORD:
            raise problem(info.context.lang, Problem.PASSWORD_CHANGE_REQUIRED)
        return True
