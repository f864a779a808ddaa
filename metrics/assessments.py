"""Test scores: pre-test to post-test gains and certification pass rates, from the `assessments` table.

Scores are read as a percentage of the maximum score; an attempt passes at score / max_score * 100 >= pass_mark
(attempts without a pass mark are left out of pass rates). A trainee's market, project and cohort come from
the roster, so the sidebar's filters apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from metrics.curves import kaplan_meier, km_median
from metrics.effects_stats import hake_class_gain, hake_gain
from metrics.filters import ALL, COHORT_SQL, Filters, where
from metrics.inference import (
    ChiSquare,
    PairedComparison,
    StandardisedDifference,
    TwoSampleT,
    chi_square_proportions,
    mean_t_interval,
    paired_comparison,
    standardised_difference,
    two_sample_t,
)
from metrics.rates import add_rate_columns
from metrics.stats import Interval

PAIR_COLUMNS = [
    "trainee_id", "training_id", "policy", "pre_date", "pre_pct", "post_date", "post_pct", "gain", "hake_g",
]
PASS_COLUMNS = ["test", "attempts", "passed", "rate", "low", "high"]


@dataclass(frozen=True)
class AssessmentGains:
    """Pre-test vs post-test scores, per trainee matched, in percentage points of the maximum score."""

    n: int  # matched pre/post pairs
    mean_pre: float
    mean_post: float
    paired: PairedComparison  # post - pre per trainee: paired t-test ("t(9) = 4.74") and Wilcoxon beside it
    hake_class: float  # Hake's class-average <g> = (<post> - <pre>) / (100 - <pre>)
    # Marx & Cummings' (2007) normalised change c, averaged over trainees, with its t interval: bounded
    # in [-1, 1], so people near 100% cannot dominate it as they do an average of individual Hake gains.
    normalised_change: Interval
    pass_rates: pd.DataFrame = field(repr=False)  # test (pre_test/post_test), attempts, passed, rate, low, high
    pairs: pd.DataFrame = field(repr=False)  # PAIR_COLUMNS

    @property
    def gain(self) -> Interval:
        """Mean of post - pre, in percentage points, with its paired t interval."""
        return self.paired.difference


def normalised_change(before_pct: np.ndarray, after_pct: np.ndarray) -> np.ndarray:
    """Marx & Cummings' (2007, Am. J. Phys. 75, 87) normalised change per person on percentage scores:
    (after - before) / (100 - before) when the score rose, (after - before) / before when it fell, 0 when
    it stayed; nan (left out) when it stayed at 0 or 100, where no change was possible."""
    b = np.asarray(before_pct, float)
    a = np.asarray(after_pct, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(a > b, (a - b) / (100 - b), np.where(a < b, (a - b) / b, 0.0))
    return np.where((a == b) & ((b == 0) | (b == 100)), np.nan, c)


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """The mean of the finite values with its t interval (the paired t interval of values against 0)."""
    return mean_t_interval(values, confidence=confidence)


# Every attempt as a percentage of its maximum, with the trainee's market, project and cohort from the
# roster (so that where() filters attempts under the one alias `x`). A CTE named `x`.
ATTEMPTS_CTE = f"""
    x AS (
        SELECT a.trainee_id, a.date, a.assessment, a.kind, a.policy, a.attempt, a.training_id,
               a.score / nullif(a.max_score, 0) * 100 AS pct, a.pass_mark,
               lower(trim(a.policy)) AS pkey, t.market, t.project,
               {COHORT_SQL} AS cohort
        FROM assessments a LEFT JOIN trainees t USING (trainee_id))
"""


def assessment_gains(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, training_ids: Sequence[str] | None = None
) -> AssessmentGains:
    """How much did test scores rise from pre-test to post-test?

    Method: pairs each trainee's first-attempt pre-test with a post-test (same training_id, or same policy
    and the nearest later date; pre-tests without a training are paired by policy); mean gain with a
    paired t interval, paired t and Wilcoxon tests, Hake's class-average normalised gain <g> and Marx &
    Cummings' normalised change c averaged over trainees with its t interval; pass rates of
    pre- and post-tests (score / max_score * 100 >= pass_mark, tests without a pass mark left out) with
    Wilson intervals. Filters: dates (of the pre-test), markets, policies, projects, cohorts."""
    w = where(filters, alias="pre", trainee_alias="pre", source=False)
    ids_sql = "TRUE" if training_ids is None else "list_contains(?::VARCHAR[], pre.training_id)"
    ids_params: list[object] = [] if training_ids is None else [[str(i) for i in training_ids]]
    # With sessions picked, only the tests whose first-attempt group is one of them can pair: whole groups
    # (by the same key as the window's) are kept before the windows, which ranked every test in the store.
    groups_sql = ("TRUE" if training_ids is None
                  else "list_contains(?::VARCHAR[], coalesce(training_id, pkey || date::VARCHAR))")
    sql = f"""
        WITH {ATTEMPTS_CTE},
        pre AS (
            SELECT * FROM x WHERE kind = 'pre_test' AND {groups_sql}
            QUALIFY row_number() OVER (PARTITION BY trainee_id, coalesce(training_id, pkey || date::VARCHAR)
                                       ORDER BY date, attempt) = 1),
        post AS (
            SELECT * FROM x WHERE kind = 'post_test' AND {groups_sql}
            QUALIFY row_number() OVER (PARTITION BY trainee_id, coalesce(training_id, pkey || date::VARCHAR)
                                       ORDER BY date, attempt) = 1),
        by_training AS (
            SELECT pre.trainee_id, pre.training_id, pre.policy, pre.date AS pre_date, pre.pct AS pre_pct,
                   post.date AS post_date, post.pct AS post_pct
            FROM pre JOIN post ON post.trainee_id = pre.trainee_id AND post.training_id = pre.training_id
            WHERE {w.sql} AND {ids_sql}
            QUALIFY row_number() OVER (PARTITION BY pre.trainee_id, pre.training_id ORDER BY post.date) = 1),
        by_policy AS (
            SELECT pre.trainee_id, pre.training_id, pre.policy, pre.date AS pre_date, pre.pct AS pre_pct,
                   post.date AS post_date, post.pct AS post_pct
            FROM pre ASOF JOIN post
              ON post.trainee_id = pre.trainee_id AND post.pkey = pre.pkey AND post.date >= pre.date
            WHERE pre.training_id IS NULL AND {w.sql} AND {ids_sql})
        SELECT * FROM by_training UNION ALL SELECT * FROM by_policy ORDER BY trainee_id, pre_date"""
    pairs = con.execute(sql, [*ids_params, *ids_params, *w.params, *ids_params, *w.params, *ids_params]).df()
    if pairs.empty:
        pairs = pd.DataFrame(columns=PAIR_COLUMNS)
    pre = pairs["pre_pct"].to_numpy(float)
    post = pairs["post_pct"].to_numpy(float)
    pairs["gain"] = post - pre
    pairs["hake_g"] = hake_gain(pre, post)
    pairs = pairs[PAIR_COLUMNS]
    test = paired_comparison(pre, post)
    return AssessmentGains(
        n=len(pairs),
        mean_pre=float(np.mean(pre)) if pre.size else math.nan,
        mean_post=float(np.mean(post)) if post.size else math.nan,
        paired=test,
        hake_class=hake_class_gain(pre, post),
        normalised_change=mean_interval(normalised_change(pre, post)),
        pass_rates=_pass_rates(con, filters, training_ids),
        pairs=pairs,
    )


def _pass_rates(
    con: duckdb.DuckDBPyConnection, filters: Filters, training_ids: Sequence[str] | None
) -> pd.DataFrame:
    w = where(filters, alias="x", trainee_alias="x", source=False)
    ids_sql = "TRUE" if training_ids is None else "list_contains(?::VARCHAR[], x.training_id)"
    ids_params: list[object] = [] if training_ids is None else [[str(i) for i in training_ids]]
    sql = f"""
        WITH {ATTEMPTS_CTE}
        SELECT kind AS test, count(*) AS attempts, count(*) FILTER (WHERE pct >= pass_mark) AS passed
        FROM x WHERE kind IN ('pre_test', 'post_test') AND pass_mark IS NOT NULL AND {w.sql} AND {ids_sql}
        GROUP BY kind ORDER BY kind DESC"""
    df = con.execute(sql, [*w.params, *ids_params]).df()
    if df.empty:
        return pd.DataFrame(columns=PASS_COLUMNS)
    return add_rate_columns(df, correct="passed", reviewed="attempts")[PASS_COLUMNS]


CERT_COLUMNS = [
    "group", "assessment", "trainees", "passed", "rate", "low", "high", "first_attempt_passed",
    "first_attempt_rate", "first_attempt_low", "first_attempt_high", "attempts_to_pass", "attempts_low",
    "attempts_high",
]
GROUPINGS = {"cohort": "cohort", "market": "market"}  # the SQL columns of the attempts CTE a page may group by


def _per_trainee_certifications(con: duckdb.DuckDBPyConnection, filters: Filters, by: str) -> pd.DataFrame:
    """One row per trainee x certification: group, passed (ever), first attempt passed, attempts up to and
    including the first pass, the days from the trainee's start to that pass (or to the last attempt)."""
    group = GROUPINGS[by]  # identifiers only from the whitelist
    w = where(filters, alias="x", trainee_alias="x", source=False)
    sql = f"""
        WITH {ATTEMPTS_CTE},
        ranked AS (
            SELECT x.*, row_number() OVER (PARTITION BY trainee_id, assessment ORDER BY date, attempt) AS nth
            FROM x WHERE kind = 'certification' AND pass_mark IS NOT NULL AND pct IS NOT NULL AND {w.sql})
        SELECT coalesce(r.{group}, '(none)') AS "group", r.assessment, r.trainee_id,
               bool_or(r.pct >= r.pass_mark) AS passed,
               bool_or(r.pct >= r.pass_mark AND r.nth = 1) AS first_attempt_passed,
               min(r.nth) FILTER (WHERE r.pct >= r.pass_mark) AS attempts_to_pass,
               datediff('day', any_value(t.start_date),
                        coalesce(min(r.date) FILTER (WHERE r.pct >= r.pass_mark), max(r.date))) AS days
        FROM ranked r LEFT JOIN trainees t USING (trainee_id)
        GROUP BY ALL"""
    return con.execute(sql, w.params).df()


def certification_pass_rates(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, by: str = "cohort"
) -> pd.DataFrame:
    """What share of each cohort (or market) passed each certification, at the first attempt and ever,
    and in how many attempts?

    One row per group x certification: trainees who sat it; passed (any attempt) and first-attempt passes,
    each a rate with its Wilson interval; attempts_to_pass, the mean number of attempts among those who
    passed, with a t interval. Pass: score / max_score * 100 >= pass_mark; attempts without a pass mark are
    left out. Filters: dates (of the attempt), markets, policies, projects, cohorts."""
    people = _per_trainee_certifications(con, filters, by)
    if people.empty:
        return pd.DataFrame(columns=CERT_COLUMNS)
    rows = []
    for (group, assessment), g in people.groupby(["group", "assessment"], sort=True):
        attempts = mean_interval(g["attempts_to_pass"].dropna().to_numpy(float))
        rows.append({"group": group, "assessment": assessment, "trainees": len(g), "passed": int(g["passed"].sum()),
                     "first_attempt_passed": int(g["first_attempt_passed"].sum()),
                     "attempts_to_pass": attempts.estimate, "attempts_low": attempts.low,
                     "attempts_high": attempts.high})
    df = add_rate_columns(pd.DataFrame(rows), correct="passed", reviewed="trainees")
    df = add_rate_columns(df, correct="first_attempt_passed", reviewed="trainees", prefix="first_attempt_")
    return df[CERT_COLUMNS]


def pass_rate_test(rates: pd.DataFrame, assessment: str) -> ChiSquare:
    """Do the groups' first-attempt pass rates on this certification differ at all, before any pairwise
    look? The chi-square test of k proportions over a `certification_pass_rates` frame."""
    one = rates[rates["assessment"] == assessment]
    return chi_square_proportions(one["first_attempt_passed"].to_numpy(float), one["trainees"].to_numpy(float))


TIME_COLUMNS = ["group", "assessment", "trainees", "certified", "median_weeks", "median_low", "median_high"]


def time_to_certification(
    con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, by: str = "cohort"
) -> pd.DataFrame:
    """How long from a trainee's start date to passing each certification? Kaplan-Meier over weeks from
    the start to the first pass, those who have not passed yet censored at their last attempt (as the
    learning curves' time to proficiency); the median with its log-log band interval (nan: fewer than
    half have passed). Trainees without a start date are left out."""
    people = _per_trainee_certifications(con, filters, by).dropna(subset=["days"])
    rows = []
    for (group, assessment), g in people.groupby(["group", "assessment"], sort=True):
        weeks = np.maximum(g["days"].to_numpy(float), 0) / 7
        median = km_median(kaplan_meier(weeks, g["passed"].to_numpy(bool)))
        rows.append({"group": group, "assessment": assessment, "trainees": len(g), "certified": int(g["passed"].sum()),
                     "median_weeks": median.median, "median_low": median.low, "median_high": median.high})
    return pd.DataFrame(rows, columns=TIME_COLUMNS)


@dataclass(frozen=True)
class ScoreComparison:
    """Two groups' first-attempt scores (percent of the maximum) on one assessment."""

    assessment: str
    first: str
    second: str
    test: TwoSampleT  # Welch: mean(second) - mean(first)
    size: StandardisedDifference  # d_s and Hedges' g_s


def compare_scores(
    con: duckdb.DuckDBPyConnection, filters: Filters, assessment: str, first: str, second: str, *, by: str = "cohort"
) -> ScoreComparison:
    """Do two cohorts' (or markets') scores on this assessment differ? Welch's t-test on first attempts,
    with the interval of the difference and the standardised difference (Hedges' g_s) beside it."""
    group = GROUPINGS[by]
    w = where(filters, alias="x", trainee_alias="x", source=False)
    sql = f"""
        WITH {ATTEMPTS_CTE}
        SELECT x.{group} AS "group", x.pct FROM x
        WHERE x.assessment = ? AND x.pct IS NOT NULL AND list_contains(?::VARCHAR[], x.{group}) AND {w.sql}
        QUALIFY row_number() OVER (PARTITION BY x.trainee_id ORDER BY x.date, x.attempt) = 1"""
    scores = con.execute(sql, [assessment, [first, second], *w.params]).df()
    a = scores.loc[scores["group"] == first, "pct"].to_numpy(float)
    b = scores.loc[scores["group"] == second, "pct"].to_numpy(float)
    return ScoreComparison(assessment, first, second, two_sample_t(a, b), standardised_difference(a, b))
