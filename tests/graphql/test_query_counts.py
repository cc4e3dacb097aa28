"""A list field's SQL statement count does not grow with the list (no N+1)."""

from __future__ import annotations

from contextlib import contextmanager

from tortoise import connections

from domain.auth import Role

MEMBERS_WITH_TIERS = """
query ($first: Int!) {
  members(first: $first) { edges { node { externalId tier { code benefits { code } } } } }
  programme { tiers { code benefits { code } } }
}
"""


@contextmanager
def counting_statements():
    """Counts statements sent through the default connection's client class."""
    client_class = type(connections.get("default"))
    counted = {"n": 0}
    originals = {}
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(client_class, name)
        originals[name] = original

        def wrapper(self, *args, _original=original, **kwargs):
            counted["n"] += 1
            return _original(self, *args, **kwargs)

        setattr(client_class, name, wrapper)
    try:
        yield counted
    finally:
        for name, original in originals.items():
            setattr(client_class, name, original)


async def test_member_list_statements_are_constant_in_its_length(
    gql, make_programme, make_member, make_key
):
    # given two programmes, with 1 and 50 members
    small, large = await make_programme(), await make_programme()
    await make_member(small)
    for _ in range(50):
        await make_member(large)
    small_key, large_key = (
        await make_key(small, Role.STOREFRONT),
        await make_key(large, Role.STOREFRONT),
    )
    # when
    with counting_statements() as one:
        body = await gql(MEMBERS_WITH_TIERS, {"first": 100}, auth=small_key)
    assert len(body["data"]["members"]["edges"]) == 1
    with counting_statements() as fifty:
        body = await gql(MEMBERS_WITH_TIERS, {"first": 100}, auth=large_key)
    assert len(body["data"]["members"]["edges"]) == 50
    # then
    assert one["n"] > 0
    assert fifty["n"] == one["n"]


async def test_a_warm_tier_cache_costs_no_sql_for_tiers(gql, programme, make_member, make_key):
    member = await make_member(programme)
    key = await make_key(programme)
    query = "query ($e: String!) { member(externalId: $e) { tier { code benefits { code } } } }"
    await gql(query, {"e": member.external_id}, auth=key)  # warms the cache
    with counting_statements() as member_only:
        await gql(
            "query ($e: String!) { member(externalId: $e) { externalId } }",
            {"e": member.external_id},
            auth=key,
        )
    with counting_statements() as with_tier:
        await gql(query, {"e": member.external_id}, auth=key)
    assert with_tier["n"] == member_only["n"]


async def test_a_cold_tier_cache_is_filled_once_per_request(
    gql, make_programme, make_member, make_key
):
    # given 50 members and a tier cache just invalidated (as right after a tier write)
    from db import tier_cache
    from tests.fixtures.factories import add_tiers

    programme = await make_programme()
    await add_tiers(programme, [("BASE", 0), ("TOP", 1000)])
    for _ in range(50):
        await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    await gql("{ programme { id } }", auth=key)  # with Redis the key is cached from here on
    await tier_cache.forget_programme_tiers(programme.id)
    # when
    with counting_statements() as cold:
        body = await gql(MEMBERS_WITH_TIERS, {"first": 100}, auth=key)
    with counting_statements() as warm:
        await gql(MEMBERS_WITH_TIERS, {"first": 100}, auth=key)
    # then: the cold request adds only the tier list's own two queries
    assert len(body["data"]["members"]["edges"]) == 50
    assert cold["n"] == warm["n"] + 2


WALLET = """
query ($e: String!) {
  member(externalId: $e) {
    coupons(first: 100) {
      edges { node { code status expiresAt template { code title kind eligibleTierCodes } } }
    }
  }
}
"""


async def test_a_wallets_statements_are_constant_in_its_length(
    gql, programme, make_member, make_key
):
    # given one member with 1 coupon and another with 50, from templates limited to tiers
    from tests.fixtures.coupons import claim, make_template

    templates = [await make_template(programme, eligible_tier_codes=("BRONZE",)) for _ in range(5)]
    one, many = await make_member(programme), await make_member(programme)
    await claim(programme, templates[0], one)
    for n in range(50):
        await claim(programme, templates[n % 5], many)
    key = await make_key(programme, Role.STOREFRONT)
    await gql(WALLET, {"e": one.external_id}, auth=key)  # warms the tier cache
    # when
    with counting_statements() as small:
        body = await gql(WALLET, {"e": one.external_id}, auth=key)
    assert len(body["data"]["member"]["coupons"]["edges"]) == 1
    with counting_statements() as large:
        body = await gql(WALLET, {"e": many.external_id}, auth=key)
    edges = body["data"]["member"]["coupons"]["edges"]
    # then
    assert len(edges) == 50
    assert {e["node"]["template"]["eligibleTierCodes"][0] for e in edges} == {"BRONZE"}
    assert large["n"] == small["n"]


MEMBER_PAGE = """
query ($e: String!) {
  member(externalId: $e) {
    externalId displayName
    tier { code name }
    tierProgress { amountToNext nextTier { code } }
    benefits { code title kind value }
    points { available pending spendable expiringWithin(days: 30) { amount expiresAt } }
    coupons(first: 50) { edges { node { code status expiresAt template { code title kind } } } }
    transactions(first: 50) { edges { node { kind amount createdAt } } }
    recommendations(first: 10) { sku reason }
  }
}
"""


async def member_with(programme, make_member, n: int):
    """A member with n benefits on its tier, n coupons and n ledger rows."""
    import uuid

    from domain.tiers import BenefitKind
    from services import tiers as tier_service
    from services.points import admin as points_admin
    from tests.fixtures.coupons import claim, make_template
    from tests.fixtures.factories import admin_of

    admin = admin_of(programme)
    for b in range(n):
        await tier_service.upsert_benefit(
            admin,
            tier_code="BRONZE",
            code=f"PERK_{b}",
            title=f"Perk {b}",
            kind=BenefitKind.EARLY_ACCESS,
            value=0,
            description="",
            idempotency_key=uuid.uuid4().hex,
        )
    member = await make_member(programme)
    template = await make_template(programme)
    for _ in range(n):
        await claim(programme, template, member)
        await points_admin.adjust(
            admin,
            member_external_id=member.external_id,
            amount=5,
            reason="test",
            idempotency_key=uuid.uuid4().hex,
        )
    return member


async def test_a_member_pages_statements_do_not_grow_with_coupons_benefits_or_transactions(
    gql, make_programme, make_member, make_key
):
    # given the same page for a member with 1 of each and one with 50 of each
    from tests.fixtures.factories import add_tiers

    counts = {}
    for n in (1, 50):
        programme = await make_programme()
        await add_tiers(programme, [("BRONZE", 0), ("SILVER", 10_000)])
        member = await member_with(programme, make_member, n)
        key = await make_key(programme, Role.STOREFRONT)
        await gql(MEMBER_PAGE, {"e": member.external_id}, auth=key)  # warms the tier cache
        # when
        with counting_statements() as counted:
            body = await gql(MEMBER_PAGE, {"e": member.external_id}, auth=key)
        page = body["data"]["member"]
        assert len(page["benefits"]) == n
        assert len(page["coupons"]["edges"]) == n
        assert len(page["transactions"]["edges"]) == n
        counts[n] = counted["n"]
    # then
    assert counts[1] == counts[50], counts
