"""The statement texts of programme insights (db/sql/insights.py runs them): aggregates over
one programme's rows in a range of instants [start, end). `{p}` marks the next parameter
(numbered $1, $2 ... on PostgreSQL, `?` on SQLite). Where the dialects differ — only in how a
ledger row finds its bucket — both texts are here side by side.

The ledger is read as sums by bucket, kind, reference type and sign, so the totals and each
bucket are classified by the same rules (domain.insights.point_flows)."""

from __future__ import annotations

AVAILABLE = "t.bucket = 'AVAILABLE'"
# A member's own earning or spending: a spend, a transfer either way, or a credit of earned
# points — except the row that makes an order's pending points available when its return
# window closes (the order counted when it was recorded, on its pending row).
ACTIVE = (
    "(t.kind IN ('REDEEM', 'TRANSFER_OUT', 'TRANSFER_IN') OR (t.kind = 'EARN' AND t.amount > 0 "
    "AND NOT (t.bucket = 'AVAILABLE' AND t.reference_type = 'ORDER')))"
)
IN_RANGE = "t.programme_id = {p} AND t.created_at >= {p} AND t.created_at < {p}"

# On PostgreSQL the ledger's sums and its active members are read from the rollups of migration
# 15 (kept by a trigger on the ledger, days in the programme's zone): the texts below. SQLite
# reads the ledger itself, each row put in its bucket, as its number (1, 2, ...) among the
# buckets the domain worked out, by a join on each bucket's [lo, hi); params: the buckets as
# JSON [[lo, hi], ...] (UTC text as SQLite stores it).
_BUCKETS_LITE = (
    "b AS (SELECT CAST(key AS INTEGER) + 1 AS day, json_extract(value, '$[0]') AS lo, "
    "json_extract(value, '$[1]') AS hi FROM json_each({p}))"
)
_JOIN_LITE = "JOIN b ON t.created_at >= b.lo AND t.created_at < b.hi"

# The range's AVAILABLE points summed by bucket (PostgreSQL: by day, which the caller puts in its
# bucket), kind, reference type and sign: a few rows per bucket, which domain.insights classifies
# (earned by source, spent by use, expired) for the totals and for each bucket alike.
# PostgreSQL, from ledger_day_sums (the trigger appends each row's points, the jobs fold each
# day's into one): params: programme, first day, last day
LEDGER_DAYS_PG = (
    "SELECT s.day AS day, s.kind AS kind, s.reference_type AS reference_type, "
    "s.credit AS credit, SUM(s.points) AS points FROM ledger_day_sums s "
    "WHERE s.programme_id = {p} AND s.day >= {p} AND s.day <= {p} GROUP BY 1, 2, 3, 4"
)
# SQLite: params: bucket params, programme, start, end
LEDGER_LITE = (
    f"WITH {_BUCKETS_LITE} SELECT b.day AS day, t.kind AS kind, "
    "t.reference_type AS reference_type, t.amount > 0 AS credit, SUM(t.amount) AS points "
    f"FROM point_transactions t {_JOIN_LITE} WHERE {IN_RANGE} AND {AVAILABLE} "
    "GROUP BY b.day, t.kind, t.reference_type, t.amount > 0"
)

# Active members per bucket on SQLite: each (bucket, member) pair of the ledger once, counted by
# bucket. params: bucket params, programme, start, end
_PAIRS = "SELECT {day} AS day, t.member_id AS member_id FROM point_transactions t {join}"
ACTIVE_LITE = (
    f"WITH {_BUCKETS_LITE} SELECT p.day AS day, COUNT(*) AS active FROM ("
    + _PAIRS.format(day="b.day", join=_JOIN_LITE)
    + f" WHERE {IN_RANGE} AND {ACTIVE} GROUP BY 1, 2) p GROUP BY p.day"
)
# On PostgreSQL active members are counted from member_activity (one row per member per day,
# week, month and year of the programme's zone, by the rule of ACTIVE above): a whole bucket is
# the number of its period's rows; a bucket the range cuts (the first or last week or month)
# counts the distinct members of its days within the range. params: programme, period (D, W or
# M), the first and last whole bucket's start (NULL when none is whole), programme, and the cut
# buckets' starts, first days and last days as arrays.
ACTIVE_ROLLUP_PG = (
    "SELECT a.starts AS day, COUNT(*) AS active FROM member_activity a "
    "WHERE a.programme_id = {p} AND a.period = {p} AND a.starts >= {p}::date "
    "AND a.starts <= {p}::date GROUP BY a.starts "
    "UNION ALL SELECT b.start AS day, (SELECT COUNT(DISTINCT a.member_id) FROM member_activity a "
    "WHERE a.programme_id = {p} AND a.period = 'D' AND a.starts >= b.lo AND a.starts <= b.hi) "
    "AS active FROM unnest({p}::date[], {p}::date[], {p}::date[]) AS b(start, lo, hi)"
)
# Active members in the whole range: the distinct members of its cover's periods (whole years,
# whole months, days left over: domain.insights.cover). params: programme, the years', the
# months' and the days' first days as arrays
ACTIVE_MEMBERS_PG = (
    "SELECT COUNT(DISTINCT a.member_id) AS active FROM member_activity a "
    "WHERE a.programme_id = {p} AND ((a.period = 'Y' AND a.starts = ANY({p}::date[])) "
    "OR (a.period = 'M' AND a.starts = ANY({p}::date[])) "
    "OR (a.period = 'D' AND a.starts = ANY({p}::date[])))"
)
# The same on SQLite, from the ledger (its own statement: it runs beside the one above).
# params: programme, start, end
ACTIVE_MEMBERS_LITE = (
    "SELECT COUNT(*) AS active FROM (SELECT t.member_id FROM point_transactions t "
    f"WHERE {IN_RANGE} AND {ACTIVE} GROUP BY t.member_id) m"
)

# Registered by the end and not erased by then; new within the range. The balances at the end
# are today's (the sums of the ledger) less what the ledger moved from the end on.
# params: end, end, start, end, end, programme, end, programme, end, programme
MEMBERS = (
    "SELECT COALESCE(SUM(CASE WHEN m.joined_at < {p} "
    "AND (m.erased_at IS NULL OR m.erased_at >= {p}) THEN 1 ELSE 0 END), 0) AS total, "
    "COALESCE(SUM(CASE WHEN m.joined_at >= {p} AND m.joined_at < {p} "
    "AND (m.erased_at IS NULL OR m.erased_at >= {p}) THEN 1 ELSE 0 END), 0) AS new, "
    "COALESCE(SUM(m.points_available), 0) - (SELECT COALESCE(SUM(t.amount), 0) "
    "FROM point_transactions t WHERE t.programme_id = {p} AND t.created_at >= {p} "
    "AND t.bucket = 'AVAILABLE') AS available, "
    "COALESCE(SUM(m.points_pending), 0) - (SELECT COALESCE(SUM(t.amount), 0) "
    "FROM point_transactions t WHERE t.programme_id = {p} AND t.created_at >= {p} "
    "AND t.bucket = 'PENDING') AS pending "
    "FROM members m WHERE m.programme_id = {p}"
)

# params: programme
SEGMENTS = (
    "SELECT s.lifecycle AS segment, COUNT(*) AS members FROM member_segments s "
    "JOIN members m ON m.id = s.member_id AND m.erased_at IS NULL "
    "WHERE s.programme_id = {p} GROUP BY s.lifecycle ORDER BY s.lifecycle"
)

# Each member's tier at the end: the tier its earliest change from the end on (by time, then
# by id: a catch-up job may store a change after a later one) moved it from, or (no change
# since) its tier now. params: programme, end, programme
_AT_END = (
    "firsts AS (SELECT r.member_id AS member_id, r.from_tier_id AS from_tier_id FROM "
    "(SELECT c.member_id AS member_id, c.from_tier_id AS from_tier_id, ROW_NUMBER() OVER "
    "(PARTITION BY c.member_id ORDER BY c.at, c.id) AS n FROM tier_changes c "
    "WHERE c.programme_id = {p} AND c.at >= {p}) r WHERE r.n = 1), "
    "at_end AS (SELECT m.id AS member_id, m.joined_at AS joined_at, m.erased_at AS erased_at, "
    "CASE WHEN f.member_id IS NULL THEN m.tier_id ELSE f.from_tier_id END AS tier_id "
    "FROM members m LEFT JOIN firsts f ON f.member_id = m.id WHERE m.programme_id = {p})"
)
# params: programme, end, programme, end, end, programme
DISTRIBUTION = (
    f"WITH {_AT_END} "
    "SELECT t.id AS id, t.code AS code, t.name AS name, t.rank AS rank, "
    "COUNT(a.member_id) AS members FROM tiers t LEFT JOIN at_end a ON a.tier_id = t.id "
    "AND a.joined_at < {p} AND (a.erased_at IS NULL OR a.erased_at >= {p}) "
    "WHERE t.programme_id = {p} GROUP BY t.id, t.code, t.name, t.rank ORDER BY t.rank"
)

# Orders placed in the range and not cancelled, per member, by the member's tier at the end.
# params: programme, end, programme, programme, start, end
BY_TIER = (
    f"WITH {_AT_END}, "
    "o AS (SELECT x.member_id AS member_id, COUNT(*) AS n, "
    "SUM(x.amount - x.returned_amount) AS v FROM orders x WHERE x.programme_id = {p} "
    "AND x.placed_at >= {p} AND x.placed_at < {p} AND x.status <> 'CANCELLED' "
    "GROUP BY x.member_id) "
    "SELECT a.tier_id AS tier_id, SUM(o.n) AS orders, COUNT(*) AS members, "
    "SUM(o.v) AS value, SUM(CASE WHEN o.n >= 2 THEN 1 ELSE 0 END) AS repeaters "
    "FROM o LEFT JOIN at_end a ON a.member_id = o.member_id GROUP BY a.tier_id"
)

# params: programme, start, end
MIGRATIONS = (
    "SELECT c.from_tier_id AS from_tier, c.to_tier_id AS to_tier, "
    "COUNT(DISTINCT c.member_id) AS members FROM tier_changes c "
    "WHERE c.programme_id = {p} AND c.at >= {p} AND c.at < {p} "
    "GROUP BY c.from_tier_id, c.to_tier_id"
)

# Invitations made in the range, and those of them rewarded (the invitee's first order
# completed) by its end. params: end, programme, start, end
REFERRALS = (
    "SELECT COUNT(*) AS invited, COALESCE(SUM(CASE WHEN r.status = 'REWARDED' "
    "AND o.completed_at < {p} THEN 1 ELSE 0 END), 0) AS rewarded "
    "FROM referrals r LEFT JOIN orders o ON o.id = r.order_id "
    "WHERE r.programme_id = {p} AND r.created_at >= {p} AND r.created_at < {p}"
)

# Every template made by the end. params: start, end, start, end, start, end, start, end,
# programme, end
COUPONS = (
    "SELECT t.code AS code, t.title AS title, "
    "COALESCE(SUM(CASE WHEN c.issued_at >= {p} AND c.issued_at < {p} THEN 1 ELSE 0 END), 0) "
    "AS issued, COALESCE(SUM(CASE WHEN c.status = 'USED' AND c.used_at >= {p} "
    "AND c.used_at < {p} THEN 1 ELSE 0 END), 0) AS redeemed "
    "FROM coupon_templates t LEFT JOIN coupons c ON c.template_id = t.id "
    "AND ((c.issued_at >= {p} AND c.issued_at < {p}) OR (c.used_at >= {p} AND c.used_at < {p})) "
    "WHERE t.programme_id = {p} AND t.created_at < {p} "
    "GROUP BY t.id, t.code, t.title ORDER BY t.code"
)

# Campaigns that ran at some time in the range; their awards dated in it (cancelled orders'
# left out, returns' taken off). params: start, end, programme, end, start, end
CAMPAIGNS = (
    "SELECT c.code AS code, c.name AS name, c.status AS status, COUNT(a.id) AS awards, "
    "COUNT(DISTINCT a.member_id) AS members, "
    "COALESCE(SUM(a.points - a.points_reversed), 0) AS points "
    "FROM campaigns c LEFT JOIN campaign_awards a ON a.campaign_id = c.id "
    "AND a.awarded_at >= {p} AND a.awarded_at < {p} AND NOT a.cancelled "
    "WHERE c.programme_id = {p} AND c.activated_at IS NOT NULL AND c.starts_at < {p} "
    "AND c.activated_at < {p} AND COALESCE(c.ended_at, c.ends_at) >= {p} "
    "GROUP BY c.id, c.code, c.name, c.status ORDER BY c.code"
)

# Redemptions requested in the range and not cancelled. params: programme, start, end
REWARDS = (
    "SELECT w.code AS code, w.title AS title, COUNT(*) AS redemptions, "
    "SUM(r.quantity) AS quantity, SUM(r.points) AS points "
    "FROM reward_redemptions r JOIN rewards w ON w.id = r.reward_id "
    "WHERE r.programme_id = {p} AND r.requested_at >= {p} AND r.requested_at < {p} "
    "AND r.status <> 'CANCELLED' GROUP BY w.id, w.code, w.title ORDER BY w.code"
)
