"""Admin: create, change and suspend partners, and issue their keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Partner
from db.repositories import partners as partner_repo
from domain.auth import Principal, Role
from domain.errors import AlreadyExists, Collector, NotFound
from domain.idempotency import check_key
from domain.partners import PartnerStatus, PartnerTerms, check_code, check_terms
from services import keys as key_service
from services.clock import wall_now
from services.idempotency import run_once
from services.keys import IssuedKey

NAME_MAX = 100


def _check_name(errors: Collector, name: str) -> None:
    if not 1 <= len(name.strip()) <= NAME_MAX or not name.isprintable():
        errors.add("name", f"1-{NAME_MAX} printable characters")


async def by_code(principal: Principal, code: str, *, field: str = "partnerCode") -> Partner:
    """The programme's partner with this code, or NOT_FOUND."""
    errors = Collector()
    check_code(errors, code, field)
    partner = None if errors.errors else await partner_repo.by_code(principal.programme_id, code)
    if partner is None:
        raise NotFound("no partner with this code", field=field)
    return partner


async def create(
    principal: Principal, *, code: str, name: str, terms: PartnerTerms, idempotency_key: str
) -> Partner:
    errors = Collector()
    check_key(errors, idempotency_key)
    check_code(errors, code)
    _check_name(errors, name)
    check_terms(errors, terms)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        if await partner_repo.by_code(principal.programme_id, code) is not None:
            raise AlreadyExists("a partner with this code exists", field="code")
        row = await partner_repo.create(
            programme_id=principal.programme_id,
            code=code,
            name=name.strip(),
            terms=terms.to_json(),
            now=wall_now(),
        )
        return {"partnerId": row.id}

    payload = {"code": code, "name": name, "terms": terms.to_json()}
    result = await run_once(
        principal, key=idempotency_key, operation="createPartner", payload=payload, action=act
    )
    return await Partner.get(id=int(result["partnerId"]))


async def update(
    principal: Principal, *, code: str, name: str | None, terms: PartnerTerms | None
) -> Partner:
    """New terms replace the old ones whole and apply to transfers from now on; transfers
    already made keep the rate they were made at (it is on each transfer)."""
    errors = Collector()
    if name is not None:
        _check_name(errors, name)
    if terms is not None:
        check_terms(errors, terms)
    errors.raise_if_any()
    partner = await by_code(principal, code, field="code")
    changed = ["updated_at"]
    if name is not None:
        partner.name = name.strip()
        changed.append("name")
    if terms is not None:
        partner.terms = terms.to_json()
        changed.append("terms")
    partner.updated_at = wall_now()
    await partner_repo.save(partner, *changed)
    return partner


async def set_status(principal: Principal, *, code: str, suspended: bool) -> Partner:
    """A suspended partner's keys still authenticate but every partner operation answers
    PARTNER_SUSPENDED; pending transfers out can still be confirmed or rejected."""
    partner = await by_code(principal, code, field="code")
    partner.status = (PartnerStatus.SUSPENDED if suspended else PartnerStatus.ACTIVE).value
    partner.updated_at = wall_now()
    await partner_repo.save(partner, "status", "updated_at")
    return partner


async def issue_key(
    principal: Principal, *, code: str, label: str, expires_at: datetime | None = None
) -> IssuedKey:
    """A `lk_partner_…` key for one partner, shown once. Not idempotent by design: a retry
    issues another key (the secret is not kept, so it cannot be replayed); revoke the spare."""
    errors = Collector()
    if len(label) > 100 or not label.isprintable():
        errors.add("label", "at most 100 printable characters")
    errors.raise_if_any()
    partner = await by_code(principal, code, field="partnerCode")
    return await key_service.create_key(
        principal.programme_id,
        Role.PARTNER,
        label=label,
        expires_at=expires_at,
        partner_id=partner.id,
    )


async def revoke_key(principal: Principal, *, display_prefix: str) -> int:
    errors = Collector()
    if not display_prefix.startswith("lk_partner_") or len(display_prefix) > 32:
        errors.add("displayPrefix", "the partner key's displayed prefix (lk_partner_…)")
    errors.raise_if_any()
    return await key_service.revoke_key(principal.programme_id, display_prefix)
