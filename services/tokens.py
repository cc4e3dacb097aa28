"""Member tokens: short-lived HS256 JWTs a storefront mints for its signed-in customer.

Validated as RFC 8725 asks: algorithm pinned; iss, aud and exp checked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from db import invalidation
from domain.auth import MEMBER_TOKEN_MAX_SECONDS, Principal, Role
from domain.errors import NotFound, invalid
from services import members as member_service
from services.clock import wall_now

ALGORITHM = "HS256"
ROW_ID_MAX = 2**31 - 1  # programme and member ids are PostgreSQL integers


@dataclass(frozen=True)
class TokenSettings:
    """`secret` signs, under `kid`; every (kid, secret) of `verifying` verifies (the signing one
    included). Rotation without downtime: add the new secret first in LOYALTY_JWT_SECRETS,
    keep the old ones listed until the tokens they signed have expired (15 minutes)."""

    issuer: str
    audience: str
    secret: str
    kid: str = "default"
    verifying: tuple[tuple[str, str], ...] = ()

    def secret_for(self, kid: str) -> str | None:
        return dict(self.all_secrets).get(kid)

    @property
    def all_secrets(self) -> tuple[tuple[str, str], ...]:
        return self.verifying or ((self.kid, self.secret),)


@dataclass(frozen=True)
class MemberToken:
    token: str
    expires_at: datetime
    member_id: int


async def issue(
    principal: Principal, settings: TokenSettings, *, external_id: str, ttl_seconds: int
) -> MemberToken:
    if not 60 <= ttl_seconds <= MEMBER_TOKEN_MAX_SECONDS:
        raise invalid("ttlSeconds", f"must be 60-{MEMBER_TOKEN_MAX_SECONDS}")
    member = await member_service.find_by_external_id(principal, external_id)
    if member is None:
        raise NotFound("no member with this externalId", field="externalId")
    issued = wall_now()
    expires = issued + timedelta(seconds=ttl_seconds)
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": str(member.id),
        "pid": principal.programme_id,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    token = jwt.encode(claims, settings.secret, algorithm=ALGORITHM, headers={"kid": settings.kid})
    return MemberToken(token=token, expires_at=expires.replace(microsecond=0), member_id=member.id)


def _secrets_for(token: str, settings: TokenSettings) -> list[str]:
    """The secret its `kid` names; a token without a `kid` (minted before kids) is tried
    against each configured secret. An unknown `kid` verifies against nothing."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return []
    if kid is None:
        return [secret for _, secret in settings.all_secrets]
    found = settings.secret_for(kid) if isinstance(kid, str) else None
    return [found] if found else []


def _decode(token: str, secret: str, settings: TokenSettings) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "pid"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


def verify(token: str, settings: TokenSettings) -> Principal | None:
    """The algorithm is pinned, so `alg: none` or an RS/HS confusion cannot pass."""
    claims = None
    for secret in _secrets_for(token, settings):
        claims = _decode(token, secret, settings)
        if claims is not None:
            break
    if claims is None:
        return None
    if claims["exp"] - claims["iat"] > MEMBER_TOKEN_MAX_SECONDS:
        return None
    programme_id, member_id = _row_id(claims["pid"]), _row_id(claims["sub"])
    if programme_id is None or member_id is None:
        return None
    return Principal(programme_id=programme_id, role=Role.MEMBER, member_id=member_id)


async def holder_active(principal: Principal) -> bool:
    """The token's member still exists and is not erased: asked on every member request, so
    a yes is kept in this process while it listens for invalidations (erasure publishes)."""
    assert principal.member_id is not None
    name = invalidation.member_active_name(principal.programme_id, principal.member_id)
    if invalidation.local.get(name) is True:
        return True
    epoch = invalidation.local.epoch
    active = await member_service.token_holder_active(principal)
    if active:
        invalidation.local.put(name, True, epoch)
    return active


def _row_id(claim: object) -> int | None:
    """A claim naming a row: an int or a string of digits, in the id column's range (a
    signed token we never issued, e.g. after the secret leaked, must not reach the driver
    with a number it cannot bind)."""
    if isinstance(claim, bool) or not isinstance(claim, int | str):
        return None
    if isinstance(claim, str) and not (claim.isascii() and claim.isdigit() and len(claim) <= 10):
        return None
    value = int(claim)
    return value if 1 <= value <= ROW_ID_MAX else None


EXPORT_SECONDS = 300


def export_audience(settings: TokenSettings) -> str:
    """Export links are signed like member tokens but for another audience: one can never be
    used as the other."""
    return f"{settings.audience}:export"


def sign_export(
    settings: TokenSettings, *, programme_id: int, member_id: int
) -> tuple[str, datetime]:
    issued = wall_now()
    expires = issued + timedelta(seconds=EXPORT_SECONDS)
    claims = {
        "iss": settings.issuer,
        "aud": export_audience(settings),
        "sub": str(member_id),
        "pid": programme_id,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    token = jwt.encode(claims, settings.secret, algorithm=ALGORITHM, headers={"kid": settings.kid})
    return token, expires.replace(microsecond=0)


def verify_export(token: str, settings: TokenSettings) -> tuple[int, int] | None:
    """(programme id, member id) of a valid export link."""
    for secret in _secrets_for(token, settings):
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=export_audience(settings),
                issuer=settings.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "pid"]},
            )
        except jwt.PyJWTError:
            continue
        programme_id, member_id = _row_id(claims["pid"]), _row_id(claims["sub"])
        if programme_id is None or member_id is None:
            return None
        return programme_id, member_id
    return None
