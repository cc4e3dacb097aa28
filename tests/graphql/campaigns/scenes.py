"""A shop driven through the API on its programme's test clock, for the campaign scenarios
(issue 19.5): the admin sets campaigns up, the storefront previews and records orders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db.models import Programme
from domain.auth import Role
from tests.graphql.campaigns.helpers import active_campaign, campaign_of
from tests.graphql.campaigns.orders_helpers import CANCEL, PREVIEW, RECORD, RETURN
from tests.graphql.coupons.helpers import wallet
from tests.graphql.points.documents import COMPLETE_ORDER
from tests.graphql.points.helpers import mutate, new_key, order_input, points_of, preview_of

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test programmes' time zone
# A year ahead of the wall clock, which a new sandbox's clock starts from: the clock only
# moves forward, so every moment of a scenario lies in it whatever day the tests run.
YEAR = datetime.now(UTC).year + 1

ADVANCE_TO = """
mutation ($to: DateTime!, $key: String!) {
  advanceTestClock(input: {to: $to, idempotencyKey: $key}) {
    __typename
    ... on AdvanceTestClockSuccess { programme { now } }
    ... on AdvanceTestClockError { errors { field code message } }
  }
}
"""
UPSERT_TIER = """
mutation ($input: UpsertTierInput!) {
  upsertTier(input: $input) { __typename ... on UpsertTierError { errors { field code } } }
}
"""
MEMBER_TIER = "query ($e: String!) { member(externalId: $e) { tier { code } } }"


def local(day: date, hour: int = 12) -> datetime:
    """`hour` o'clock of `day` in the programme's time zone."""
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def month_start(month: int, year: int = YEAR) -> datetime:
    return local(date(year, month, 1), 0)


def nth_weekday(month: int, weekday: int, n: int = 1, year: int = YEAR) -> date:
    """The `n`th ISO `weekday` (1 Monday ... 7 Sunday) of the month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.isoweekday()) % 7 + 7 * (n - 1))


class Shop:
    """One programme, its admin and storefront keys, and the calls a scenario makes."""

    def __init__(self, gql, programme: Programme, admin: str, storefront: str) -> None:
        self.gql, self.programme = gql, programme
        self.admin, self.storefront = admin, storefront

    @classmethod
    async def open(cls, gql, programme: Programme, make_key) -> Shop:
        return cls(
            gql,
            programme,
            await make_key(programme, Role.ADMIN),
            await make_key(programme, Role.STOREFRONT),
        )

    async def clock_to(self, moment: datetime) -> str:
        """Moves the test clock to `moment` and answers the programme's new `now`."""
        body = await self.gql(
            ADVANCE_TO, {"to": moment.isoformat(), "key": new_key()}, auth=self.admin
        )
        result = body["data"]["advanceTestClock"]
        assert result["__typename"] == "AdvanceTestClockSuccess", body
        return str(result["programme"]["now"])

    async def campaign(self, **fields: Any) -> dict[str, Any]:
        """A campaign created and activated by the admin API."""
        return await active_campaign(self.gql, self.admin, **fields)

    async def results(self, code: str) -> dict[str, Any]:
        found = await campaign_of(self.gql, self.admin, code)
        assert found is not None
        results: dict[str, Any] = found["results"]
        return results

    async def tier(self, code: str, rank: int, threshold: int) -> None:
        body = await self.gql(
            UPSERT_TIER,
            {
                "input": {
                    "code": code,
                    "name": code.title(),
                    "rank": rank,
                    "entryThreshold": threshold,
                    "idempotencyKey": new_key(),
                }
            },
            auth=self.admin,
        )
        assert body["data"]["upsertTier"]["__typename"] == "UpsertTierSuccess", body

    async def tier_of(self, external_id: str) -> str | None:
        body = await self.gql(MEMBER_TIER, {"e": external_id}, auth=self.admin)
        tier = body["data"]["member"]["tier"]
        return None if tier is None else str(tier["code"])

    def order(self, member: Any, now: str, *lines: dict[str, Any]) -> dict[str, Any]:
        """An order of `member` placed at `now` (the programme's clock)."""
        return order_input(member.external_id, now, lines=list(lines) or None)

    async def preview(self, order: dict[str, Any]) -> dict[str, Any]:
        body = await self.gql(PREVIEW, {"input": preview_of(order)}, auth=self.storefront)
        assert "errors" not in body, body
        preview: dict[str, Any] = body["data"]["previewOrderPoints"]
        return preview

    async def record(self, order: dict[str, Any]) -> dict[str, Any]:
        body = await self.gql(RECORD, {"input": order}, auth=self.storefront)
        return self._order(body, "recordOrder")

    async def previewed_and_recorded(
        self, order: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The preview, then the order recorded; the preview's lines and total are checked
        to be exactly what was booked."""
        preview = await self.preview(order)
        booked = await self.record(order)
        assert preview["total"] == booked["points"], (preview, booked)
        assert [(x["sku"], x["points"], x["rules"]) for x in preview["lines"]] == [
            (x["sku"], x["points"], x["rules"]) for x in booked["lines"]
        ]
        return preview, booked

    async def complete(self, order: dict[str, Any]) -> dict[str, Any]:
        result = await mutate(
            self.gql, COMPLETE_ORDER, "completeOrder", self.storefront, orderId=order["orderId"]
        )
        assert result["__typename"] == "OrderSuccess", result
        completed: dict[str, Any] = result["order"]
        return completed

    async def cancel(self, order: dict[str, Any]) -> dict[str, Any]:
        body = await self.gql(
            CANCEL,
            {"input": {"orderId": order["orderId"], "idempotencyKey": new_key()}},
            auth=self.storefront,
        )
        return self._order(body, "cancelOrder")

    async def give_back(self, order: dict[str, Any], sku: str, quantity: int) -> dict[str, Any]:
        """A partial return of `quantity` items of the line `sku`."""
        body = await self.gql(
            RETURN,
            {
                "input": {
                    "orderId": order["orderId"],
                    "lines": [{"sku": sku, "quantity": quantity}],
                    "idempotencyKey": new_key(),
                }
            },
            auth=self.storefront,
        )
        return self._order(body, "returnOrderLines")

    async def points(self, member: Any) -> tuple[int, int]:
        """(pending, available) of the member."""
        points = await points_of(self.gql, self.storefront, member.external_id)
        return points["pending"], points["available"]

    async def coupons(self, member: Any) -> list[tuple[str, str]]:
        """(template code, source) of each coupon in the member's wallet."""
        found = await wallet(self.gql, self.admin, member.external_id)
        return [(e["node"]["template"]["code"], e["node"]["source"]) for e in found["edges"]]

    @staticmethod
    def _order(body: dict[str, Any], field: str) -> dict[str, Any]:
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][field]
        assert result["__typename"] == "OrderSuccess", result
        order: dict[str, Any] = result["order"]
        return order


def shown(preview: dict[str, Any]) -> dict[str, tuple[bool, int, str | None]]:
    """Each campaign of a preview: (applied, points, why not)."""
    return {c["code"]: (c["applied"], c["points"], c["notApplied"]) for c in preview["campaigns"]}
