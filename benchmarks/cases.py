"""What the benchmark times: every measure each page calls, with the arguments the page passes on its
first view, and beside each the minimal hand-written DuckDB query and the pandas groupby for the same
aggregate (what a user would otherwise reach for).

The hand-written queries run against plain tables made by `CREATE TABLE t AS FROM read_csv(...)`, the
pandas ones against `pd.read_csv` frames; neither resolves blank markets from the roster, shrinks, tests
or bootstraps: they are the floor a measure is compared with, not a second implementation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from data_sources.log import dataset_counts, history
from data_sources.sample import sample_state
from metrics import assessments as tests_page
from metrics import auditors, items, learning
from metrics import calibration as cal
from metrics.assessments import assessment_gains
from metrics.filters import Filters
from metrics.options import filter_options
from metrics.rates import headline, iso_week_start, rates
from metrics.trainee import (
    coaching_list,
    policy_strengths,
    trainee_assessments,
    trainee_list,
    trainee_trainings,
    trainee_trend,
)
from metrics.training import EffectDesign, effect_event_study, timeline, training_effect, trainings
from metrics.weak_spots import cell_detail, weak_spots
from metrics.weekly import default_week, p_chart, week_options, week_training_effects, weekly_impact

Frames = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Context:
    """The values a page's first view picks, read once from the benchmark store."""

    filters: Filters  # the sidebar's defaults: the whole date range, nothing else
    week: dt.date  # the Overview's default: the last complete ISO week (metrics.weekly.default_week)
    cell: tuple[str, str]  # the Weak spots page's default cell: the top of the list
    trainee_id: str  # the first trainee on the coaching list
    training_ids: tuple[str, ...]  # a session with many attendees, as a trainer would pick
    training_date: dt.date
    training_policy: str | None
    session_id: str  # the Calibration page's default: the latest session
    cohorts: tuple[str, str]  # the Learning page's default comparison


@dataclass(frozen=True)
class Case:
    page: str
    name: str
    call: Callable[[duckdb.DuckDBPyConnection, Context], Any]
    # Positional/keyword arguments after the connection, for ui.cache.measure.
    args: Callable[[Context], tuple[tuple[Any, ...], dict[str, Any]]]
    sql: Callable[[Context], tuple[str, list[Any]]] | None = None
    pandas: Callable[[Frames, Context], Any] | None = None
    fn: Callable[..., Any] | None = field(default=None)


def context(con: duckdb.DuckDBPyConnection) -> Context:
    opts = filter_options(con)
    f = Filters(start=opts.first_date, end=opts.last_date)
    options = week_options(con, f)
    week = options[default_week(options)].start
    spots = weak_spots(con, f.with_(source="golden_set"))
    coach = coaching_list(con, f)
    session = con.execute(
        """SELECT tr.training_id, tr.date, tr.policy FROM trainings tr JOIN attendance a USING (training_id)
           WHERE a.attended AND tr.policy IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC, tr.training_id LIMIT 1"""
    ).fetchone()
    assert session is not None, "the benchmark data has no training with a policy"
    cal_session = con.execute("SELECT session_id FROM calibration ORDER BY date DESC, session_id DESC LIMIT 1").fetchone()
    assert cal_session is not None
    prof = learning.time_to_proficiency(con, f, n_boot=0)
    cohorts = prof["cohort"].tolist()
    return Context(
        filters=f, week=week, cell=(str(spots["market"].iloc[0]), str(spots["policy"].iloc[0])),
        trainee_id=str(coach["trainee_id"].iloc[0]), training_ids=(str(session[0]),), training_date=session[1],
        training_policy=session[2], session_id=str(cal_session[0]), cohorts=(cohorts[0], cohorts[1]),
    )


def _window(c: Context) -> Filters:
    start = c.filters.start or dt.date.min
    return c.filters.with_(start=max(start, c.week - dt.timedelta(weeks=11)), end=c.week + dt.timedelta(days=6))


_DESIGN = EffectDesign(window_days=14, lag_days=0, policy_scope="training", source="qa_audit")


def _case(page: str, fn: Callable[..., Any], args: Callable[[Context], tuple[tuple[Any, ...], dict[str, Any]]],
          sql: Callable[[Context], tuple[str, list[Any]]] | None = None,
          pandas: Callable[[Frames, Context], Any] | None = None, name: str | None = None) -> Case:
    def call(con: duckdb.DuckDBPyConnection, c: Context) -> Any:
        a, k = args(c)
        return fn(con, *a, **k)

    return Case(page, name or f"{fn.__module__.split('.')[-1]}.{fn.__name__}", call, args, sql, pandas, fn)


# ---- the hand-written floor, in SQL and pandas ----------------------------------------------------------

def _d(frames: Frames) -> pd.DataFrame:
    return frames["decisions"]


def _between(df: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    return df[(df["date"] >= pd.Timestamp(first)) & (df["date"] <= pd.Timestamp(last))]


def _weekly_sql(c: Context) -> tuple[str, list[Any]]:
    first = c.week - dt.timedelta(weeks=8)
    return ("""SELECT source, date_trunc('week', date) AS week, count(*), sum(correct::INT),
                      count(DISTINCT trainee_id) FROM decisions WHERE date BETWEEN ? AND ? GROUP BY 1, 2""",
            [first, c.week + dt.timedelta(days=6)])


def _weekly_pd(f: Frames, c: Context) -> Any:
    d = _between(_d(f), c.week - dt.timedelta(weeks=8), c.week + dt.timedelta(days=6))
    return d.groupby([d["source"], d["date"].dt.to_period("W")]).agg(
        n=("correct", "size"), c=("correct", "sum"), t=("trainee_id", "nunique"))


def _pchart_sql(c: Context) -> tuple[str, list[Any]]:
    return ("""SELECT date_trunc('week', date), count(*), sum(correct::INT) FROM decisions
               WHERE source = 'golden_set' AND date BETWEEN ? AND ? GROUP BY 1""",
            [iso_week_start(c.week) - dt.timedelta(weeks=11), c.week + dt.timedelta(days=6)])


def _pchart_pd(f: Frames, c: Context) -> Any:
    d = _d(f)
    d = _between(d[d["source"] == "golden_set"], c.week - dt.timedelta(weeks=11), c.week + dt.timedelta(days=6))
    return d.groupby(d["date"].dt.to_period("W"))["correct"].agg(["size", "sum"])


def _prepost_sql(day: dt.date, source: str, policy: str | None) -> tuple[str, list[Any]]:
    return ("""SELECT trainee_id, count(*) FILTER (WHERE date < ?), sum(correct::INT) FILTER (WHERE date < ?),
                      count(*) FILTER (WHERE date >= ?), sum(correct::INT) FILTER (WHERE date >= ?)
               FROM decisions WHERE source = ? AND (? IS NULL OR policy = ?)
                 AND date >= ? - INTERVAL 14 DAY AND date < ? + INTERVAL 14 DAY GROUP BY 1""",
            [day, day, day, day, source, policy, policy, day, day])


def _prepost_pd(f: Frames, day: dt.date, source: str, policy: str | None) -> Any:
    d = _d(f)
    t = pd.Timestamp(day)
    d = d[(d["source"] == source) & (d["date"] >= t - pd.Timedelta(days=14)) & (d["date"] < t + pd.Timedelta(days=14))]
    if policy is not None:
        d = d[d["policy"] == policy]
    return d.assign(post=d["date"] >= t).groupby(["trainee_id", "post"])["correct"].agg(["size", "sum"])


def _market_policy_sql(c: Context) -> tuple[str, list[Any]]:
    w = _window(c)
    return ("""SELECT market, policy, count(*), sum(correct::INT) FROM decisions
               WHERE source = 'golden_set' AND date BETWEEN ? AND ? GROUP BY 1, 2""", [w.start, w.end])


def _market_policy_pd(f: Frames, c: Context, window: Filters | None = None) -> Any:
    w = window or _window(c)
    d = _d(f)
    d = _between(d[d["source"] == "golden_set"], w.start or dt.date.min, w.end or dt.date.max)
    return d.groupby(["market", "policy"])["correct"].agg(["size", "sum"])


def _tenure_pd(f: Frames, by_trainee: bool) -> Any:
    d = _d(f).merge(f["trainees"][["trainee_id", "cohort", "start_date"]], on="trainee_id")
    d = d.assign(week=(d["date"] - d["start_date"]).dt.days // 7)
    d = d[(d["week"] >= 0) & (d["week"] < (52 if by_trainee else 26))]
    if by_trainee:
        return d.groupby(["trainee_id", "week"])["correct"].agg(["size", "sum"])
    return d.groupby(["cohort", "week"]).agg(t=("trainee_id", "nunique"), n=("correct", "size"), c=("correct", "sum"))


_TENURE_SQL = """SELECT {keys}, floor(datediff('day', t.start_date, d.date) / 7) AS week, {aggs}
                 FROM decisions d JOIN trainees t USING (trainee_id)
                 WHERE d.date >= t.start_date AND d.date < t.start_date + {days} GROUP BY ALL"""
_BY_TRAINEE_WEEK = _TENURE_SQL.format(keys="d.trainee_id", aggs="count(*), sum(d.correct::INT)", days=364)
_BY_COHORT_WEEK = _TENURE_SQL.format(
    keys="t.cohort", aggs="count(DISTINCT d.trainee_id), count(*), sum(d.correct::INT)", days=182)


def _calibration_sql(_c: Context) -> tuple[str, list[Any]]:
    return ("SELECT session_id, item_id, label, count(*) FROM calibration WHERE NOT is_reference GROUP BY ALL", [])


def _calibration_pd(f: Frames, _c: Context) -> Any:
    cal_ = f["calibration"]
    return cal_[~cal_["is_reference"]].groupby(["session_id", "item_id", "label"]).size()


def _no_args(_c: Context) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (), {}


def _f(c: Context) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (c.filters,), {}


CASES: list[Case] = [
    # ---- every page: the sidebar
    _case("(sidebar)", filter_options, _no_args,
          lambda c: ("SELECT list(DISTINCT market), list(DISTINCT policy), min(date), max(date) FROM decisions", []),
          lambda f, c: (_d(f)["market"].unique(), _d(f)["policy"].unique(), _d(f)["date"].min(), _d(f)["date"].max())),
    # ---- Home
    _case("Home", dataset_counts, _no_args,
          lambda c: ("SELECT count(*), min(date), max(date) FROM decisions", []),
          lambda f, c: (len(_d(f)), _d(f)["date"].min(), _d(f)["date"].max())),
    _case("Home", history, _no_args),
    _case("Home", sample_state, _no_args),
    # ---- Overview
    _case("Overview", rates, lambda c: ((c.filters,), {"by": ("week",)}),
          lambda c: ("SELECT date_trunc('week', date), count(*), sum(correct::INT) FROM decisions GROUP BY 1", []),
          lambda f, c: _d(f).groupby(_d(f)["date"].dt.to_period("W"))["correct"].agg(["size", "sum"]),
          name="rates.rates(by=week)"),
    _case("Overview", weekly_impact, lambda c: ((c.filters, c.week), {}), _weekly_sql, _weekly_pd),
    _case("Overview", p_chart, lambda c: ((c.filters, c.week, "golden_set"), {}),
          _pchart_sql, _pchart_pd),
    _case("Overview", week_training_effects, lambda c: ((c.filters, c.week), {}),
          lambda c: _prepost_sql(c.week, "golden_set", None), lambda f, c: _prepost_pd(f, c.week, "golden_set", None)),
    _case("Overview", weak_spots, lambda c: ((_window(c),), {}), _market_policy_sql, _market_policy_pd),
    _case("Overview", coaching_list, lambda c: ((c.filters,), {"min_reviewed": 50}),
          lambda c: ("SELECT trainee_id, policy, count(*), sum(correct::INT) FROM decisions GROUP BY 1, 2", []),
          lambda f, c: _d(f).groupby(["trainee_id", "policy"])["correct"].agg(["size", "sum"])),
    # ---- Training impact (a session picked)
    _case("Training", trainings, _f,
          lambda c: ("SELECT training_id, count(*) FILTER (WHERE attended) FROM attendance GROUP BY 1", []),
          lambda f, c: f["attendance"].groupby("training_id")["attended"].sum()),
    _case("Training", training_effect, lambda c: ((c.training_ids, c.filters, _DESIGN), {}),
          lambda c: _prepost_sql(c.training_date, "qa_audit", c.training_policy),
          lambda f, c: _prepost_pd(f, c.training_date, "qa_audit", c.training_policy)),
    _case("Training", timeline, lambda c: ((c.training_ids, c.filters, _DESIGN), {"source": "qa_audit", "freq": "day"}),
          lambda c: _prepost_sql(c.training_date, "qa_audit", c.training_policy),
          lambda f, c: _prepost_pd(f, c.training_date, "qa_audit", c.training_policy)),
    _case("Training", effect_event_study, lambda c: ((c.training_ids, c.filters, _DESIGN), {"source": "qa_audit"}),
          lambda c: _prepost_sql(c.training_date, "qa_audit", c.training_policy),
          lambda f, c: _prepost_pd(f, c.training_date, "qa_audit", c.training_policy)),
    _case("Training", assessment_gains, lambda c: ((c.filters, c.training_ids), {}),
          lambda c: ("SELECT kind, count(*), avg(score / max_score) FROM assessments GROUP BY 1", []),
          lambda f, c: f["assessments"].groupby("kind")["score"].agg(["size", "mean"])),
    # ---- Trainee explorer (a trainee picked)
    _case("Trainee", trainee_list, _f,
          lambda c: ("SELECT trainee_id, count(*) FROM decisions GROUP BY 1", []),
          lambda f, c: _d(f).groupby("trainee_id").size()),
    _case("Trainee", trainee_trend, lambda c: ((c.trainee_id, c.filters), {}),
          lambda c: ("""SELECT date_trunc('week', date), count(*), sum(correct::INT) FROM decisions
                        WHERE trainee_id = ? GROUP BY 1""", [c.trainee_id]),
          lambda f, c: _d(f)[_d(f)["trainee_id"] == c.trainee_id].groupby(
              _d(f)["date"].dt.to_period("W"))["correct"].agg(["size", "sum"])),
    _case("Trainee", policy_strengths, lambda c: ((c.trainee_id, c.filters), {}),
          lambda c: ("""SELECT d.trainee_id, d.policy, count(*), sum(d.correct::INT) FROM decisions d
                        JOIN trainees t USING (trainee_id)
                        WHERE t.market = (SELECT market FROM trainees WHERE trainee_id = ?) GROUP BY 1, 2""",
                     [c.trainee_id]),
          lambda f, c: _policy_strengths_pd(f, c)),
    _case("Trainee", trainee_trainings, lambda c: ((c.trainee_id,), {"source": "qa_audit"}),
          lambda c: ("SELECT count(*), sum(correct::INT) FROM decisions WHERE trainee_id = ? AND source = 'qa_audit'",
                     [c.trainee_id]),
          lambda f, c: _d(f)[(_d(f)["trainee_id"] == c.trainee_id) & (_d(f)["source"] == "qa_audit")]["correct"].sum()),
    _case("Trainee", trainee_assessments, lambda c: ((c.trainee_id,), {}),
          lambda c: ("SELECT * FROM assessments WHERE trainee_id = ?", [c.trainee_id]),
          lambda f, c: f["assessments"][f["assessments"]["trainee_id"] == c.trainee_id]),
    # the coaching list with the page's default (50 reviews) is the Overview's call: cached there
    # ---- Learning curves
    _case("Learning", learning.learning_curves, _f, lambda c: (_BY_COHORT_WEEK, []),
          lambda f, c: _tenure_pd(f, by_trainee=False)),
    _case("Learning", learning.time_to_proficiency, lambda c: ((c.filters,), {"rule": learning.Proficiency(target=0.9, min_reviews=20)}),
          lambda c: (_BY_TRAINEE_WEEK, []), lambda f, c: _tenure_pd(f, by_trainee=True)),
    _case("Learning", learning.proficiency_curve, lambda c: ((c.filters,), {"rule": learning.Proficiency(target=0.9, min_reviews=20)}),
          lambda c: (_BY_TRAINEE_WEEK, []), lambda f, c: _tenure_pd(f, by_trainee=True)),
    _case("Learning", learning.compare_cohorts,
          lambda c: ((c.cohorts[0], c.cohorts[1], c.filters), {"rule": learning.Proficiency(target=0.9, min_reviews=20)}),
          lambda c: (_BY_TRAINEE_WEEK, []), lambda f, c: _tenure_pd(f, by_trainee=True)),
    # ---- Weak spots (golden set, the page's defaults)
    _case("Weak spots", weak_spots, lambda c: ((c.filters.with_(source="golden_set"),),
                                                {"min_reviewed": 30, "fdr": 0.05}),
          lambda c: ("""SELECT market, policy, count(*), sum(correct::INT) FROM decisions
                        WHERE source = 'golden_set' GROUP BY 1, 2""", []),
          lambda f, c: _market_policy_pd(f, c, c.filters)),
    _case("Weak spots", cell_detail, lambda c: ((c.filters.with_(source="golden_set"), *c.cell), {}),
          lambda c: ("""SELECT expected_label, given_label, count(*) FROM decisions
                        WHERE source = 'golden_set' AND market = ? AND policy = ? AND NOT correct GROUP BY 1, 2""",
                     list(c.cell)),
          lambda f, c: _cell_pd(f, c)),
    # ---- Tests and certification (by cohort, the page's default)
    _case("Tests", tests_page.certification_pass_rates, lambda c: ((c.filters,), {"by": "cohort"}),
          lambda c: ("SELECT kind, attempt, count(*), avg(score / max_score) FROM assessments GROUP BY 1, 2", []),
          lambda f, c: f["assessments"].groupby(["kind", "attempt"])["score"].agg(["size", "mean"])),
    _case("Tests", tests_page.time_to_certification, lambda c: ((c.filters,), {"by": "cohort"}),
          lambda c: ("SELECT kind, attempt, count(*), avg(score / max_score) FROM assessments GROUP BY 1, 2", []),
          lambda f, c: f["assessments"].groupby(["kind", "attempt"])["score"].agg(["size", "mean"])),
    # ---- Item health (the page's default rules)
    _case("Item health", items.item_health, lambda c: ((c.filters.with_(source="golden_set"),), {}),
          lambda c: ("""SELECT item_id, count(*), sum(correct::INT) FROM decisions
                        WHERE source = 'golden_set' AND item_id IS NOT NULL GROUP BY 1""", []),
          lambda f, c: _d(f)[_d(f)["source"] == "golden_set"].groupby("item_id")["correct"].agg(["size", "sum"])),
    _case("Item health", auditors.auditor_severity, lambda c: ((c.filters,), {}),
          lambda c: ("""SELECT reviewer_id, market, policy, date_trunc('week', date), count(*), sum(correct::INT)
                        FROM decisions WHERE source = 'qa_audit' AND reviewer_id IS NOT NULL GROUP BY ALL""", []),
          lambda f, c: _d(f)[_d(f)["source"] == "qa_audit"].groupby(["reviewer_id", "market", "policy"])["correct"]
          .agg(["size", "sum"])),
    _case("Item health", auditors.auditor_agreement, _f,
          lambda c: ("""SELECT item_id, trainee_id, count(DISTINCT reviewer_id) FROM decisions
                        WHERE source = 'qa_audit' AND reviewer_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1""", []),
          lambda f, c: _d(f)[_d(f)["source"] == "qa_audit"].groupby(["item_id", "trainee_id"]).size()),
    # ---- Calibration
    _case("Calibration", cal.sessions, _f, _calibration_sql, _calibration_pd),
    _case("Calibration", cal.session_agreement, lambda c: ((c.session_id,), {}),
          lambda c: ("SELECT item_id, rater_id, label FROM calibration WHERE session_id = ?", [c.session_id]),
          lambda f, c: f["calibration"][f["calibration"]["session_id"] == c.session_id]),
    _case("Calibration", cal.agreement_by_policy, _f, _calibration_sql, _calibration_pd),
    # ---- no page yet: the headline figures
    _case("(library)", headline, _f,
          lambda c: ("SELECT source, count(*), sum(correct::INT) FROM decisions GROUP BY 1", []),
          lambda f, c: _d(f).groupby("source")["correct"].agg(["size", "sum"])),
]


def _policy_strengths_pd(f: Frames, c: Context) -> Any:
    t = f["trainees"]
    market = t.loc[t["trainee_id"] == c.trainee_id, "market"].iloc[0]
    d = _d(f).merge(t.loc[t["market"] == market, ["trainee_id"]], on="trainee_id")
    return d.groupby(["trainee_id", "policy"])["correct"].agg(["size", "sum"])


def _cell_pd(f: Frames, c: Context) -> Any:
    d = _d(f)
    d = d[(d["source"] == "golden_set") & (d["market"] == c.cell[0]) & (d["policy"] == c.cell[1]) & ~d["correct"]]
    return d.groupby(["expected_label", "given_label"]).size()


PANDAS_COLUMNS = {
    "decisions": ["trainee_id", "date", "policy", "correct", "source", "market", "given_label", "expected_label",
                  "item_id", "reviewer_id"],
}


def read_frames(folder: Any) -> Frames:
    """The CSVs as pandas reads them (dates parsed), for the pandas floor."""
    out: Frames = {}
    for name, dates in (("decisions", ["date"]), ("trainees", ["start_date"]), ("attendance", []),
                        ("assessments", ["date"]), ("calibration", ["date"])):
        out[name] = pd.read_csv(folder / f"{name}.csv", usecols=PANDAS_COLUMNS.get(name), parse_dates=dates)
    return out
