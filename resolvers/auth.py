"""Auth failures are top-level errors, never union members, and are never masked."""

from __future__ import annotations

from typing import Any

from domain.auth import Principal, Role


class PublicError(Exception):
    """An error whose message is safe to show in production."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.extensions = {"code": self.code}


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"


class Forbidden(PublicError):
    code = "FORBIDDEN"


class InvalidArgument(PublicError):
    code = "VALIDATION"


def require(info: Any, *roles: Role) -> Principal:
    """The caller's principal, if it has one of `roles` (any role when none are named)."""
    context = info.context
    if context.principal is None:
        raise Unauthenticated(context.auth_error or "send `Authorization: Bearer <key or token>`")
    if roles and context.principal.role not in roles:
        names = " or ".join(r.value for r in roles)
        article = "an" if names[0] in "aeiou" else "a"
        raise Forbidden(f"this needs {article} {names} credential")
    principal: Principal = context.principal
    return principal


STAFF = (Role.ADMIN, Role.STOREFRONT)
ANYONE = (Role.ADMIN, Role.STOREFRONT, Role.MEMBER)
