"""What campaigns added to a fact that is not an order (a check-in, ...), as its mutation
answers it."""

from __future__ import annotations

import strawberry
from strawberry import relay

from services.campaigns.facts import FactAward


@strawberry.type(
    description="One campaign's reward for a fact: its points are a ledger row of their own "
    "(reference type CAMPAIGN), on top of the fact's own points."
)
class CampaignBonus:
    campaign_code: str = strawberry.field(description="The campaign, by its code.")
    campaign_name: str = strawberry.field(description="The campaign's name.")
    points: int = strawberry.field(
        description="Points the campaign added (0 when it gave only a coupon)."
    )
    coupon_id: relay.GlobalID | None = strawberry.field(
        description="The coupon it issued into the member's wallet (a Coupon's global id); "
        "null when it issued none."
    )

    @classmethod
    def of(cls, award: FactAward) -> CampaignBonus:
        return cls(
            campaign_code=award.code,
            campaign_name=award.name,
            points=award.points,
            coupon_id=(relay.GlobalID("Coupon", str(award.coupon_id)) if award.coupon_id else None),
        )
