"""Quality/accuracy rates by grouping, week over week, and the headline figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest

from data_sources.rollups import rebuild_decision_totals
from data_sources.store import Store, open_store
from metrics.filters import Filters
from metrics.rates import GROUPS, RATE_COLUMNS, headline, iso_week_start, rates, week_over_week

D = dt.date


def insert(con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
    """Hand-built rows; dataset tables also get the import_id every import stamps (the rollup has none)."""
    marks = ", ".join("?" for _ in columns.split(","))
    if table != "decision_daily":
        columns, marks = f"{columns}, import_id", f"{marks}, 0"
    con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """Three trainees in two markets; a training attended by T1 and T2 (T3 registered but absent)."""
    store: Store = open_store(":memory:")
    c = store.cursor()
    insert(c, "trainees", "trainee_id, market, cohort, trainer, project", [
        ("T1", "TH", "2026-01", "Ann", "P1"), ("T2", "TH", "2026-02", "Bo", "P1"), ("T3", "VN", "2026-01", "Ann", "P2"),
    ])  # fmt: skip
    insert(c, "decision_daily", "trainee_id, date, policy, source, market, project, reviewed, correct", [
        ("T1", D(2026, 3, 2), "Hate Speech", "qa_audit", "TH", "P1", 10, 9),
        ("T1", D(2026, 3, 9), "Hate Speech", "qa_audit", "TH", "P1", 10, 8),
        ("T2", D(2026, 3, 10), "Hate Speech", "golden_set", "TH", "P1", 20, 10),
        ("T3", D(2026, 3, 11), "Child Safety", "qa_audit", "VN", "P2", 40, 40),
    ])  # fmt: skip
    rebuild_decision_totals(c)  # the all-dates rollup an import builds from the daily rows (headline reads it)
    insert(c, "trainings", "training_id, date, kind, title", [("TR1", D(2026, 3, 1), "refresher", "HS refresh")])
    insert(c, "attendance", "training_id, trainee_id, attended", [("TR1", "T1", True), ("TR1", "T2", True),
                                                                  ("TR1", "T3", False)])  # fmt: skip
    yield c
    store.close()


def test_pooled_rate_with_interval(con: duckdb.DuckDBPyConnection) -> None:
    df = rates(con, Filters())
    assert list(df.columns) == RATE_COLUMNS
    row = df.iloc[0]
    assert (row.reviewed, row.correct) == (80, 67)
    assert row.rate == pytest.approx(67 / 80)
    assert row.low < row.rate < row.high


def test_source_filter_and_grouping(con: duckdb.DuckDBPyConnection) -> None:
    quality = rates(con, Filters(source="qa_audit"), by=["market"])
    assert quality[["market", "reviewed", "correct"]].values.tolist() == [["TH", 20, 17], ["VN", 40, 40]]
    by_source = rates(con, Filters(), by=["source"])
    assert by_source.set_index("source")["reviewed"].to_dict() == {"golden_set": 20, "qa_audit": 60}


def test_week_is_iso_monday(con: duckdb.DuckDBPyConnection) -> None:
    df = rates(con, Filters(), by=["week"])
    assert [w.date() for w in df["week"]] == [D(2026, 3, 2), D(2026, 3, 9)]  # datetime64 for charts
    assert df["reviewed"].tolist() == [10, 70]


def test_trainee_attributes_and_training(con: duckdb.DuckDBPyConnection) -> None:
    by_trainer = rates(con, Filters(), by=["trainer", "cohort"])
    assert by_trainer[["trainer", "cohort", "reviewed"]].values.tolist() == [
        ["Ann", "2026-01", 60], ["Bo", "2026-02", 20]]  # fmt: skip
    by_training = rates(con, Filters(), by=["training"])
    # Attendees only (T3 did not attend): T1's 20 and T2's 20 decisions.
    assert by_training[["training", "reviewed", "correct"]].values.tolist() == [["TR1", 40, 27]]


def test_filters_select_rows(con: duckdb.DuckDBPyConnection) -> None:
    df = rates(con, Filters(start=D(2026, 3, 9), markets=("TH",), cohorts=("2026-01",)), by=["trainee_id"])
    assert df[["trainee_id", "reviewed"]].values.tolist() == [["T1", 10]]
    assert rates(con, Filters(projects=("P2",)))["reviewed"].tolist() == [40]


def test_every_grouping_runs(con: duckdb.DuckDBPyConnection) -> None:
    df = rates(con, Filters(), by=list(GROUPS))
    assert list(df.columns) == [*GROUPS, *RATE_COLUMNS]


def test_unknown_grouping_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="cannot group"):
        rates(con, Filters(), by=["market; DROP TABLE decisions"])


def test_nothing_selected_gives_empty_frame(con: duckdb.DuckDBPyConnection, empty_store: Store) -> None:
    df = rates(con, Filters(markets=("JP",)), by=["market", "week"])
    assert df.empty and list(df.columns) == ["market", "week", *RATE_COLUMNS]
    assert rates(empty_store.cursor(), Filters()).empty


def test_headline(con: duckdb.DuckDBPyConnection, empty_store: Store) -> None:
    h = headline(con, Filters(source="golden_set"))  # source is ignored: both are shown
    assert (h.quality.reviewed, h.quality.correct) == (60, 57)
    assert h.accuracy.rate == pytest.approx(0.5)
    assert h.accuracy.low < 0.5 < h.accuracy.high
    empty = headline(empty_store.cursor(), Filters())
    assert empty.quality.reviewed == 0 and empty.quality.rate != empty.quality.rate  # nan


def test_headline_over_all_dates_equals_the_daily_sums(con: duckdb.DuckDBPyConnection) -> None:
    """Over all dates the headline reads the all-dates rollup; its figures are the daily rollup's sums."""
    every_day = Filters(start=D(2026, 3, 2), end=D(2026, 3, 11))  # the data's first to last day: totals
    for f in (Filters(), every_day, every_day.with_(markets=("TH",)), every_day.with_(policies=("Hate Speech",)),
              every_day.with_(projects=("P2",)), every_day.with_(cohorts=("2026-01",))):
        daily = rates(con, f, by=["source"]).set_index("source")  # rates always sum the daily rollup
        h = headline(con, f)
        for src, got in (("qa_audit", h.quality), ("golden_set", h.accuracy)):
            want = (daily.loc[src, "reviewed"], daily.loc[src, "correct"]) if src in daily.index else (0, 0)
            assert (got.reviewed, got.correct) == want
    assert headline(con, every_day.with_(markets=("TH",))).quality.reviewed == 20
    assert headline(con, every_day.with_(cohorts=("2026-01",))).quality.reviewed == 60


def test_week_over_week(con: duckdb.DuckDBPyConnection) -> None:
    df = week_over_week(con, Filters(), D(2026, 3, 12))  # any day of the week will do
    q = df.set_index("source").loc["qa_audit"]
    assert (q.reviewed, q.correct, q.prev_reviewed, q.prev_correct) == (50, 48, 10, 9)
    assert q.change == pytest.approx(48 / 50 - 0.9)
    assert 0 < q.p_value < 1 and q.change_low < q.change < q.change_high
    g = df.set_index("source").loc["golden_set"]
    assert g.prev_reviewed == 0 and g.p_value != g.p_value  # no previous week: no test
    only = week_over_week(con, Filters(source="qa_audit"), D(2026, 3, 9))
    assert only["source"].tolist() == ["qa_audit"]
    assert week_over_week(con, Filters(), D(2025, 1, 6)).empty


def test_iso_week_start() -> None:
    assert iso_week_start(D(2026, 3, 15)) == D(2026, 3, 9)  # Sunday -> Monday before
    assert iso_week_start(D(2026, 3, 9)) == D(2026, 3, 9)
