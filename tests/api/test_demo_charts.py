"""The dashboard's charts (issue 21, point 3): a `programmeInsights` answer -> one SVG per chart,
drawn server-side by pygal, with every data point, nothing fetched from elsewhere, nothing that
runs, labels only ever text; and the route that draws them refuses what is not such an answer."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from api.demo import charts
from api.demo.insights_body import MAX_BUCKETS, InvalidInsights, checked_insights
from tests.fixtures.insights import INSIGHTS, insights

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>'


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def with_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in e.get("class", "").split()]


def values(root: ET.Element) -> list[str]:
    """The values pygal drew, one per data point (kept in each point's <desc class=value>)."""
    return [e.text or "" for e in with_class(root, "value") if e.tag == f"{SVG}desc"]


def test_every_chart_is_drawn_with_every_data_point():
    # when
    drawn = charts.render(checked_insights(INSIGHTS))
    # then
    assert set(drawn) == set(charts.CHARTS)
    svg = {name: parsed(text) for name, text in drawn.items()}
    tiers = INSIGHTS["tiers"]["distribution"]
    assert values(svg["tierDistribution"]) == [f"{t['members']:,}" for t in tiers]
    assert len(with_class(svg["tierDistribution"], "rect")) == 6
    assert len(with_class(svg["tierMigrations"], "rect")) == 3
    # three lines of twelve months, a dot per month
    assert len(with_class(svg["pointsOverTime"], "dot")) == 36
    assert "10,100" in values(svg["pointsOverTime"])
    assert len(with_class(svg["activeMembers"], "dot")) == 12
    assert values(svg["rates"]) == ["40.0%", "55.0%", "5.0%", "40.0%", "70.6%"]
    assert values(svg["liability"]) == ["60,000", "6,000"]
    assert "Cash value 660.00 CNY" in ET.tostring(svg["liability"], encoding="unicode")
    assert len([e for e in with_class(svg["segments"], "slice") if e.tag == f"{SVG}path"]) == 4
    assert sorted(values(svg["segments"])) == ["10", "15", "20", "40"]
    assert sorted(values(svg["campaigns"])) == ["15,000", "3,000"]
    assert len(with_class(svg["earnedBySource"], "rect")) == 3
    assert len(with_class(svg["spentByUse"], "rect")) == 2


def test_a_chart_carries_its_title_for_screen_readers():
    drawn = charts.render(INSIGHTS)
    for name, (title, _) in charts.CHARTS.items():
        root = parsed(drawn[name])
        assert root.get("role") == "img" and root.get("aria-label") == title
        assert root.find(f"{SVG}title").text == title


def test_the_svg_fetches_nothing_runs_nothing_and_needs_no_inline_style():
    drawn = charts.render(INSIGHTS)
    for name, svg in drawn.items():
        # pygal's default js=[...] would load its tooltips from kozea.github.io
        urls = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", svg))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
        assert "<!--" not in svg and "<script" not in svg and "<style" not in svg, name
        assert " style=" not in svg and " id=" not in svg, name
        assert "pygal-chart" in parsed(svg).get("class", "").split()


def test_the_stylesheet_is_pygals_scoped_to_the_charts_class():
    css = charts.stylesheet()
    assert css.startswith("svg.pygal-chart")
    assert ".color-11" in css  # every colour of the style
    assert "#chart-" not in css and "://" not in css


def test_empty_insights_draw_no_data_charts_without_failing():
    # given: a programme with nothing in the range
    empty = insights(
        series=[], campaigns=[],
        tiers={"distribution": [], "migrations": []},
        members__bySegment=[],
        points__earnedBySource=[], points__spentByUse=[],
    )  # fmt: skip
    # when
    drawn = charts.render(checked_insights(empty))
    # then: every chart is there; those with no figure at all say so
    assert set(drawn) == set(charts.CHARTS)
    for name in set(charts.CHARTS) - {"rates", "liability"}:
        root = parsed(drawn[name])
        assert [e.text for e in with_class(root, "no_data")] == ["No data"], name
        assert values(root) == [], name


def test_segments_with_no_members_are_left_out_of_the_pie():
    drawn = charts.render(insights(members__bySegment=[{"segment": "NEW", "members": 0}]))
    assert [e.text for e in with_class(parsed(drawn["segments"]), "no_data")] == ["No data"]


def test_a_year_of_days_draws_lines_without_a_dot_per_day():
    days = [dict(INSIGHTS["series"][0], start=f"2026-01-{d:02d}") for d in range(1, 29)] * 13
    drawn = charts.render(insights(series=days, granularity="DAY"))
    root = parsed(drawn["pointsOverTime"])
    assert with_class(root, "dot") == []
    assert len(with_class(root, "line")) >= 3


HOSTILE_PLACES = {
    "campaign name": {"campaigns": [dict(INSIGHTS["campaigns"][0], name=HOSTILE)]},
    "tier name": {"tiers": {"distribution": [{"code": "X", "name": HOSTILE, "members": 1}],
                            "migrations": [{"fromCode": HOSTILE, "toCode": "X", "direction": "UP", "members": 1}]}},
    "segment": {"members__bySegment": [{"segment": HOSTILE, "members": 3}]},
    "source": {"points__earnedBySource": [{"source": "</svg><img src=x onerror=alert(1)>", "points": 3}]},
    "currency": {"currency": "<b onmouseover=alert(1)>"},
}  # fmt: skip


@pytest.mark.parametrize("change", HOSTILE_PLACES.values(), ids=HOSTILE_PLACES.keys())
def test_a_hostile_label_is_drawn_as_text_never_as_markup(change: dict[str, Any]):
    drawn = charts.render(checked_insights(insights(**change)))
    for name, svg in drawn.items():
        root = parsed(svg)
        tags = {e.tag for e in root.iter()}
        assert not tags & {f"{SVG}script", f"{SVG}img", "img", "script", "b"}, name
        assert not [a for e in root.iter() for a in e.attrib if a.startswith("on")], name
        assert "<script" not in svg and "<img" not in svg, name
    texts = " ".join("".join(parsed(svg).itertext()) for svg in drawn.values())
    assert re.search(r"<(script|/svg|b)", texts)  # the label is there (maybe cut), as text


CHECKS = {
    "not an object": ([], "the body: expected an object"),
    "a missing section": (insights(points=None) | {"points": {}}, "points.earned: missing"),
    "a string for a number": (insights(members__total="85"), "members.total: expected an integer"),
    "a boolean for a number": (insights(points__spent=True), "points.spent: expected an integer"),
    "a huge number": (insights(points__spent=10**20), "points.spent: expected an integer"),
    "NaN": (insights(points__breakage=float("nan")), "points.breakage: expected a finite number"),
    "a bad date": (insights(to="2026-13-01"), "to: expected a date"),
    "a date with a time": (insights(to="2026-01-01T00:00"), "to: expected a date"),
    "an unknown granularity": (insights(granularity="YEAR"), "granularity: expected one of"),
    "a long name": (insights(campaigns=[dict(INSIGHTS["campaigns"][0], name="x" * 201)]),
                    "campaigns[0].name: expected a string"),
    "too many buckets": (insights(series=INSIGHTS["series"][:1] * (MAX_BUCKETS + 1)),
                         "series: expected a list of at most"),
    "a bucket not an object": (insights(series=[5]), "series[0]: expected an object"),
}  # fmt: skip


@pytest.mark.parametrize(("body", "message"), CHECKS.values(), ids=CHECKS.keys())
def test_a_body_off_the_contract_is_refused_naming_the_field(body: Any, message: str):
    with pytest.raises(InvalidInsights) as refused:
        checked_insights(body)
    assert str(refused.value).startswith(message), str(refused.value)


def test_fields_the_charts_do_not_read_are_ignored():
    checked = checked_insights(insights(coupons=[{"anything": 1}], extra={"x": 1}))
    assert "coupons" not in checked and "extra" not in checked
