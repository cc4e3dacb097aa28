"""The demo's points mall: seeded once with the programme, open to its members."""

from __future__ import annotations

from db.models import Reward as RewardRow
from domain.auth import Principal, Role
from domain.paging import page_request
from services import seed
from services.rewards import catalogue


async def test_the_demo_has_a_small_catalogue_seeded_once(monkeypatch):
    # given the demo seeded, and seeded again
    monkeypatch.setattr(seed, "DEMO_CODE", "demo-rewards-test")
    result = await seed.seed_demo(member_count=3)
    again = await seed.seed_demo(member_count=3)
    assert not again.created
    # then it has the three rewards, once each
    rows = await RewardRow.filter(programme_id=result.programme_id).order_by("id")
    assert [(r.code, r.kind, r.points_price, r.cash_price, r.total_stock) for r in rows] == [
        ("TUMBLER", "PRODUCT", 1200, 0, 100),
        ("COUPON-10PCT", "COUPON", 500, 0, None),
        ("TEA-SET", "PRODUCT", 500, 3000, 50),
    ]
    tea = rows[2]
    assert (tea.per_member_limit, tea.limit_period) == (1, "MONTH")
    # and a demo member's catalogue lists them all, the coupon naming its template
    member = Principal(programme_id=result.programme_id, role=Role.STOREFRONT, key_id=-2)
    views, more = await catalogue.page(
        member,
        page_request(first=10),
        member_external_id="cust-0001",
        category=None,
        status=None,
        affordable=False,
    )
    assert [v.reward.code for v in views] == ["TUMBLER", "COUPON-10PCT", "TEA-SET"]
    assert not more
    assert views[1].coupon_template_code == "10PCT"
    assert {v.currency for v in views} == {"CNY"}
