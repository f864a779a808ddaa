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
from metrics.training import EffectDesign, training_effects

BASELINE_WEEKS = 8  # control limits: 3 sigma around the pooled rate of the 8 weeks before the reported one
MIN_REVIEWS_TO_JUDGE = 30  # fewer reviews in a week: the rate is shown, but no verdict on it


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
    by the pooled rate of the BASELINE_WEEKS weeks before at this week's n, and `beyond_limits` says
    whether the week falls outside them (None without a baseline, or with fewer than
    MIN_REVIEWS_TO_JUDGE reviews this week: too few to judge). A count: `value` holds the count (no
    interval), n = the count, p_value nan, limits and beyond_limits None. `people`: how many people the
    figure is about (for the presenter rule)."""

    name: str
    is_rate: bool
    value: Interval
    n: int
    previous: float
    change: float
    p_value: float
    limits: ControlLimits | None
    beyond_limits: bool | None
    people: int = 0

    @property
    def too_few_to_judge(self) -> bool:
        return self.is_rate and 0 < self.n < MIN_REVIEWS_TO_JUDGE


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
    """`weekly`: week (Monday), reviewed, correct, trainees over this week, the previous one and the
    baseline weeks."""
    counts = {pd.Timestamp(w).date(): (int(n), int(c), int(t)) for w, n, c, t in
              zip(weekly["week"], weekly["reviewed"], weekly["correct"], weekly["trainees"], strict=True)}  # fmt: skip
    n1, c1, people = counts.get(monday, (0, 0, 0))
    n0, c0, _ = counts.get(monday - dt.timedelta(days=7), (0, 0, 0))
    baseline = [counts.get(monday - dt.timedelta(days=7 * k), (0, 0, 0)) for k in range(1, BASELINE_WEEKS + 1)]
    base_n, base_c = sum(b[0] for b in baseline), sum(b[1] for b in baseline)
    now = wilson(c1, n1)
    previous = c0 / n0 if n0 else math.nan
    limits, beyond = None, None
    if base_n > 0 and n1 > 0:
        chart = p_chart_limits([c1], [n1], center=base_c / base_n).iloc[0]
        limits = ControlLimits(base_c / base_n, float(chart["lcl"]), float(chart["ucl"]))
        beyond = bool(chart["beyond"]) if n1 >= MIN_REVIEWS_TO_JUDGE else None
    return Tile(name, True, now, n1, previous, now.estimate - previous, two_proportion_test(c1, n1, c0, n0).p_value,
                limits, beyond, people)


def _count_tile(name: str, now: int, previous: int, people: int) -> Tile:
    return Tile(name, False, Interval(float(now), math.nan, math.nan), now, float(previous),
                float(now - previous), math.nan, None, None, people)


def _decision_weeks(con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Per source and ISO week from `first` to `last` (a Sunday): reviewed, correct, and trainees (distinct
    trainees, counted in the last week only, 0 before it: the tiles name the people of the reported week)."""
    w = where(filters.with_(start=first, end=last, source=None))
    monday = last - dt.timedelta(days=6)
    # Distinct trainees counted over the reported week's rows alone: counted in every week of the window
    # they took most of this query (10M decisions: 0.5 s of CPU against 0.1 s), and no tile reads them.
    return con.execute(
        f"""WITH rows AS (SELECT d.source, d.date, d.trainee_id, d.reviewed, d.correct
                          FROM decision_daily d {trainee_join(filters)} WHERE {w.sql}),
            weeks AS (
                SELECT CAST(source AS VARCHAR) AS source, CAST(date_trunc('week', date) AS DATE) AS week,
                       sum(reviewed) AS reviewed, sum(correct) AS correct
                FROM rows GROUP BY 1, 2),
            people AS (
                SELECT CAST(source AS VARCHAR) AS source, count(DISTINCT trainee_id) AS trainees
                FROM rows WHERE date >= ? GROUP BY 1)
            SELECT weeks.*, CASE WHEN weeks.week = ? THEN coalesce(people.trainees, 0) ELSE 0 END AS trainees
            FROM weeks LEFT JOIN people USING (source)""",
        [*w.params, monday, monday],
    ).df()


def _assessment_weeks(
    con: duckdb.DuckDBPyConnection, filters: Filters, first: dt.date, last: dt.date
) -> pd.DataFrame:
    w = where(filters.with_(start=first, end=last), alias="x", trainee_alias="x", source=False)
    return con.execute(
        f"""WITH {ATTEMPTS_CTE}
            SELECT CAST(date_trunc('week', x.date) AS DATE) AS week, count(*) AS reviewed,
                   count(*) FILTER (WHERE x.pct >= x.pass_mark) AS correct,
                   count(DISTINCT x.trainee_id) AS trainees
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
    for rates, control limits from the 8 weeks before. The filters' dates and source are replaced by the week;
    markets, policies, projects and cohorts apply (to sessions: their own market, policy and project)."""
    monday = iso_week_start(week_start)
    sunday = monday + dt.timedelta(days=6)
    prev_monday, prev_sunday = monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    first = monday - dt.timedelta(days=7 * BASELINE_WEEKS)

    decisions = _decision_weeks(con, filters, first, sunday)
    assessments = _assessment_weeks(con, filters, first, sunday)
    this_week = _trainings_in(con, filters, monday, sunday)
    last_week = _trainings_in(con, filters, prev_monday, prev_sunday)

    trainings = this_week[["training_id", "title", "kind", "policy", "date", "attendees"]].copy()
    trainings["attendees"] = trainings["attendees"].astype("int64")
    active, reached = _active(con, filters, monday, sunday), _people_reached(con, filters, monday, sunday)
    return WeeklyImpact(
        week_start=monday,
        week_end=sunday,
        quality=_rate_tile("Quality", decisions[decisions["source"] == "qa_audit"], monday),
        accuracy=_rate_tile("Accuracy", decisions[decisions["source"] == "golden_set"], monday),
        assessment_pass_rate=_rate_tile("Assessment pass rate", assessments, monday),
        active_trainees=_count_tile("Active trainees", active, _active(con, filters, prev_monday, prev_sunday), active),
        # The sessions' figure is about the people who attended them.
        trainings_delivered=_count_tile("Trainings delivered", len(this_week), len(last_week), reached),
        people_reached=_count_tile("People reached", reached, _people_reached(con, filters, prev_monday, prev_sunday),
                                   reached),
        trainings=trainings.reset_index(drop=True),
    )


P_CHART_COLUMNS = ["week", "reviewed", "correct", "rate", "center", "lcl", "ucl", "beyond", "chosen"]


def p_chart(
    con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date, source: Source
) -> pd.DataFrame:
    """Is this week's rate within the usual week-to-week variation? Montgomery's p-chart (Phase II) for
    the ISO week holding `week_start` and the BASELINE_WEEKS weeks before it: center = the pooled rate of
    the baseline weeks, 3-sigma limits at each week's n, so the chosen week is judged exactly as its tile.
    filters' dates and source are replaced by the window and `source`. Weeks without reviews are left out;
    `beyond` is False for a week with fewer than MIN_REVIEWS_TO_JUDGE reviews (too few to judge).
    Columns: week (Monday), reviewed, correct, rate, center, lcl, ucl, beyond, chosen."""
    monday = iso_week_start(week_start)
    first = monday - dt.timedelta(days=7 * BASELINE_WEEKS)
    w = where(filters.with_(start=first, end=monday + dt.timedelta(days=6), source=source))
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
    df["chosen"] = pd.to_datetime(df["week"]).dt.date == monday
    base = df[~df["chosen"]]
    if base.empty:
        return _empty_chart()  # no baseline: nothing to judge the week against
    limits = p_chart_limits(df["correct"].to_numpy(), df["reviewed"].to_numpy(),
                            center=float(base["correct"].sum() / base["reviewed"].sum()))
    for col in ("center", "lcl", "ucl", "beyond"):
        df[col] = limits[col].to_numpy()
    df["beyond"] = df["beyond"] & (df["reviewed"] >= MIN_REVIEWS_TO_JUDGE)
    return df[P_CHART_COLUMNS]


def _empty_chart() -> pd.DataFrame:
    dtypes = {"week": "datetime64[us]", "reviewed": "int64", "correct": "int64", "beyond": "bool", "chosen": "bool"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in P_CHART_COLUMNS})


@dataclass(frozen=True)
class WeekOption:
    """An ISO week with reviews, and whether the data covers all of it."""

    start: dt.date
    complete: bool
    data_until: dt.date  # the last day with reviews in that week


def week_options(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[WeekOption]:
    """The ISO weeks with reviews under the filters, newest first. A week is complete when the data runs
    to its Sunday or beyond (any review on or after it, under the filters' markets and sources)."""
    w = where(filters)
    rows = con.execute(
        f"""SELECT CAST(date_trunc('week', d.date) AS DATE) AS week, max(d.date) AS until
            FROM decision_daily d {trainee_join(filters)}
            WHERE {w.sql} GROUP BY 1 HAVING sum(d.reviewed) > 0 ORDER BY 1 DESC""",
        w.params,
    ).fetchall()
    if not rows:
        return []
    latest = max(until for _, until in rows)
    return [WeekOption(week, week + dt.timedelta(days=6) <= latest, until) for week, until in rows]


def default_week(options: list[WeekOption]) -> int:
    """Which option a page opens on: the newest complete week (a partial one only if none is complete)."""
    return next((i for i, option in enumerate(options) if option.complete), 0)


TRAINING_EFFECT_COLUMNS = [
    "training_id", "title", "date", "source", "estimator", "estimate", "low", "high", "naive_gain", "n_attendees",
    "n_comparison", "enough_data", "window_closed", "effect", "how", "n", "caveats",
]  # fmt: skip
WEEK_DESIGN = EffectDesign()  # accuracy where attendees have enough golden-set reviews, else quality


def week_training_effects(
    con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date, design: EffectDesign = WEEK_DESIGN
) -> pd.DataFrame:
    """The effects measured so far of the sessions delivered this ISO week: for each, metrics.training's
    `training_effect` with `design` (see there) on the data available now, as its headline says it (all
    the week's sessions measured together, by `training_effects`).

    Columns: training_id, title, date, source (the measure read), estimator, estimate, low, high (the
    headline's figure and interval), naive_gain, n_attendees, n_comparison, enough_data, window_closed
    (False while the after-window runs past the latest decision, so the estimate may still move), and the
    headline's words: effect (figure and verdict), how (the estimate, plain words then method), n, caveats
    (joined with "; ")."""
    monday = iso_week_start(week_start)
    sessions = _trainings_in(con, filters, monday, monday + dt.timedelta(days=6))
    effects = training_effects(con, [[str(i)] for i in sessions["training_id"]], filters, design)
    out = []
    for training_id, title, date, effect in zip(sessions["training_id"], sessions["title"], sessions["date"], effects,
                                                strict=True):
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
