"""The weekly impact report: this ISO week's figures against last week's and against the recent run.

Quality and accuracy read the rollup `decision_daily`; assessments, trainings and attendance are small.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from metrics.assessments import ATTEMPTS_CTE
from metrics.filters import Filters, Source, where
from metrics.rates import add_rate_columns, iso_week_start, trainee_join
from metrics.stats import Interval, p_chart_limits, two_proportion_test, wilson
from metrics.training import EffectDesign, training_effect

TRAILING_WEEKS = 8  # the p-chart's baseline for a tile: the 8 weeks before the reported one


@dataclass(frozen=True)
class ControlLimits:
    """Montgomery's p-chart limits for one week: the baseline's pooled rate (`center`) +/- 3 sigma at the
    week's n, clipped to [0, 1]."""

    center: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Tile:
    """One figure of the weekly report.

    A rate (`is_rate`): `value` is correct / n with its Wilson 95% interval; `change` = value - previous
    in proportion points with the two-proportion z-test `p_value`; `limits` are the p-chart's limits set
    by the trailing 8 weeks' pooled rate at this week's n, and `beyond_limits` says whether the week falls
    outside them (None without a baseline). A count: `value` holds the count (no interval), n = the count,
    p_value nan, limits and beyond_limits None."""

    name: str
    is_rate: bool
    value: Interval
    n: int
    previous: float
    change: float
    p_value: float
    limits: ControlLimits | None
    beyond_limits: bool | None


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
    n0, c0 = counts.get(monday - dt.timedelta(days=7), (0, 0))
    trailing = [counts.get(monday - dt.timedelta(days=7 * k), (0, 0)) for k in range(1, TRAILING_WEEKS + 1)]
    base_n, base_c = sum(n for n, _ in trailing), sum(c for _, c in trailing)
    now = wilson(c1, n1)
    previous = c0 / n0 if n0 else math.nan
    limits, beyond = None, None
    if base_n > 0 and n1 > 0:
        chart = p_chart_limits([c1], [n1], center=base_c / base_n).iloc[0]
        limits = ControlLimits(base_c / base_n, float(chart["lcl"]), float(chart["ucl"]))
        beyond = bool(chart["beyond"])
    return Tile(name, True, now, n1, previous, now.estimate - previous, two_proportion_test(c1, n1, c0, n0).p_value,
                limits, beyond)


def _count_tile(name: str, now: int, previous: int) -> Tile:
    return Tile(name, False, Interval(float(now), math.nan, math.nan), now, float(previous),
                float(now - previous), math.nan, None, None)


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


def _assessment_weeks(
    con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date
) -> pd.DataFrame:
    w = where(filters.with_(start=first, end=last), alias="x", trainee_alias="x", source=False)
    return con.execute(
        f"""WITH {ATTEMPTS_CTE}
            SELECT CAST(date_trunc('week', x.date) AS DATE) AS week, count(*) AS reviewed,
                   count(*) FILTER (WHERE x.pct >= x.pass_mark) AS correct
            FROM x WHERE x.pass_mark IS NOT NULL AND x.pct IS NOT NULL AND {w.sql}
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
    "training_id", "title", "date", "source", "estimator", "estimate", "low", "high", "naive_gain", "n_attendees",
    "n_comparison", "enough_data", "window_closed", "effect", "how", "n", "caveats",
]  # fmt: skip
WEEK_DESIGN = EffectDesign()  # accuracy where attendees have enough golden-set reviews, else quality


def week_training_effects(
    con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date, design: EffectDesign = WEEK_DESIGN
) -> pd.DataFrame:
    """The effects measured so far of the sessions delivered this ISO week: for each, metrics.training's
    `training_effect` with `design` (see there) on the data available now, as its headline says it.

    Columns: training_id, title, date, source (the measure read), estimator, estimate, low, high (the
    headline's figure and interval), naive_gain, n_attendees, n_comparison, enough_data, window_closed
    (False while the after-window runs past the latest decision, so the estimate may still move), and the
    headline's words: effect (figure and verdict), how (the estimate, plain words then method), n, caveats
    (joined with "; ")."""
    monday = iso_week_start(week_start)
    sessions = _trainings_in(con, filters, monday, monday + dt.timedelta(days=6))
    out = []
    for training_id, title, date in zip(sessions["training_id"], sessions["title"], sessions["date"], strict=True):
        effect = training_effect(con, [str(training_id)], filters, design)
        head = effect.headline
        out.append({
            "training_id": training_id, "title": title, "date": date, "source": effect.source,
            "estimator": head.estimator, "estimate": head.interval.estimate, "low": head.interval.low,
            "high": head.interval.high, "naive_gain": effect.naive.estimate, "n_attendees": head.n_attendees,
            "n_comparison": head.n_comparison, "enough_data": head.enough_data, "window_closed": not effect.window_open,
            "effect": head.text, "how": head.how, "n": head.n_text, "caveats": "; ".join(head.caveats),
        })  # fmt: skip
    if not out:
        dtypes = {"estimate": "float64", "low": "float64", "high": "float64", "naive_gain": "float64",
                  "n_attendees": "int64", "n_comparison": "int64", "enough_data": "bool",
                  "window_closed": "bool", "date": "datetime64[us]"}  # fmt: skip
        return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "object")) for c in TRAINING_EFFECT_COLUMNS})
    return pd.DataFrame(out, columns=TRAINING_EFFECT_COLUMNS)
