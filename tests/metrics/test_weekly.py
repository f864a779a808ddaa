"""The weekly impact report: tiles against last week and the trailing p-chart, the week's trainings."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import duckdb
import pytest

from data_sources.sample import EXPORTS as SAMPLE_EXPORTS
from data_sources.store import Store, open_store
from metrics.filters import Filters
from metrics.weekly import (
    P_CHART_COLUMNS,
    TRAINING_EFFECT_COLUMNS,
    default_week,
    p_chart,
    week_options,
    week_training_effects,
    weekly_impact,
)
from sample_data import planted

D = dt.date
WEEK = D(2026, 3, 9)  # a Monday
HS = "Hate Speech"


def monday(weeks_back: int) -> dt.date:
    return WEEK - dt.timedelta(days=7 * weeks_back)


def insert(con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    """Hand-built rows; dataset tables also get the import_id every import stamps (the rollup has none)."""
    marks = ", ".join("?" for _ in columns.split(","))
    if table != "decision_daily":
        columns, marks = f"{columns}, import_id", f"{marks}, 0"
    con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """Accuracy steady at 90/100 for 8 weeks, then 60/100 this week (beyond the p-chart's limits).
    Quality 50/50 this week only. Sessions: TR0 last week (T1), TR1 (TH: T1, T2; T3 absent) and
    TR2 (VN: T3) this week."""
    store: Store = open_store(":memory:")
    c = store.cursor()
    insert(c, "trainees", "trainee_id, market", [("T1", "TH"), ("T2", "TH"), ("T3", "VN")])
    daily = [("T1", monday(k) + dt.timedelta(days=1), HS, "golden_set", "TH", None, 100, 90) for k in range(1, 9)]
    daily += [("T1", WEEK + dt.timedelta(days=2), HS, "golden_set", "TH", None, 100, 60),
              ("T2", WEEK + dt.timedelta(days=6), HS, "qa_audit", "TH", None, 50, 50)]  # fmt: skip
    insert(c, "decision_daily", "trainee_id, date, policy, source, market, project, reviewed, correct", daily)
    insert(c, "assessments", "trainee_id, date, assessment, score, max_score, pass_mark, attempt", [
        ("T1", WEEK, "HS quiz", 90, 100, 80, 1),
        ("T2", WEEK, "HS quiz", 70, 100, 80, 1),
        ("T3", WEEK + dt.timedelta(days=3), "HS cert", 8, 10, 80, 1),  # 80% meets the mark
        ("T3", WEEK, "no mark", 10, 100, None, 1),  # no pass mark: not a pass/fail attempt
        ("T1", monday(1), "HS quiz", 85, 100, 80, 1),
    ])  # fmt: skip
    insert(c, "trainings", "training_id, date, kind, title, policy, market", [
        ("TR0", monday(1) + dt.timedelta(days=1), "refresher", "HS basics", HS, "TH"),
        ("TR1", WEEK + dt.timedelta(days=1), "refresher", "HS refresh", HS, "TH"),
        ("TR2", WEEK + dt.timedelta(days=3), "policy_update", "HS update", HS, "VN"),
    ])  # fmt: skip
    insert(c, "attendance", "training_id, trainee_id, attended", [
        ("TR0", "T1", True), ("TR1", "T1", True), ("TR1", "T2", True), ("TR1", "T3", False), ("TR2", "T3", True),
    ])  # fmt: skip
    yield c
    store.close()


def test_rate_tiles(con: duckdb.DuckDBPyConnection) -> None:
    report = weekly_impact(con, Filters(), WEEK + dt.timedelta(days=4))  # any day names its ISO week
    assert (report.week_start, report.week_end) == (WEEK, D(2026, 3, 15))
    acc = report.accuracy
    assert (acc.value.estimate, acc.n, acc.previous) == (0.6, 100, 0.9)
    assert acc.change == pytest.approx(-0.3) and acc.p_value < 0.001
    assert acc.value.low < 0.6 < acc.value.high
    # Trailing 8 weeks pooled 0.9; limits at n = 100: 0.9 -/+ 3 * sqrt(0.09 / 100) = 0.81 .. 0.99.
    assert acc.limits is not None and acc.limits.center == pytest.approx(0.9)
    assert (acc.limits.lower, acc.limits.upper) == (pytest.approx(0.81), pytest.approx(0.99))
    assert acc.beyond_limits is True
    quality = report.quality
    assert (quality.value.estimate, quality.n) == (1.0, 50)
    assert math.isnan(quality.previous) and math.isnan(quality.p_value) and quality.beyond_limits is None


def test_a_rate_tiles_people_are_those_reviewed_in_its_week(con: duckdb.DuckDBPyConnection) -> None:
    # T2 on the Sunday before the week, T3 on its Sunday: the week's people are T1 and T3.
    insert(con, "decision_daily", "trainee_id, date, policy, source, market, project, reviewed, correct", [
        ("T2", WEEK - dt.timedelta(days=1), HS, "golden_set", "TH", None, 10, 9),
        ("T3", WEEK + dt.timedelta(days=6), HS, "golden_set", "VN", None, 10, 9),
    ])  # fmt: skip
    report = weekly_impact(con, Filters(), WEEK)
    assert (report.accuracy.people, report.accuracy.n) == (2, 110)
    assert report.quality.people == 1
    assert weekly_impact(con, Filters(), WEEK - dt.timedelta(days=7)).accuracy.people == 2  # T1 and T2


def test_assessment_pass_rate(con: duckdb.DuckDBPyConnection) -> None:
    tile = weekly_impact(con, Filters(), WEEK).assessment_pass_rate
    assert tile.value.estimate == pytest.approx(2 / 3) and tile.n == 3
    assert tile.previous == 1.0


def test_count_tiles_and_trainings(con: duckdb.DuckDBPyConnection) -> None:
    report = weekly_impact(con, Filters(), WEEK)
    assert (report.active_trainees.n, report.active_trainees.previous) == (2, 1)
    assert (report.trainings_delivered.n, report.trainings_delivered.change) == (2, 1)
    assert (report.people_reached.n, report.people_reached.previous) == (3, 1)  # T3 was absent from TR1
    assert math.isnan(report.people_reached.value.low) and report.people_reached.beyond_limits is None
    assert report.trainings[["training_id", "title", "kind", "policy", "attendees"]].values.tolist() == [
        ["TR1", "HS refresh", "refresher", HS, 2], ["TR2", "HS update", "policy_update", HS, 1]]  # fmt: skip
    assert [t.name for t in report.tiles] == [
        "Quality", "Accuracy", "Assessment pass rate", "Active trainees", "Trainings delivered", "People reached"]


def test_filters_apply(con: duckdb.DuckDBPyConnection) -> None:
    th = weekly_impact(con, Filters(markets=("TH",), start=D(2020, 1, 1), source="qa_audit"), WEEK)
    assert th.accuracy.n == 100  # dates and source are the report's own
    assert th.trainings["training_id"].tolist() == ["TR1"]
    assert (th.people_reached.n, th.assessment_pass_rate.n) == (2, 2)


def test_empty_week(con: duckdb.DuckDBPyConnection, empty_store: Store) -> None:
    for report in (weekly_impact(con, Filters(), D(2025, 1, 6)), weekly_impact(empty_store.cursor(), Filters(), WEEK)):
        assert report.accuracy.n == 0 and not report.accuracy.value.measured
        assert report.active_trainees.n == 0 and report.trainings.empty
        assert list(report.trainings.columns) == ["training_id", "title", "kind", "policy", "date", "attendees"]


def test_p_chart_judges_the_week_against_the_weeks_before_it(con: duckdb.DuckDBPyConnection,
                                                            empty_store: Store) -> None:
    chart = p_chart(con, Filters(), WEEK + dt.timedelta(days=3), "golden_set")
    assert list(chart.columns) == P_CHART_COLUMNS
    assert len(chart) == 9 and chart["week"].iloc[-1].date() == WEEK and chart["chosen"].tolist() == [False] * 8 + [True]
    # The centre is the 8 weeks before (not including the chosen week), as on the tile: Phase II.
    assert chart["center"].iloc[0] == pytest.approx(0.9)
    tile = weekly_impact(con, Filters(), WEEK).accuracy
    assert tile.limits is not None and (chart["lcl"].iloc[-1], chart["ucl"].iloc[-1]) == pytest.approx(
        (tile.limits.lower, tile.limits.upper))
    assert chart["beyond"].tolist() == [False] * 8 + [True]
    # Quality has this week only: no baseline to judge it against, so no chart.
    assert p_chart(con, Filters(), WEEK, "qa_audit").empty
    assert p_chart(empty_store.cursor(), Filters(), WEEK, "golden_set").empty


def test_a_week_with_few_reviews_is_too_few_to_judge(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM decision_daily WHERE date >= ?", [WEEK])
    con.execute("INSERT INTO decision_daily VALUES ('T1', ?, 'Hate Speech', 'golden_set', 'TH', NULL, 3, 3)",
                [WEEK + dt.timedelta(days=1)])
    tile = weekly_impact(con, Filters(), WEEK).accuracy
    assert tile.too_few_to_judge and tile.beyond_limits is None and tile.people == 1
    assert not p_chart(con, Filters(), WEEK, "golden_set")["beyond"].any()


def test_week_options_mark_the_partial_last_week(con: duckdb.DuckDBPyConnection) -> None:
    options = week_options(con, Filters())
    # The data ends on Sunday of WEEK (T2's quality reviews): every week is complete.
    assert options[0].start == WEEK and all(o.complete for o in options)
    con.execute("DELETE FROM decision_daily WHERE date > ?", [WEEK + dt.timedelta(days=2)])
    options = week_options(con, Filters())
    assert not options[0].complete and options[0].data_until == WEEK + dt.timedelta(days=2)
    assert options[default_week(options)].start == monday(1)  # opens on the last complete week


def test_week_training_effects(con: duckdb.DuckDBPyConnection) -> None:
    df = week_training_effects(con, Filters(), WEEK)
    assert list(df.columns) == TRAINING_EFFECT_COLUMNS
    assert df["training_id"].tolist() == ["TR1", "TR2"]
    assert not df["enough_data"].any()  # a handful of trainees: measured, but not enough to say
    assert not df["window_closed"].any()  # the post windows run past the last decision
    assert week_training_effects(con, Filters(), D(2025, 1, 6)).empty


# --------------------------------------------------------------------------------------------------
# The planted effects of the bundled sample data (sample_data/planted.py)


@pytest.mark.skipif(not (SAMPLE_EXPORTS / "decisions.csv").exists(), reason="sample_data/exports not generated yet")
def test_sample_refresher_week(sample_con: duckdb.DuckDBPyConnection) -> None:
    report = weekly_impact(sample_con, Filters(), planted.REFRESHER_DATE)
    assert planted.REFRESHER_TRAINING_ID in report.trainings["training_id"].tolist()
    refresher = report.trainings.set_index("training_id").loc[planted.REFRESHER_TRAINING_ID]
    assert refresher.attendees == planted.REFRESHER_ATTENDEES  # the no-shows are not counted
    effects = week_training_effects(sample_con, Filters(), planted.REFRESHER_DATE).set_index("training_id")
    effect = effects.loc[planted.REFRESHER_TRAINING_ID]
    # Measured on the QA deep-dive audits (too few golden-set items around the session).
    assert effect.source == "qa_audit" and effect.enough_data and effect.window_closed
    assert effect.low < planted.REFRESHER_EFFECT_PP / 100 < effect.high
    assert effect.naive_gain > effect.estimate  # the naive gain also holds the common shift


@pytest.mark.skipif(not (SAMPLE_EXPORTS / "decisions.csv").exists(), reason="sample_data/exports not generated yet")
def test_week_training_effects_match_training_effect_on_each_session(sample_con: duckdb.DuckDBPyConnection) -> None:
    # The week's sessions share one query for both sources; each row must still be training_effect's.
    from metrics.training import EffectDesign, training_effect

    effects = week_training_effects(sample_con, Filters(), planted.REFRESHER_DATE)
    assert not effects.empty
    for row in effects.itertuples(index=False):
        one = training_effect(sample_con, [row.training_id], Filters(), EffectDesign(source=row.source))
        assert (one.enough_data, one.attendees.trainees, one.comparison.trainees) == (
            row.enough_data, row.n_attendees, row.n_comparison)
        headline = one.headline  # the same figure the Training impact page leads with
        assert (headline.interval.estimate, headline.interval.low, headline.interval.high,
                one.naive.estimate) == pytest.approx((row.estimate, row.low, row.high, row.naive_gain), nan_ok=True)
        assert (headline.text, headline.how, headline.n_text) == (row.effect, row.how, row.n)
        if row.source == "qa_audit":  # it fell back: golden_set had too little
            assert not training_effect(sample_con, [row.training_id], Filters(),
                                       EffectDesign(source="golden_set")).enough_data
