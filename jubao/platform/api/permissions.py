"""Field permissions. Authorization proper happens in the services and the SQL scope; these
only make sure there is a caller."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from jubao.platform.api.context import Info


class LoggedIn(BasePermission):
    message = "Authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raises the localized UNAUTHENTICATED error (with the reason a token was refused).
        return info.context.authenticated is not None
