"""Tier lookups go through the cache; writes invalidate; Redis trouble falls back to the database."""

from __future__ import annotations

from db import tier_cache
from db.cache import CACHE_FALLBACKS, InProcessCache, RedisCache, programme_key
from domain.tiers import BenefitKind, TierDraft
from services import members as member_service
from services import tiers as tier_service
from tests.conftest import TEST_REDIS_URL, needs_redis
from tests.fixtures.factories import admin_of


class CountingCache(InProcessCache):
    def __init__(self) -> None:
        super().__init__()
        self.hits = 0

    async def get(self, key: str) -> bytes | None:
        value = await super().get(key)
        self.hits += value is not None
        return value


async def test_keys_carry_the_programme(programme):
    assert tier_cache.tiers_key(programme.id).startswith(programme_key(programme.id))
    assert tier_cache.tiers_key(1) != tier_cache.tiers_key(2)
    assert tier_cache.member_tier_key(1, 5) != tier_cache.member_tier_key(2, 5)


async def test_second_lookup_is_served_from_the_cache(programme):
    cache = CountingCache()
    first = await tier_cache.programme_tiers(programme.id, cache)
    second = await tier_cache.programme_tiers(programme.id, cache)
    assert second == first and [t.code for t in first] == ["BRONZE", "SILVER", "GOLD"]
    assert cache.hits == 1


async def test_tier_and_benefit_writes_invalidate_the_programme_tiers(programme):
    # given a warm cache
    before = await tier_cache.programme_tiers(programme.id)
    assert before[1].name == "Silver"
    # when an admin renames a tier and adds a benefit
    await tier_service.upsert_tier(
        admin_of(programme),
        TierDraft("SILVER", "Argent", 1, 10_000, None),
        idempotency_key="rename",
    )
    await tier_service.upsert_benefit(
        admin_of(programme),
        tier_code="SILVER",
        code="SHIP",
        title="Free shipping",
        kind=BenefitKind.FREE_SHIPPING,
        value=0,
        description="",
        idempotency_key="ship",
    )
    # then the next lookup sees both
    after = await tier_cache.programme_tiers(programme.id)
    assert after[1].name == "Argent"
    assert [b.code for b in after[1].benefits] == ["SHIP"]


async def test_member_tier_change_is_seen_at_once(programme, make_member):
    member = await make_member(programme)
    tiers = await tier_cache.programme_tiers(programme.id)
    assert (await tier_cache.member_tier(programme.id, member.id)).code == "BRONZE"
    await member_service.change_tier(
        admin_of(programme), member, tier_id=tiers[2].id, at=member.joined_at
    )
    assert (await tier_cache.member_tier(programme.id, member.id)).code == "GOLD"


@needs_redis
async def test_a_second_redis_client_sees_a_change_at_once(programme, make_member):
    """As a second server process would: its own client, the same Redis."""
    one, two = RedisCache(TEST_REDIS_URL), RedisCache(TEST_REDIS_URL)
    try:
        member = await make_member(programme)
        tiers = await tier_cache.programme_tiers(programme.id, one)
        # both warm
        assert (await tier_cache.member_tier(programme.id, member.id, one)).code == "BRONZE"
        assert (await tier_cache.member_tier(programme.id, member.id, two)).code == "BRONZE"
        assert await two.get(tier_cache.member_tier_key(programme.id, member.id)) is not None
        # when the services change the tier and the ladder (invalidating through the
        # configured cache, which in this run is the same Redis)
        await member_service.change_tier(
            admin_of(programme), member, tier_id=tiers[1].id, at=member.joined_at
        )
        await tier_service.upsert_tier(
            admin_of(programme), TierDraft("GOLD", "Or", 2, 50_000, None), idempotency_key="or"
        )
        # then the other client's next lookups see it
        assert (await tier_cache.member_tier(programme.id, member.id, two)).code == "SILVER"
        assert (await tier_cache.programme_tiers(programme.id, two))[2].name == "Or"
    finally:
        await one.close()
        await two.close()


async def test_redis_down_falls_back_to_the_database(programme, make_member):
    # given a cache pointing at a port where nothing listens
    dead = RedisCache("redis://127.0.0.1:1/0", timeout=0.2)
    member = await make_member(programme)
    before = CACHE_FALLBACKS.labels("get")._value.get()
    try:
        # when
        tiers = await tier_cache.programme_tiers(programme.id, dead)
        tier = await tier_cache.member_tier(programme.id, member.id, dead)
        # then the lookups still answer, and the fallback is counted
        assert [t.code for t in tiers] == ["BRONZE", "SILVER", "GOLD"]
        assert tier is not None and tier.code == "BRONZE"
        assert CACHE_FALLBACKS.labels("get")._value.get() > before
        assert await dead.ping() is False
    finally:
        await dead.close()


async def test_in_process_cache_is_bounded_and_expires():
    cache = InProcessCache(max_entries=2)
    await cache.set("a", b"1")
    await cache.set("b", b"2")
    await cache.set("c", b"3")
    assert await cache.get("a") is None and await cache.get("c") == b"3"
    await cache.set("short", b"x", ttl=-1)
    assert await cache.get("short") is None


async def test_a_reader_that_loaded_before_a_write_cannot_park_stale_tiers(programme, monkeypatch):
    """The race: read rows (old) -> writer commits and invalidates -> reader stores old rows."""
    from db.repositories import tiers as tier_repo

    cache = InProcessCache()
    real_list_views = tier_repo.list_views
    old_rows = await real_list_views(programme.id)

    async def slow_reader_sees_old_rows(programme_id: int):
        # the write lands between this reader's query and its cache fill
        monkeypatch.setattr(tier_repo, "list_views", real_list_views)
        await tier_service.upsert_tier(
            admin_of(programme),
            TierDraft("SILVER", "Argent", 1, 10_000, None),
            idempotency_key="race",
        )
        await tier_cache.forget_programme_tiers(programme.id, cache)
        return old_rows

    monkeypatch.setattr(tier_repo, "list_views", slow_reader_sees_old_rows)
    stale = await tier_cache.programme_tiers(programme.id, cache)
    assert stale[1].name == "Silver"  # that reader answers with what it read
    # but the next reader is not served the stale entry
    assert (await tier_cache.programme_tiers(programme.id, cache))[1].name == "Argent"


async def test_the_same_cached_bytes_are_decoded_once_and_a_changed_ladder_afresh(programme):
    # given a programme's tiers in a cache of its own (no in-process copy in front)
    cache = InProcessCache()
    await tier_cache.programme_tiers(programme.id, cache)  # read, then cached
    first = await tier_cache.programme_tiers(programme.id, cache)
    # when they are read again
    again = await tier_cache.programme_tiers(programme.id, cache)
    # then the same views come back, in a list of the caller's own
    assert again == first and again is not first
    assert all(a is b for a, b in zip(again, first, strict=True))
    # and after a change of the ladder the new bytes give new views
    await tier_service.upsert_benefit(
        admin_of(programme),
        tier_code=first[0].code,
        code="NEW_PERK",
        title="New perk",
        kind=BenefitKind.EARLY_ACCESS,
        value=0,
        description="",
        idempotency_key="new-perk",
    )
    await tier_cache.forget_programme_tiers(programme.id, cache)
    changed = await tier_cache.programme_tiers(programme.id, cache)
    assert any(b.code == "NEW_PERK" for t in changed for b in t.benefits)
    assert not any(b.code == "NEW_PERK" for t in again for b in t.benefits)
