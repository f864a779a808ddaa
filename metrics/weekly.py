"""The weekly impact report: this ISO week's figures against last week's and against the recent run.

Quality and accuracy read the rollup `decision_daily`; assessments, trainings and attendance are small.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from metrics.filters import Filters, Source, where
from metrics.rates import add_rate_columns, iso_week_start, trainee_join
from metrics.stats import p_chart_limits, two_proportion_test, wilson

TRAILING_WEEKS = 8  # the p-chart's baseline for a tile: the 8 weeks before the reported one


@dataclass(frozen=True)
class Tile:
    """One figure of the weekly report.

    For a rate (`is_rate`): value = correct / n with Wilson 95% low/high; change = value - previous in
    proportion points with the two-proportion z-test `p_value`; `beyond_limits` = outside the 3-sigma
    p-chart limits set by the trailing 8 weeks' pooled rate at this week's n (None without a baseline).
    For a count: value = n = the count; low, high and p_value are nan and beyond_limits is None."""

    name: str
    is_rate: bool
    value: float
    n: int
    low: float
    high: float
    previous: float
    change: float
    p_value: float
    beyond_limits: bool | None
    center: float  # trailing 8 weeks' pooled rate (nan for counts)
    lcl: float
    ucl: float


@dataclass(frozen=True)
class WeeklyImpact:
    """The ISO week from `week_start` (a Monday) to `week_end` (Sunday).

    trainings: training_id, title, kind, policy, date, attendees (attended), for the sessions delivered
    this week."""

    week_start: dt.date
    week_end: dt.date
    quality: Tile
    accuracy: Tile
    assessment_pass_rate: Tile
    active_trainees: Tile
    trainings_delivered: Tile
    people_reached: Tile
    trainings: pd.DataFrame

    @property
    def tiles(self) -> list[Tile]:
        return [self.quality, self.accuracy, self.assessment_pass_rate, self.active_trainees,
                self.trainings_delivered, self.people_reached]  # fmt: skip


def _rate_tile(name: str, weekly: pd.DataFrame, monday: dt.date) -> Tile:
    """`weekly`: week (Monday), reviewed, correct over this week, the previous one and the trailing 8."""
    counts = {pd.Timestamp(w).date(): (int(n), int(c)) for w, n, c in
              zip(weekly["week"], weekly["reviewed"], weekly["correct"], strict=True)}  # fmt: skip
    n1, c1 = counts.get(monday, (0, 0))
    prev_monday = monday - dt.timedelta(days=7)
    n0, c0 = counts.get(prev_monday, (0, 0))
    trailing = [counts.get(monday - dt.timedelta(days=7 * k), (0, 0)) for k in range(1, TRAILING_WEEKS + 1)]
    base_n = sum(n for n, _ in trailing)
    base_c = sum(c for _, c in trailing)
    now = wilson(c1, n1)
    previous = c0 / n0 if n0 else math.nan
    test = two_proportion_test(c1, n1, c0, n0)
    center, lcl, ucl, beyond = math.nan, math.nan, math.nan, None
    if base_n > 0 and n1 > 0:
        center = base_c / base_n
        chart = p_chart_limits([c1], [n1], center=center).iloc[0]
        lcl, ucl, beyond = float(chart["lcl"]), float(chart["ucl"]), bool(chart["beyond"])
    return Tile(name, True, now.estimate, n1, now.low, now.high, previous, now.estimate - previous,
                test.p_value, beyond, center, lcl, ucl)  # fmt: skip


def _count_tile(name: str, now: int, previous: int) -> Tile:
    nan = math.nan
    return Tile(name, False, float(now), now, nan, nan, float(previous), float(now - previous), nan, None,
                nan, nan, nan)  # fmt: skip


def _decision_weeks(con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date) -> pd.DataFrame:
    w = where(filters.with_(start=first, end=last, source=None))
    return con.execute(
        f"""SELECT CAST(d.source AS VARCHAR) AS source, CAST(date_trunc('week', d.date) AS DATE) AS week,
                   sum(d.reviewed) AS reviewed, sum(d.correct) AS correct,
                   count(DISTINCT d.trainee_id) AS trainees
            FROM decision_daily d {trainee_join(filters)}
            WHERE {w.sql} GROUP BY 1, 2""",
        w.params,
    ).df()


# Assessments with the trainee's market, project and cohort, so that where() filters them under one alias.
_ASSESSMENTS = """
    SELECT a.trainee_id, a.date, a.policy, a.score, a.max_score, a.pass_mark,
           t.market, t.project, t.cohort
    FROM assessments a LEFT JOIN trainees t ON t.trainee_id = a.trainee_id
"""


def _assessment_weeks(
    con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date
) -> pd.DataFrame:
    w = where(filters.with_(start=first, end=last), alias="x", trainee_alias="x", source=False)
    return con.execute(
        f"""WITH x AS ({_ASSESSMENTS})
            SELECT CAST(date_trunc('week', x.date) AS DATE) AS week, count(*) AS reviewed,
                   count(*) FILTER (WHERE x.score / x.max_score * 100 >= x.pass_mark) AS correct
            FROM x WHERE x.pass_mark IS NOT NULL AND x.max_score > 0 AND {w.sql}
            GROUP BY 1""",
        w.params,
    ).df()


def _trainings_in(con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date) -> pd.DataFrame:
    # A session is selected by its own date, market, policy and project (as on the training page).
    w = where(filters.with_(start=first, end=last), alias="tr", trainee_alias=None, source=False)
    return con.execute(
        f"""SELECT tr.training_id, tr.title, tr.kind, tr.policy, tr.date,
                   count(DISTINCT a.trainee_id) FILTER (WHERE a.attended) AS attendees
            FROM trainings tr LEFT JOIN attendance a ON a.training_id = tr.training_id
            WHERE {w.sql}
            GROUP BY ALL ORDER BY tr.date, tr.training_id""",
        w.params,
    ).df()


def _people_reached(con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date) -> int:
    w = where(filters.with_(start=first, end=last), alias="tr", trainee_alias=None, source=False)
    row = con.execute(
        f"""SELECT count(DISTINCT a.trainee_id) FROM trainings tr
            JOIN attendance a ON a.training_id = tr.training_id AND a.attended
            WHERE {w.sql}""",
        w.params,
    ).fetchone()
    return int(row[0]) if row else 0


def _active(con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date) -> int:
    w = where(filters.with_(start=first, end=last, source=None))
    row = con.execute(
        f"""SELECT count(DISTINCT d.trainee_id) FROM decision_daily d
            {trainee_join(filters)} WHERE {w.sql}""",
        w.params,
    ).fetchone()
    return int(row[0]) if row else 0


def weekly_impact(con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date) -> WeeklyImpact:
    """What happened in this ISO week, and is any of it more than week-to-week noise?

    Tiles (see Tile): quality (qa_audit) and accuracy (golden_set) from the rollup; assessment pass rate
    (attempts with a pass_mark: score / max_score * 100 >= pass_mark); active trainees (distinct trainees
    with decisions that week); trainings delivered (sessions dated in the week); people reached (distinct
    trainees who attended those sessions). Each against last week (two-proportion z-test for rates) and,
    for rates, a p-chart over the trailing 8 weeks. The filters' dates and source are replaced by the week;
    markets, policies, projects and cohorts apply (to sessions: their own market, policy and project)."""
    monday = iso_week_start(week_start)
    sunday = monday + dt.timedelta(days=6)
    prev_monday, prev_sunday = monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    first = monday - dt.timedelta(days=7 * TRAILING_WEEKS)

    decisions = _decision_weeks(con, filters, first, sunday)
    assessments = _assessment_weeks(con, filters, first, sunday)
    this_week = _trainings_in(con, filters, monday, sunday)
    last_week = _trainings_in(con, filters, prev_monday, prev_sunday)

    trainings = this_week[["training_id", "title", "kind", "policy", "date", "attendees"]].copy()
    trainings["attendees"] = trainings["attendees"].astype("int64")
    return WeeklyImpact(
        week_start=monday,
        week_end=sunday,
        quality=_rate_tile("Quality", decisions[decisions["source"] == "qa_audit"], monday),
        accuracy=_rate_tile("Accuracy", decisions[decisions["source"] == "golden_set"], monday),
        assessment_pass_rate=_rate_tile("Assessment pass rate", assessments, monday),
        active_trainees=_count_tile(
            "Active trainees", _active(con, filters, monday, sunday), _active(con, filters, prev_monday, prev_sunday)
        ),
        trainings_delivered=_count_tile("Trainings delivered", len(this_week), len(last_week)),
        people_reached=_count_tile(
            "People reached",
            _people_reached(con, filters, monday, sunday),
            _people_reached(con, filters, prev_monday, prev_sunday),
        ),
        trainings=trainings.reset_index(drop=True),
    )


P_CHART_COLUMNS = ["week", "reviewed", "correct", "rate", "center", "lcl", "ucl", "beyond"]


def p_chart(
    con: duckdb.DuckDBPyConnection, filters: Filters, weeks: int = 12, source: Source = "golden_set"
) -> pd.DataFrame:
    """Is this week's rate within the usual week-to-week variation? Montgomery's p-chart over the last
    `weeks` ISO weeks up to filters.end (or the latest data): center = the pooled rate of those weeks,
    3-sigma limits at each week's n. filters.start and filters.source are replaced by the window and
    `source`. Weeks without reviews are left out.
    Columns: week (Monday), reviewed, correct, rate, center, lcl, ucl, beyond."""
    end = filters.end
    if end is None:
        w = where(filters.with_(source=source))
        row = con.execute(
            f"""SELECT max(d.date) FROM decision_daily d {trainee_join(filters)} WHERE {w.sql}""",
            w.params,
        ).fetchone()
        end = row[0] if row and row[0] is not None else None
    if end is None or weeks <= 0:
        return _empty_chart()
    first = iso_week_start(end) - dt.timedelta(days=7 * (weeks - 1))
    w = where(filters.with_(start=first, end=end, source=source))
    df = con.execute(
        f"""SELECT CAST(date_trunc('week', d.date) AS DATE) AS week, sum(d.reviewed) AS reviewed,
                   sum(d.correct) AS correct
            FROM decision_daily d {trainee_join(filters)}
            WHERE {w.sql} GROUP BY 1 HAVING sum(d.reviewed) > 0 ORDER BY 1""",
        w.params,
    ).df()
    if df.empty:
        return _empty_chart()
    df = add_rate_columns(df)
    limits = p_chart_limits(df["correct"].to_numpy(), df["reviewed"].to_numpy())
    for col in ("center", "lcl", "ucl", "beyond"):
        df[col] = limits[col].to_numpy()
    return df[P_CHART_COLUMNS]


def _empty_chart() -> pd.DataFrame:
    dtypes = {"week": "datetime64[us]", "reviewed": "int64", "correct": "int64", "beyond": "bool"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in P_CHART_COLUMNS})


TRAINING_EFFECT_COLUMNS = [
    "training_id", "title", "date", "source", "estimate", "low", "high", "naive_gain", "n_attendees",
    "n_comparison", "enough_data", "window_closed", "warnings",
]  # fmt: skip


def week_training_effects(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    week_start: dt.date,
    *,
    window_days: int = 14,
    source: Source | None = None,
) -> pd.DataFrame:
    """The effects measured so far of the sessions delivered this ISO week: for each, metrics.training's
    `training_effect` (difference-in-differences against untrained trainees; see there) on the data
    available now. `window_closed` is False while the post window (date + window_days) runs past the
    latest decision, so the estimate may still move.

    Source: `source`, else filters.source, else accuracy (golden_set), falling back to quality (qa_audit)
    for a session whose attendees have too few golden-set reviews; the `source` column says which.
    Columns: training_id, title, date, source, estimate, low, high, naive_gain, n_attendees, n_comparison,
    enough_data, window_closed, warnings (joined with "; ")."""
    # Imported here so that the weekly report's other figures do not depend on the training module.
    from metrics.training import _effect, _per_unit_by_source

    monday = iso_week_start(week_start)
    sessions = _trainings_in(con, filters, monday, monday + dt.timedelta(days=6))
    row = con.execute("SELECT max(date) FROM decision_daily").fetchone()
    latest = row[0] if row else None
    chosen = source or filters.source
    tries: list[Source] = [chosen] if chosen else ["golden_set", "qa_audit"]
    out = []
    for training_id, title, date in zip(sessions["training_id"], sessions["title"], sessions["date"], strict=True):
        # Both sources' counts from one query when the session may fall back from one to the other; the
        # effect on each is training_effect's (its defaults: no lag, the session's policy).
        units = (_per_unit_by_source(con, [str(training_id)], filters, window_days, 0, "training")
                 if len(tries) > 1 else {})
        for src in tries:
            effect = _effect(con, [str(training_id)], filters, window_days, 0, "training", src, 10, 5, 1000, 0,
                             units.get(src))
            if effect.enough_data:
                break
        day = pd.Timestamp(date).date()
        out.append({
            "training_id": training_id, "title": title, "date": date, "source": src,
            "estimate": effect.estimate, "low": effect.low, "high": effect.high, "naive_gain": effect.naive_gain,
            "n_attendees": effect.n_attendees, "n_comparison": effect.n_comparison,
            "enough_data": effect.enough_data,
            "window_closed": latest is not None and day + dt.timedelta(days=window_days) <= latest,
            "warnings": "; ".join(effect.warnings),
        })  # fmt: skip
    if not out:
        dtypes = {"estimate": "float64", "low": "float64", "high": "float64", "naive_gain": "float64",
                  "n_attendees": "int64", "n_comparison": "int64", "enough_data": "bool",
                  "window_closed": "bool", "date": "datetime64[us]"}  # fmt: skip
        return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in TRAINING_EFFECT_COLUMNS})
    return pd.DataFrame(out, columns=TRAINING_EFFECT_COLUMNS)
