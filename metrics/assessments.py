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

from metrics.effects_stats import hake_class_gain, hake_gain
from metrics.filters import ALL, COHORT_SQL, Filters, where
from metrics.inference import PairedComparison, paired_comparison
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
    hake_mean_individual: float  # mean of individual g = (post - pre) / (100 - pre), pre < 100 only
    pass_rates: pd.DataFrame = field(repr=False)  # test (pre_test/post_test), attempts, passed, rate, low, high
    pairs: pd.DataFrame = field(repr=False)  # PAIR_COLUMNS

    @property
    def gain(self) -> Interval:
        """Mean of post - pre, in percentage points, with its paired t interval."""
        return self.paired.difference


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
    and the nearest later date); mean gain with a paired t interval, paired t and Wilcoxon tests, Hake's
    normalised gain both as the class average <g> and as the mean of individual gains; pass rates of
    pre- and post-tests (score / max_score * 100 >= pass_mark, tests without a pass mark left out) with
    Wilson intervals. Filters: dates (of the pre-test), markets, policies, projects, cohorts."""
    w = where(filters, alias="pre", trainee_alias="pre", source=False)
    ids_sql = "TRUE" if training_ids is None else "list_contains(?::VARCHAR[], pre.training_id)"
    ids_params: list[object] = [] if training_ids is None else [[str(i) for i in training_ids]]
    sql = f"""
        WITH {ATTEMPTS_CTE},
        pre AS (
            SELECT * FROM x WHERE kind = 'pre_test'
            QUALIFY row_number() OVER (PARTITION BY trainee_id, coalesce(training_id, pkey || date::VARCHAR)
                                       ORDER BY date, attempt) = 1),
        post AS (
            SELECT * FROM x WHERE kind = 'post_test'
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
    pairs = con.execute(sql, [*w.params, *ids_params, *w.params, *ids_params]).df()
    if pairs.empty:
        pairs = pd.DataFrame(columns=PAIR_COLUMNS)
    pre = pairs["pre_pct"].to_numpy(float)
    post = pairs["post_pct"].to_numpy(float)
    pairs["gain"] = post - pre
    pairs["hake_g"] = hake_gain(pre, post)
    pairs = pairs[PAIR_COLUMNS]
    test = paired_comparison(pre, post)
    indiv = pairs["hake_g"].to_numpy(float)
    indiv = indiv[np.isfinite(indiv)]
    return AssessmentGains(
        n=len(pairs),
        mean_pre=float(np.mean(pre)) if pre.size else math.nan,
        mean_post=float(np.mean(post)) if post.size else math.nan,
        paired=test,
        hake_class=hake_class_gain(pre, post),
        hake_mean_individual=float(np.mean(indiv)) if indiv.size else math.nan,
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
    "cohort", "assessment", "trainees", "passed", "rate", "low", "high", "first_attempt_passed",
    "first_attempt_rate", "first_attempt_low", "first_attempt_high",
]


def certification_pass_rates(con: duckdb.DuckDBPyConnection, filters: Filters = ALL) -> pd.DataFrame:
    """What share of each cohort passed each certification, ever and at the first attempt?

    One row per cohort x certification: trainees who sat it, passed (any attempt), rate with Wilson
    interval, and the same for first attempts. Pass: score / max_score * 100 >= pass_mark; attempts
    without a pass mark are left out. Filters: dates (of the attempt), markets, policies, projects, cohorts."""
    w = where(filters, alias="x", trainee_alias="x", source=False)
    sql = f"""
        WITH {ATTEMPTS_CTE},
        per_trainee AS (
            SELECT cohort, assessment, trainee_id, bool_or(pct >= pass_mark) AS passed,
                   arg_min(pct >= pass_mark, (date, attempt)) AS first_passed
            FROM x WHERE kind = 'certification' AND pass_mark IS NOT NULL AND {w.sql}
            GROUP BY ALL)
        SELECT cohort, assessment, count(*) AS trainees, count(*) FILTER (WHERE passed) AS passed,
               count(*) FILTER (WHERE first_passed) AS first_attempt_passed
        FROM per_trainee GROUP BY ALL ORDER BY cohort, assessment"""
    df = con.execute(sql, w.params).df()
    if df.empty:
        return pd.DataFrame(columns=CERT_COLUMNS)
    df = add_rate_columns(df, correct="passed", reviewed="trainees")
    df = add_rate_columns(df, correct="first_attempt_passed", reviewed="trainees", prefix="first_attempt_")
    return df[CERT_COLUMNS]
