"""`Authorization: Bearer <secret>` -> Principal. The programme comes from the credential only."""

from __future__ import annotations

from domain.auth import KEY_PREFIX, Principal
from services import keys as key_service
from services import tokens as token_service
from services.tokens import TokenSettings

INVALID = "invalid or revoked credential"


async def authenticate(
    header: str | None, tokens: TokenSettings
) -> tuple[Principal | None, str | None]:
    """(principal, None), or (None, why) when a credential was sent but is no good."""
    if not header:
        return None, None
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return None, "use `Authorization: Bearer <key or token>`"
    if secret.startswith(KEY_PREFIX + "_"):
        principal = await key_service.authenticate_key(secret)
    else:
        principal = token_service.verify(secret, tokens)
        if principal is not None and not await token_service.holder_active(principal):
            principal = None  # an erased member's tokens are refused from then on
    return (principal, None) if principal else (None, INVALID)
