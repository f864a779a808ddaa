"""The weekly report builder: one self-contained, escaped HTML file with the Overview's figures."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile

import altair as alt
import pandas as pd

from metrics.filters import Filters
from metrics.headline import headline
from metrics.selection import PreTrend, choose_estimator
from metrics.stats import Interval
from metrics.weekly import ControlLimits, Tile, WeeklyImpact, WeekOption
from outgoing import weekly_report as report
from ui import charts

NAN = math.nan
HOSTILE = "<script>alert('x')</script>"
MONDAY = dt.date(2026, 9, 7)


def rate_tile(name: str, value: float, n: int, *, beyond: bool | None) -> Tile:
    limits = ControlLimits(0.83, 0.80, 0.86) if beyond is not None else None
    return Tile(name, True, Interval(value, value - 0.013, value + 0.012), n, value - 0.02, 0.02, 0.04, limits,
                beyond, people=60)


def count_tile(name: str, now: int, before: int) -> Tile:
    return Tile(name, False, Interval(float(now), NAN, NAN), now, float(before), float(now - before), NAN, None, None,
                people=max(now, 5))


def an_impact(title: str = "Hate Speech refresher", attendees: int = 50) -> WeeklyImpact:
    trainings = pd.DataFrame({
        "training_id": ["REF-1"], "title": [title], "kind": ["refresher"], "policy": ["Hate Speech"],
        "date": [pd.Timestamp(MONDAY)], "attendees": [attendees],
    })  # fmt: skip
    return WeeklyImpact(
        week_start=MONDAY, week_end=MONDAY + dt.timedelta(days=6),
        quality=rate_tile("Quality", 0.842, 2310, beyond=True),
        accuracy=rate_tile("Accuracy", 0.871, 640, beyond=False),
        assessment_pass_rate=rate_tile("Assessment pass rate", 0.6, 40, beyond=None),
        active_trainees=count_tile("Active trainees", 250, 244),
        trainings_delivered=count_tile("Trainings delivered", 1, 3),
        people_reached=count_tile("People reached", attendees, 30),
        trainings=trainings,
    )  # fmt: skip


def some_effects(enough: bool = True) -> pd.DataFrame:
    """A `week_training_effects` frame whose words come from a real headline."""
    choice = choose_estimator("random", PreTrend.unchecked(0, 0, "no earlier reviews"), Interval(0.0, -0.01, 0.01))
    head = headline(measure="quality", measure_reason="", enough_data=enough, not_enough="only 4 of 50 attendees "
                    "have 5 or more quality reviews both before and after (needs 10)", choice=choice if enough else None,
                    did=Interval(0.081, 0.04, 0.12), ancova=Interval(0.08, 0.045, 0.115), n_attendees=50,
                    n_comparison=69, reviews=4200, mde=0.05, caveats=("The after-window runs past the latest data.",))
    return pd.DataFrame({
        "training_id": ["REF-1"], "title": ["Hate Speech refresher"], "date": [pd.Timestamp(MONDAY)],
        "source": ["qa_audit"], "estimator": [head.estimator], "estimate": [head.interval.estimate],
        "low": [head.interval.low], "high": [head.interval.high], "naive_gain": [0.12], "n_attendees": [50],
        "n_comparison": [69], "enough_data": [enough], "window_closed": [False], "effect": [head.text],
        "how": [head.how], "n": [head.n_text], "caveats": ["; ".join(head.caveats)],
    })  # fmt: skip


def weak(market: str = "VN") -> pd.DataFrame:
    return pd.DataFrame({
        "market": [market, "SG"], "policy": ["Bullying & Harassment", "Animal Harm"], "rate": [0.70, 0.0],
        "low": [0.66, 0.0], "high": [0.74, 0.49], "reviewed": [480, 4], "policy_level": [0.82, 0.85],
        "gap": [-0.11, -0.02], "avoidable_errors": [57.6, 3.4], "q_value": [0.0001, 0.6],
        "flagged": [True, False], "testable": [True, True], "enough_data": [True, True],
        "source": ["golden_set", "golden_set"], "trainees": [40, 3],
    })  # fmt: skip


def a_chart_svg() -> str:
    frame = pd.DataFrame({"week": pd.date_range("2026-07-06", periods=4, freq="W-MON"), "rate": [0.8, 0.82, 0.85, 0.84]})
    return charts.svg(alt.Chart(frame).mark_line(point=True).encode(x="week:T", y="rate:Q"))


def coaching(needing: int = 24, assessed: int = 281) -> pd.DataFrame:
    return pd.DataFrame({"needs_coaching": [True] * needing + [False] * (assessed - needing)})


VN = Filters(markets=("VN",))


def build(*, impact: WeeklyImpact | None = None, effects: pd.DataFrame | None = None,
          weak_spots: pd.DataFrame | None = None, filters: Filters = VN, p_chart_svg: str | None = "default",
          presenting: bool = False, complete: bool = True) -> str:
    """The report of a hand-built week, through the same assembly (and presenter rule) as the app's."""
    option = WeekOption(MONDAY, complete, MONDAY + dt.timedelta(days=6 if complete else 2))
    summary = report.assemble(filters, option, "golden_set", impact or an_impact(), pd.DataFrame(),
                              some_effects() if effects is None else effects,
                              weak() if weak_spots is None else weak_spots, coaching(), presenting=presenting)
    return report.weekly_report_html(summary, p_chart_svg=a_chart_svg() if p_chart_svg == "default" else p_chart_svg)


def test_report_is_self_contained_without_scripts_or_network_references():
    page = build()
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "</svg>" in page, "the chart is inline SVG"
    assert "<script" not in page.lower()
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.IGNORECASE), "no network reference at all"
    assert not re.search(r"\b(src|href)\s*=", page, re.IGNORECASE)


def test_report_escapes_every_data_value():
    page = build(impact=an_impact(title=HOSTILE), weak_spots=weak(market=HOSTILE), filters=Filters(markets=(HOSTILE,)))
    assert HOSTILE not in page
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 4  # scope, table, caveat, weak spot


def test_report_contains_the_weeks_figures():
    page = build()
    assert "84.2% (95% CI 82.9–85.4%, n=2,310)" in page
    assert "beyond control limits" in page and "within normal variation" in page and "no baseline yet" in page
    assert "+8.1 points of quality (95% CI +4.0 to +12.0): a real change" in page
    assert "against colleagues who did not attend (difference-in-differences)" in page
    assert "50 attendees, 69 compared, 4,200 reviews" in page
    assert "Hate Speech refresher: The after-window runs past the latest data." in page  # caveats under the table
    assert "Bullying &amp; Harassment" in page and "Animal Harm" not in page, "only flagged cells are listed"
    assert "24 of 281 trainees" in page
    assert "ISO week 37" in page


def test_report_says_not_enough_data_instead_of_a_number():
    page = build(effects=some_effects(enough=False))
    assert "not enough data: only 4 of 50 attendees" in page and "+8.1 points" not in page


def test_presenting_hides_the_effect_of_a_session_with_few_people():
    page = build(impact=an_impact(attendees=3), presenting=True)
    assert "hidden while presenting" in page and "+8.1 points" not in page
    assert "after-window" not in page  # nor the caveats of a hidden effect


def test_report_without_a_chart_or_trainings_still_reads():
    empty = an_impact()
    empty = WeeklyImpact(**{**empty.__dict__, "trainings": empty.trainings.iloc[0:0]})
    page = build(impact=empty, p_chart_svg=None, effects=some_effects().iloc[0:0], weak_spots=weak().iloc[0:0])
    assert "No trainings were delivered this week." in page
    # Nothing was tested: the report says so, rather than "nothing flagged".
    assert "No accuracy data for these filters, so no market x policy cell could be tested." in page
    assert "No accuracy reviews in the weeks before this one" in page
    assert "No cell is flagged" not in page


def test_report_says_nothing_is_flagged_only_when_cells_were_tested():
    page = build(weak_spots=weak().assign(flagged=False))
    assert "No cell is flagged among the 2 cells tested on accuracy." in page


def test_presenting_hides_tiles_and_cells_about_fewer_than_five_people():
    few = an_impact()
    few = WeeklyImpact(**{**few.__dict__, "quality": Tile(**{**few.quality.__dict__, "people": 2})})
    page = build(impact=few, presenting=True)
    assert "84.2%" not in page and "hidden" in page
    assert "Animal Harm" not in page  # the 3-person cell is not even listed
    assert "84.2%" in build(impact=few)


def test_tables_zip_holds_formula_safe_csvs():
    data = report.csv_zip({"weak_spots": pd.DataFrame({"market": ["=HYPERLINK(\"x\")"], "n": [1]})})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["weak_spots.csv"]
        text = archive.read("weak_spots.csv").decode("utf-8-sig")
    assert pd.read_csv(io.StringIO(text))["market"].iloc[0] == "'=HYPERLINK(\"x\")"


def test_a_partial_week_says_so():
    assert "A partial week" in build(complete=False) and "A partial week" not in build()
