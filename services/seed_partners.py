"""The demo's partner (services/seed_history.py plans it): Rail Miles, made as the README's
Partners section makes one (its Sky Miles is left to the reader), linked to a few members,
with miles credited in and points sent out through the year (one rejected by the partner)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from domain.auth import Principal, Role
from domain.partners import DirectionTerms, PartnerTerms, Rate
from services.partners import admin as partner_admin
from services.partners import credits, links, transfers

if TYPE_CHECKING:
    from services.seed_history import Year

CODE = "railmiles"
TERMS = PartnerTerms(
    inbound=DirectionTerms(rate=Rate(10, 1), min_points=10, max_points=50_000),
    outbound=DirectionTerms(rate=Rate(1, 8), min_points=100, max_points=20_000),
)
CREDIT_DAYS = (50, 140, 230, 300)  # days into the year; miles in
TRANSFER_DAYS = (100, 200, 320)  # points out


def partner_member_id(n: int) -> str:
    return f"RM-{n:04d}"


class DemoPartner:
    def __init__(self, members: list[int]) -> None:
        self.members = members  # linked members, by number
        self.principal: Principal | None = None

    def plan(self, year: Year) -> None:
        if not self.members:
            return
        year.at(year.start + timedelta(days=40), partial(self._create, year))
        for day in CREDIT_DAYS:
            for n in self.members:
                year.at(year.start + timedelta(days=day, hours=3), self._credit_step(day, n))
        for day in TRANSFER_DAYS:
            for n in self.members:
                year.at(year.start + timedelta(days=day, hours=5), self._send_step(year, day, n))

    async def _create(self, year: Year) -> None:
        partner = await partner_admin.create(
            year.admin, code=CODE, name="Rail Miles", terms=TERMS, idempotency_key="seed-partner"
        )
        key = await partner_admin.issue_key(year.admin, code=CODE, label="demo partner (seed)")
        self.principal = Principal(
            programme_id=year.programme_id, role=Role.PARTNER, key_id=key.id, partner_id=partner.id
        )
        for n in self.members:
            await links.link_by_member(
                year.admin,
                partner_code=CODE,
                partner_member_id=partner_member_id(n),
                member_external_id=f"cust-{n:04d}",
                share_balance=True,
                idempotency_key=f"seed-partner-link-{n}",
            )

    def _credit_step(self, day: int, n: int) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            assert self.principal is not None
            await credits.credit(
                self.principal,
                partner_transfer_id=f"RM-T-{day}-{n}",
                partner_member_id=partner_member_id(n),
                partner_units=1_000 + 250 * n,
            )

        return step

    def _send_step(self, year: Year, day: int, n: int) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            assert self.principal is not None
            member = await year.member(n)
            if member.points_available - member.points_held < 300:
                return
            sent = await transfers.request(
                year.admin,
                partner_code=CODE,
                points=200,
                member_external_id=member.external_id,
                idempotency_key=f"seed-partner-out-{day}-{n}",
            )
            if day == TRANSFER_DAYS[0] and n == self.members[0]:
                await transfers.reject(
                    self.principal, transfer_id=sent.id, reason="account closed at the railway"
                )
            else:
                await transfers.confirm(
                    self.principal, transfer_id=sent.id, partner_reference=f"RM-C-{sent.id}"
                )

        return step
