"""The dashboard's charts: checked `programmeInsights` (api.demo.insights_body) -> pygal charts
-> SVG strings, pure (no I/O). pygal escapes every text it draws; what it would add beyond the
drawing is taken out here, so the SVG works offline and behind `default-src 'self'`:
- its script (a config blob and tooltips loaded from kozea.github.io): `js=[]`, and the inline
  config script removed;
- its inline `<style>` and `style=""` attributes, which such a policy refuses: the same rules
  are served once as a stylesheet (`stylesheet()`), scoped to `svg.pygal-chart`;
- its comments (they carry pygal's web addresses) and ids (each chart would repeat them)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import cache
from typing import Any

import pygal
from pygal.style import Style

from domain.money import major

SVG_NS = "http://www.w3.org/2000/svg"
# Serialised without a prefix (`<svg xmlns=...>`, not `<ns0:svg>`); ElementTree's
# default_namespace refuses pygal's unprefixed attributes, so the prefix is registered, as
# pygal itself registers xlink's.
ET.register_namespace("", SVG_NS)
# Names longer than this are cut (with …) in a chart; the table has them whole.
SHORT = 22
# The most campaigns a chart shows (by points awarded); the table lists them all.
TOP_CAMPAIGNS = 12

STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#666666",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=15,
    value_font_size=14,
    no_data_font_size=28,
    opacity=".85",
    opacity_hover=".95",
    colors=(
        "#2563eb", "#dc2626", "#d97706", "#059669", "#7c3aed", "#db2777",
        "#0891b2", "#65a30d", "#9333ea", "#ea580c", "#4b5563", "#0d9488",
    ),
)  # fmt: skip
BASE = {
    "js": [],
    "style": STYLE,
    # narrow enough that the labels stay readable at a phone's width
    "width": 480,
    "height": 340,
    "explicit_size": False,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "no_data_text": "No data",
    "print_zeroes": True,
    "margin": 12,
    # pygal's own estimate leaves the bottom legend's last row cut off
    "margin_bottom": 40,
    "margin_right": 28,  # room for the last value label of a horizontal axis
    "max_scale": 6,
    "truncate_label": SHORT,
}

SOURCE_NAMES = {
    "ORDERS": "Orders",
    "CHECK_IN": "Check-in",
    "REVIEWS": "Reviews",
    "REFERRALS": "Referrals",
    "CAMPAIGNS": "Campaigns",
    "PARTNERS_IN": "Partners in",
    "ADJUSTMENTS": "Adjustments",
    "REWARDS": "Rewards",
    "COUPONS": "Coupons",
    "CHECKOUT": "Cash at checkout",
    "PARTNERS_OUT": "Partners out",
    "OTHER": "Other",
}


def _named(code: str) -> str:
    return SOURCE_NAMES.get(code, code.replace("_", " ").capitalize())


def _short(name: str) -> str:
    """pygal cuts long labels on a vertical axis only (truncate_label): on a horizontal bar
    chart a long name would squeeze the plot to nothing."""
    return name if len(name) <= SHORT else name[: SHORT - 1] + "…"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _thousands(value: float) -> str:
    return f"{value:,.0f}"


def _bucket_label(start: str, granularity: str) -> str:
    return start[:7] if granularity == "MONTH" else start


def _chart(kind: Callable[..., Any], **config: Any) -> Any:
    """Counts unless told otherwise: whole numbers, and no 0.2 steps on the axis."""
    return kind(**{**BASE, "value_formatter": _thousands, "order_min": 0, **config})


def _across(bars: int, **config: Any) -> Any:
    """Horizontal bars, as tall as their number needs; four steps on the value axis, where
    six labels such as 300,000 would run into each other."""
    height = max(300, 60 + 34 * bars)
    return _chart(pygal.HorizontalBar, height=height, max_scale=4, **config)


def tier_distribution(insights: dict[str, Any]) -> Any:
    tiers = insights["tiers"]["distribution"]
    chart = _chart(pygal.Bar, show_legend=False)
    chart.x_labels = [t["name"] for t in tiers]
    if tiers:
        chart.add("Members", [t["members"] for t in tiers])
    return chart


def tier_migrations(insights: dict[str, Any]) -> Any:
    names = {t["code"]: t["name"] for t in insights["tiers"]["distribution"]}
    moves = insights["tiers"]["migrations"]
    chart = _across(len(moves))
    moves = moves[::-1]  # pygal draws the first bar at the bottom
    chart.x_labels = [
        f"{_short(names.get(m['fromCode'], m['fromCode']))} → "
        f"{_short(names.get(m['toCode'], m['toCode']))}"
        for m in moves
    ]
    if moves:
        for direction, title in (("UP", "Up"), ("DOWN", "Down")):
            chart.add(title, [m["members"] if m["direction"] == direction else None for m in moves])
    return chart


def _over_time(insights: dict[str, Any], **config: Any) -> Any:
    series = insights["series"]
    many = len(series) > 40
    chart = _chart(
        pygal.Line,
        x_label_rotation=45 if many else 30,  # full dates at 30° run into each other
        include_x_axis=True,
        show_dots=not many,
        show_minor_x_labels=not many,
        x_labels_major_count=12 if many else None,
        **config,
    )
    chart.x_labels = [_bucket_label(b["start"], insights["granularity"]) for b in series]
    return chart


def points_over_time(insights: dict[str, Any]) -> Any:
    chart = _over_time(insights)
    series = insights["series"]
    if series:
        for field, title in (("earned", "Earned"), ("spent", "Spent"), ("expired", "Expired")):
            chart.add(title, [b[field] for b in series])
    return chart


def active_members(insights: dict[str, Any]) -> Any:
    chart = _over_time(insights, show_legend=False, fill=True)
    if insights["series"]:
        chart.add("Active members", [b["activeMembers"] for b in insights["series"]])
    return chart


def rates(insights: dict[str, Any]) -> Any:
    behaviour = insights["behaviour"]
    figures = (
        ("Participation", insights["members"]["participationRate"]),
        ("Redemption", insights["points"]["redemptionRate"]),
        ("Breakage", insights["points"]["breakage"]),
        ("Repeat purchase", behaviour["repeatPurchaseRate"]),
        ("Referral conversion", behaviour["referrals"]["conversionRate"]),
    )
    chart = _chart(
        pygal.HorizontalBar,
        show_legend=False,
        value_formatter=_percent,
        order_min=None,
        print_values=True,
        # at the bar's end, not its middle: a small rate's value would cover its label
        print_values_position="top",
        print_zeroes=False,
    )
    figures = figures[::-1]  # pygal draws the first bar at the bottom
    chart.x_labels = [name for name, _ in figures]
    chart.add("Rate", [value for _, value in figures])
    return chart


def liability(insights: dict[str, Any]) -> Any:
    owed = insights["points"]["liability"]
    cash = major(owed["cashValue"], insights["currency"])
    chart = _chart(
        pygal.Bar,
        show_legend=False,
        print_values=True,
        print_zeroes=False,
        x_title=f"Cash value {cash} {insights['currency']}",
    )
    chart.x_labels = ["Available", "Pending"]
    chart.add("Points", [owed["available"], owed["pending"]])
    return chart


def segments(insights: dict[str, Any]) -> Any:
    chart = _chart(pygal.Pie, inner_radius=0.45)
    for segment in insights["members"]["bySegment"]:
        if segment["members"] > 0:
            chart.add(_named(segment["segment"]), segment["members"])
    return chart


def campaigns(insights: dict[str, Any]) -> Any:
    top = sorted(insights["campaigns"], key=lambda c: -c["points"])[:TOP_CAMPAIGNS]
    chart = _across(len(top), show_legend=False)
    top = top[::-1]  # pygal draws the first bar at the bottom
    chart.x_labels = [_short(c["name"]) for c in top]
    if top:
        chart.add("Points awarded", [c["points"] for c in top])
    return chart


def _by_kind(rows: list[dict[str, Any]], key: str) -> Any:
    chart = _across(len(rows), show_legend=False)
    rows = rows[::-1]  # pygal draws the first bar at the bottom
    chart.x_labels = [_short(_named(row[key])) for row in rows]
    if rows:
        chart.add("Points", [row["points"] for row in rows])
    return chart


def earned_by_source(insights: dict[str, Any]) -> Any:
    return _by_kind(insights["points"]["earnedBySource"], "source")


def spent_by_use(insights: dict[str, Any]) -> Any:
    return _by_kind(insights["points"]["spentByUse"], "use")


CHARTS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "tierDistribution": ("Members by tier", tier_distribution),
    "tierMigrations": ("Tier moves", tier_migrations),
    "pointsOverTime": ("Points earned, spent and expired", points_over_time),
    "activeMembers": ("Active members", active_members),
    "rates": ("Rates", rates),
    "liability": ("Points liability", liability),
    "segments": ("Lifecycle segments", segments),
    "campaigns": ("Campaign results", campaigns),
    "earnedBySource": ("Points earned by source", earned_by_source),
    "spentByUse": ("Points spent by use", spent_by_use),
}


def _clean(chart: Any, title: str) -> str:
    """The chart's SVG with its scripts, styles, comments and ids taken out."""
    root = ET.fromstring(chart.render(is_unicode=True))
    for parent in list(root.iter()):
        for child in list(parent):
            classes = child.get("class", "").split()
            if (
                not isinstance(child.tag, str)
                or child.tag in (f"{{{SVG_NS}}}script", f"{{{SVG_NS}}}style")
                or "tooltip-overlay" in classes
            ):
                parent.remove(child)
    for element in root.iter():
        element.attrib.pop("style", None)
        element.attrib.pop("id", None)
    title_element = root.find(f"{{{SVG_NS}}}title")
    if title_element is not None:
        title_element.text = title
    root.set("role", "img")
    root.set("aria-label", title)
    return ET.tostring(root, encoding="unicode")


def render(insights: dict[str, Any]) -> dict[str, str]:
    """Every chart's SVG, by name (the page's sections use the same names)."""
    return {name: _clean(build(insights), title) for name, (title, build) in CHARTS.items()}


@cache
def stylesheet() -> str:
    """pygal's rules for our style, once, for every chart on the page: taken from a chart
    with a series per colour, its `#chart-<uuid>` scope replaced by the class every chart
    carries."""
    chart = _chart(pygal.Bar)
    for i in range(len(STYLE.colors)):
        chart.add(str(i), [i])
    root = ET.fromstring(chart.render(is_unicode=True))
    css = "\n".join(style.text or "" for style in root.iter(f"{{{SVG_NS}}}style"))
    return re.sub(r"#chart-[0-9a-f-]+", "svg.pygal-chart", css)
