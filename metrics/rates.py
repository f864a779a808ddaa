"""Quality and accuracy rates, by any grouping, with counts and Wilson intervals.

Quality is the share of `qa_audit` decisions judged correct, accuracy the share of `golden_set` ones.
Everything here reads the rollup `decision_daily`; `cell_detail` in weak_spots also reads `decision_confusions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metrics.filters import Filters, Source, where
from metrics.stats import two_proportion_test, wilson, wilson_arrays

# The groupings a caller may ask for: name -> SQL expression over `decision_daily d` joined to
# `trainees t` (and `attendance a` for "training"). Identifiers in SQL come only from here.
GROUPS: dict[str, str] = {
    "trainee_id": "d.trainee_id",
    "market": "d.market",
    "policy": "d.policy",
    "project": "d.project",
    "source": "CAST(d.source AS VARCHAR)",
    "week": "CAST(date_trunc('week', d.date) AS DATE)",  # ISO week: Monday start
    "month": "CAST(date_trunc('month', d.date) AS DATE)",
    "cohort": "t.cohort",
    "trainer": "t.trainer",
    "training": "a.training_id",
}

RATE_COLUMNS = ["reviewed", "correct", "rate", "low", "high"]
_TRAINEE_GROUPS = {"cohort", "trainer"}


def trainee_join(filters: Filters, by: Sequence[str] = ()) -> str:
    """The join to `trainees t` for a query over `decision_daily d`, only when a cohort filter or a
    trainee attribute needs it: the rollup already holds market and project, and the join costs more
    than the group-by itself on millions of rows."""
    if filters.cohorts or _TRAINEE_GROUPS.intersection(by):
        return "LEFT JOIN trainees t ON t.trainee_id = d.trainee_id"
    return ""


def dates_cover_all(con: duckdb.DuckDBPyConnection, filters: Filters) -> bool:
    """Do the filters' dates (if any) take in every day with data, so that a rollup over all dates
    answers for them? (The sidebar's default range is the data's first to last day.)"""
    if filters.start is None and filters.end is None:
        return True
    row = con.execute("SELECT min(date), max(date) FROM decision_daily").fetchone()
    first, last = row if row else (None, None)
    if first is None or last is None:
        return True  # no data either way
    return (filters.start is None or filters.start <= first) and (filters.end is None or filters.end >= last)


def reviews_table(con: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[str, bool]:
    """The rollup that sums reviews per trainee x policy under the filters, and whether to filter it by date:
    over all dates (the sidebar's default) `decision_totals`, with the same keys in 0.39M rows against
    decision_daily's 6.9M at 10M decisions; else `decision_daily`, by date."""
    if dates_cover_all(con, filters):
        return "decision_totals", False
    return "decision_daily", True


def _empty(by: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in by} | _empty_rate_columns())


def _empty_rate_columns() -> dict[str, pd.Series]:
    return {
        "reviewed": pd.Series(dtype="int64"),
        "correct": pd.Series(dtype="int64"),
        "rate": pd.Series(dtype="float64"),
        "low": pd.Series(dtype="float64"),
        "high": pd.Series(dtype="float64"),
    }


def add_rate_columns(
    df: pd.DataFrame, *, correct: str = "correct", reviewed: str = "reviewed", prefix: str = ""
) -> pd.DataFrame:
    """A copy of `df` with `{prefix}rate`, `{prefix}low`, `{prefix}high` (Wilson 95%) from its counts of
    correct and reviewed (integers); the rate is nan where nothing was reviewed. The one place a rate gets
    its interval, for every measure."""
    out = df.copy()
    out[reviewed] = out[reviewed].astype("int64")
    out[correct] = out[correct].astype("int64")
    n = out[reviewed].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[f"{prefix}rate"] = np.where(n > 0, out[correct].to_numpy(float) / n, np.nan)
    out[f"{prefix}low"], out[f"{prefix}high"] = wilson_arrays(out[correct].to_numpy(), n)
    return out


def rates(con: duckdb.DuckDBPyConnection, filters: Filters, by: Sequence[str] = ()) -> pd.DataFrame:
    """What is the quality/accuracy rate of each group? Sums `decision_daily` in SQL, Wilson 95% intervals.

    `filters.source` picks quality (qa_audit) or accuracy (golden_set); None pools both (group by
    "source" to separate them). `by` is any of GROUPS; "week" is the ISO week's Monday, "training" the
    rate over the filter window of the trainees who attended each training (attended = true).
    Columns: the `by` columns + reviewed, correct, rate, low, high; sorted by the `by` columns."""
    unknown = [g for g in by if g not in GROUPS]
    if unknown:
        raise ValueError(f"cannot group rates by {unknown}; choose from {sorted(GROUPS)}")
    by = list(dict.fromkeys(by))
    w = where(filters)
    select = "".join(f"{GROUPS[g]} AS {g}, " for g in by)
    group = "GROUP BY " + ", ".join(str(i + 1) for i in range(len(by))) if by else ""
    join = (
        "JOIN attendance a ON a.trainee_id = d.trainee_id AND a.attended" if "training" in by else ""
    )
    # Identifiers come from GROUPS (a whitelist); every value is a parameter.
    sql = f"""
        SELECT {select} sum(d.reviewed) AS reviewed, sum(d.correct) AS correct
        FROM decision_daily d {trainee_join(filters, by)} {join}
        WHERE {w.sql}
        {group}
        HAVING sum(d.reviewed) > 0
    """
    df = con.execute(sql, w.params).df()
    if df.empty:
        return _empty(by)
    df = add_rate_columns(df)
    if by:
        df = df.sort_values(by, na_position="last", kind="stable").reset_index(drop=True)
    return df[[*by, *RATE_COLUMNS]]


@dataclass(frozen=True)
class RateSummary:
    """One rate with its counts and Wilson 95% interval (nan when nothing was reviewed)."""

    rate: float
    reviewed: int
    correct: int
    low: float
    high: float


def summarise(correct: int, reviewed: int) -> RateSummary:
    w = wilson(correct, reviewed)
    return RateSummary(w.estimate, reviewed, correct, w.low, w.high)


@dataclass(frozen=True)
class Headline:
    quality: RateSummary  # qa_audit
    accuracy: RateSummary  # golden_set


def _by_source(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, tuple[int, int]]:
    # Over all dates (the sidebar's default) the all-dates rollup holds the same sums in a twentieth of the rows.
    table, by_date = reviews_table(con, filters)
    w = where(filters.with_(source=None), dates=by_date)
    rows = con.execute(
        f"""SELECT CAST(d.source AS VARCHAR), sum(d.reviewed), sum(d.correct)
            FROM {table} d {trainee_join(filters)}
            WHERE {w.sql} GROUP BY 1""",
        w.params,
    ).fetchall()
    return {str(src): (int(correct), int(reviewed)) for src, reviewed, correct in rows}


def headline(con: duckdb.DuckDBPyConnection, filters: Filters) -> Headline:
    """What are overall quality and accuracy under these filters? Pooled counts, Wilson 95% intervals.

    Both are always given (filters.source is ignored)."""
    counts = _by_source(con, filters)
    return Headline(
        quality=summarise(*counts.get("qa_audit", (0, 0))),
        accuracy=summarise(*counts.get("golden_set", (0, 0))),
    )


SOURCES: tuple[Source, ...] = ("qa_audit", "golden_set")


def reviews_by_source(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict[Source, int]:
    """How many quality (qa_audit) and accuracy (golden_set) reviews match the filters (their source is
    ignored)."""
    counts = _by_source(con, filters)
    return {src: counts.get(src, (0, 0))[1] for src in SOURCES}


def lead_measure(con: duckdb.DuckDBPyConnection, filters: Filters) -> Source | None:
    """The measure a page shows when the person has not picked one: filters.source if set, else the one
    with the most reviews under the filters (the figure with the most evidence leads), None without any.
    A team with QA audits only sees quality; one with a golden set only, accuracy."""
    if filters.source is not None:
        return filters.source
    counts = reviews_by_source(con, filters)
    best = max(SOURCES, key=lambda src: counts[src])
    return best if counts[best] > 0 else None


def iso_week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


WEEK_OVER_WEEK_COLUMNS = [
    "source", "reviewed", "correct", "rate", "low", "high",
    "prev_reviewed", "prev_correct", "prev_rate", "prev_low", "prev_high",
    "change", "change_low", "change_high", "z", "p_value",
]  # fmt: skip


def week_over_week(con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date) -> pd.DataFrame:
    """Did quality/accuracy change from last week to this one? Pooled counts per source for the ISO week
    holding `week_start` and the week before, a two-proportion z-test and Newcombe's interval for the change.

    The filters' dates are replaced by the two weeks. One row per source (only filters.source if set).
    Columns: source, reviewed, correct, rate, low, high, prev_reviewed, prev_correct, prev_rate, prev_low,
    prev_high, change (this week minus last, in proportion points), change_low, change_high, z, p_value."""
    monday = iso_week_start(week_start)
    this = _by_source(con, filters.with_(start=monday, end=monday + dt.timedelta(days=6)))
    prev_monday = monday - dt.timedelta(days=7)
    prev = _by_source(con, filters.with_(start=prev_monday, end=monday - dt.timedelta(days=1)))
    sources: list[Source] = [filters.source] if filters.source else ["qa_audit", "golden_set"]
    rows = []
    for src in sources:
        c1, n1 = this.get(src, (0, 0))
        c0, n0 = prev.get(src, (0, 0))
        if n1 == 0 and n0 == 0:
            continue
        now, before = summarise(c1, n1), summarise(c0, n0)
        test = two_proportion_test(c1, n1, c0, n0)
        rows.append(
            {
                "source": src, "reviewed": n1, "correct": c1, "rate": now.rate, "low": now.low,
                "high": now.high, "prev_reviewed": n0, "prev_correct": c0, "prev_rate": before.rate,
                "prev_low": before.low, "prev_high": before.high, "change": test.difference,
                "change_low": test.low, "change_high": test.high, "z": test.z, "p_value": test.p_value,
            }
        )  # fmt: skip
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "source" else "float64") for c in
                             WEEK_OVER_WEEK_COLUMNS})  # fmt: skip
    return pd.DataFrame(rows, columns=WEEK_OVER_WEEK_COLUMNS)

