"""What an admin may do to a campaign, without a database: the status machine, edits by
field path, and the fields a running campaign may change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.campaign_edits import (
    BLANK,
    PATHS,
    SAFE_WHILE_RUNNING,
    TRANSITIONS,
    Action,
    Editable,
    changed_paths,
    check_edit,
    edited,
    next_status,
    validate,
    value_at,
)
from domain.campaigns import CampaignStatus, CapPeriod, Stacking, Trigger
from domain.errors import (
    CampaignEnded,
    CampaignRunning,
    Collector,
    ErrorCode,
    InvalidTransition,
    ValidationFailed,
)

NOW = datetime(2027, 3, 1, tzinfo=UTC)
S = CampaignStatus


def draft(**changes: object) -> Editable:
    return edited(
        BLANK,
        {
            "code": "DOUBLE",
            "name": "Double points",
            "trigger": Trigger.ORDER,
            "startsAt": NOW - timedelta(days=1),
            "endsAt": NOW + timedelta(days=30),
            "effects.multiplier": 20_000,
            "limits.budget": 1_000,
            **changes,
        },
    )


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        (S.DRAFT, Action.ACTIVATE, S.ACTIVE),
        (S.ACTIVE, Action.PAUSE, S.PAUSED),
        (S.PAUSED, Action.ACTIVATE, S.ACTIVE),
        (S.DRAFT, Action.END, S.ENDED),
        (S.ACTIVE, Action.END, S.ENDED),
        (S.PAUSED, Action.END, S.ENDED),
    ],
)
def test_the_machine_moves(status, action, after):
    assert next_status(status, action) is after


def test_every_other_move_is_refused_and_an_ended_campaign_moves_no_more():
    for status in S:
        for action in Action:
            if (status, action) in TRANSITIONS:
                continue
            expected = CampaignEnded if status is S.ENDED else InvalidTransition
            with pytest.raises(expected):
                next_status(status, action)


def test_every_path_reads_back_what_an_edit_wrote():
    values = {
        "limits.capPeriod": CapPeriod.WEEK,
        "limits.memberPeriodCap": 7,
        "audience.tiers": frozenset({"GOLD"}),
        "description": "notes",
        "priority": 3,
    }
    after = edited(draft(), values)
    for path, value in values.items():
        assert value_at(after, path) == value
    assert sorted(changed_paths(draft(), after)) == sorted(values)


def test_null_clears_a_limit_resets_other_fields_and_is_refused_where_required():
    given = draft(**{"recurrence.weekdays": frozenset({6}), "priority": 4})
    after = edited(given, {"limits.budget": None, "recurrence.weekdays": None, "priority": None})
    assert value_at(after, "limits.budget") is None
    assert value_at(after, "recurrence.weekdays") == frozenset()
    assert value_at(after, "priority") == 0
    with pytest.raises(ValidationFailed) as refused:
        edited(given, {"name": None, "endsAt": None})
    assert [e.field for e in refused.value.errors] == ["name", "endsAt"]


def test_a_draft_changes_anything():
    before = draft()
    after = edited(before, {"trigger": Trigger.REVIEW, "effects.multiplier": 30_000})
    check_edit(before, after, status=S.DRAFT, budget_spent=0, now=NOW)


@pytest.mark.parametrize("status", [S.ACTIVE, S.PAUSED])
def test_a_running_campaign_changes_only_the_safe_fields(status):
    before = draft()
    safe = edited(
        before,
        {
            "name": "New",
            "description": "d",
            "priority": 2,
            "endsAt": NOW + timedelta(days=3),
            "limits.budget": 2_000,
        },
    )
    assert set(changed_paths(before, safe)) == SAFE_WHILE_RUNNING
    check_edit(before, safe, status=status, budget_spent=0, now=NOW)
    for path in PATHS.keys() - SAFE_WHILE_RUNNING:
        unsafe = edited(before, {path: value_at(_other(), path)})
        if value_at(unsafe, path) == value_at(before, path):
            continue
        with pytest.raises(CampaignRunning) as refused:
            check_edit(before, unsafe, status=status, budget_spent=0, now=NOW)
        assert refused.value.field == path


def _other() -> Editable:
    """A campaign differing from `draft()` in every field."""
    return Editable(
        edited(
            BLANK,
            {
                "code": "OTHER",
                "name": "x",
                "trigger": Trigger.CHECK_IN,
                "stacking": Stacking.EXCLUSIVE,
                "startsAt": NOW - timedelta(days=9),
                "endsAt": NOW + timedelta(days=9),
                "recurrence.weekdays": frozenset({1}),
                "recurrence.monthDays": frozenset({8}),
                "recurrence.dates": frozenset({NOW.date()}),
                "audience.tiers": frozenset({"GOLD"}),
                "audience.segments": frozenset({"NEW"}),
                "audience.joinedWithinDays": 3,
                "audience.nthOrder": 1,
                "audience.birthdayMonth": True,
                "conditions.minSpend": 5,
                "conditions.categories": frozenset({"c"}),
                "conditions.skus": frozenset({"s"}),
                "conditions.excludedPaymentMethods": frozenset({"GIFT_CARD"}),
                "conditions.channels": frozenset({"OFFLINE"}),
                "effects.multiplier": 30_000,
                "effects.bonusPerOrder": 1,
                "effects.bonusPerItem": 1,
                "effects.couponTemplate": "T",
                "limits.memberCap": 1,
                "limits.memberPeriodCap": 1,
                "limits.capPeriod": CapPeriod.DAY,
                "limits.maxRewardedOrders": 1,
            },
        ).campaign,
        "other",
    )


def test_a_running_campaign_may_not_end_in_the_past_nor_cut_its_budget_below_spent():
    before = draft()
    past = edited(before, {"endsAt": NOW - timedelta(seconds=1)})
    with pytest.raises(ValidationFailed):
        check_edit(before, past, status=S.ACTIVE, budget_spent=0, now=NOW)
    cut = edited(before, {"limits.budget": 499})
    with pytest.raises(ValidationFailed) as refused:
        check_edit(before, cut, status=S.ACTIVE, budget_spent=500, now=NOW)
    assert refused.value.field == "limits.budget"
    check_edit(
        before, edited(before, {"limits.budget": 500}), status=S.ACTIVE, budget_spent=500, now=NOW
    )
    check_edit(
        before, edited(before, {"limits.budget": None}), status=S.ACTIVE, budget_spent=500, now=NOW
    )


def test_an_ended_campaign_changes_nothing():
    before = draft()
    with pytest.raises(CampaignEnded) as refused:
        check_edit(before, edited(before, {"name": "x"}), status=S.ENDED, budget_spent=0, now=NOW)
    assert refused.value.code is ErrorCode.CAMPAIGN_ENDED


def test_validation_names_the_recurrence_fields_under_recurrence():
    errors = Collector()
    # 2027-03-02 is a Tuesday: a window of two weekdays never meets a weekend
    bad = draft(
        **{
            "startsAt": datetime(2027, 3, 2, tzinfo=UTC),
            "endsAt": datetime(2027, 3, 4, tzinfo=UTC),
            "recurrence.weekdays": frozenset({6, 7}),
            "description": "bad\x00",
        }
    )
    validate(bad, errors, timezone="UTC")
    assert [e.field for e in errors.errors] == ["recurrence.weekdays", "description"]
