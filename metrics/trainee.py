"""One trainee's profile (trend against cohort-mates, policy strengths, trainings, tests) and the
coaching list: who is below their market once luck is taken out.

Rates from few reviews are shrunk towards the group's rate with a Beta prior whose strength is fitted
across the group's trainees (beta-binomial, `metrics.stats.beta_binomial_prior`), so one bad day flags no one.
"""

from __future__ import annotations

import math
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from metrics.filters import ALL, COHORT_SQL, Filters, where
from metrics.rates import add_rate_columns, reviews_table, trainee_join
from metrics.stats import beta_binomial_prior, shrink

FALLBACK_STRENGTH = 20.0  # pseudo-reviews, when a group has too few trainees to fit a prior


def prior_strength(correct: np.ndarray, reviewed: np.ndarray) -> float:
    """Pseudo-reviews of the Beta prior for a group's trainees: alpha + beta of the beta-binomial fitted
    across them (maximum likelihood, method of moments as fallback); fewer than 3 trainees with reviews:
    a fixed 20."""
    n = np.asarray(reviewed, float)
    if int(np.sum(n > 0)) < 3:
        return FALLBACK_STRENGTH
    prior = beta_binomial_prior(np.asarray(correct, float), n)
    return float(prior.alpha + prior.beta)


LIST_COLUMNS = ["trainee_id", "name", "market", "cohort", "start_date", "status", "reviewed"]


def trainee_list(con: duckdb.DuckDBPyConnection, filters: Filters = ALL) -> pd.DataFrame:
    """Who is on the roster (for search)? Columns: trainee_id, name, market, cohort, start_date, status,
    reviewed (reviews inside the filters). Roster filters: markets, cohorts, projects."""
    table, by_date = reviews_table(con, filters)
    wd = where(filters, alias="d", trainee_alias="t", dates=by_date)
    wt = where(filters, alias="t", trainee_alias="t", dates=False, policies=False, source=False)
    sql = f"""
        WITH r AS (
            SELECT d.trainee_id, sum(d.reviewed)::BIGINT AS reviewed
            FROM {table} d {trainee_join(filters)}
            WHERE {wd.sql} GROUP BY 1)
        SELECT t.trainee_id, t.name, t.market, {COHORT_SQL} AS cohort, t.start_date, t.status,
               coalesce(r.reviewed, 0)::BIGINT AS reviewed
        FROM trainees t LEFT JOIN r USING (trainee_id)
        WHERE {wt.sql}
        ORDER BY t.name NULLS LAST, t.trainee_id"""
    df = con.execute(sql, [*wd.params, *wt.params]).df()
    return df[LIST_COLUMNS] if not df.empty else pd.DataFrame(columns=LIST_COLUMNS)


TREND_COLUMNS = [
    "week", "tenure_week", "reviewed", "correct", "rate", "low", "high", "cohort_p25", "cohort_median",
    "cohort_p75", "cohort_trainees",
]


def trainee_trend(
    con: duckdb.DuckDBPyConnection, trainee_id: str, filters: Filters = ALL, *, min_mate_reviews: int = 10
) -> pd.DataFrame:
    """How has this trainee's accuracy moved week by week, against cohort-mates at the same tenure?

    Weeks are tenure weeks (week = start_date + 7 * tenure_week); without a start date, calendar weeks
    (Monday) and no cohort band. The band: quartiles (p25, median, p75) of cohort-mates' weekly rates in
    the same tenure week, over mates with >= `min_mate_reviews` reviews that week. Columns: week,
    tenure_week, reviewed, correct, rate, low, high, cohort_p25, cohort_median, cohort_p75,
    cohort_trainees. Filters: dates, markets, policies, projects, source (not cohorts)."""
    w = where(filters, alias="d", trainee_alias=None)
    sql = f"""
        WITH me AS (SELECT trainee_id, start_date, {COHORT_SQL} AS cohort FROM trainees t WHERE trainee_id = ?),
        mine AS (
            SELECT coalesce(me.start_date + 7 * floor(datediff('day', me.start_date, d.date) / 7)::INTEGER,
                            date_trunc('week', d.date)::DATE) AS week,
                   floor(datediff('day', me.start_date, d.date) / 7)::INTEGER AS tenure_week,
                   sum(d.reviewed)::BIGINT AS reviewed, sum(d.correct)::BIGINT AS correct
            FROM decision_daily d JOIN me USING (trainee_id)
            WHERE {w.sql} GROUP BY ALL),
        mates AS (
            SELECT d.trainee_id, floor(datediff('day', t.start_date, d.date) / 7)::INTEGER AS tenure_week,
                   sum(d.correct) / sum(d.reviewed) AS rate
            FROM decision_daily d JOIN trainees t USING (trainee_id)
            WHERE t.start_date IS NOT NULL AND {COHORT_SQL} = (SELECT cohort FROM me)
              AND d.trainee_id <> (SELECT trainee_id FROM me) AND d.date >= t.start_date AND {w.sql}
            GROUP BY ALL HAVING sum(d.reviewed) >= ?),
        band AS (
            SELECT tenure_week, quantile_cont(rate, 0.25) AS cohort_p25, quantile_cont(rate, 0.5) AS cohort_median,
                   quantile_cont(rate, 0.75) AS cohort_p75, count(*) AS cohort_trainees
            FROM mates GROUP BY 1)
        SELECT mine.*, band.cohort_p25, band.cohort_median, band.cohort_p75,
               coalesce(band.cohort_trainees, 0) AS cohort_trainees
        FROM mine LEFT JOIN band USING (tenure_week)
        ORDER BY week"""
    df = con.execute(sql, [trainee_id, *w.params, *w.params, min_mate_reviews]).df()
    if df.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    return add_rate_columns(df)[TREND_COLUMNS]


STRENGTH_COLUMNS = [
    "policy", "reviewed", "correct", "rate", "low", "high", "market_rate", "prior_strength", "shrunk_rate",
    "shrunk_low", "shrunk_high", "gap",
]


def policy_strengths(con: duckdb.DuckDBPyConnection, trainee_id: str, filters: Filters = ALL) -> pd.DataFrame:
    """On which policies is this trainee stronger or weaker than their market?

    Per policy: the trainee's reviewed, correct, rate with Wilson interval; market_rate (pooled over all
    trainees whose roster market is the trainee's); the rate shrunk towards market_rate with a Beta prior
    centred there, whose strength (prior_strength, pseudo-reviews) is alpha + beta of a beta-binomial
    fitted across the market's trainees on that policy (a fixed 20 below 3 trainees); shrunk_low/high are
    the posterior's 95% equal-tailed interval; gap = shrunk_rate - market_rate. Weakest first."""
    table, by_date = reviews_table(con, filters)
    w = where(filters, alias="d", trainee_alias=None, dates=by_date)
    # Each peer's row says whether it is the trainee's (`me`) rather than carrying the id: turning tens of
    # thousands of id strings into pandas' cost more than the query.
    sql = f"""
        SELECT d.policy, d.trainee_id = ? AS me, sum(d.reviewed)::BIGINT AS reviewed,
               sum(d.correct)::BIGINT AS correct
        FROM {table} d JOIN trainees t USING (trainee_id)
        WHERE t.market = (SELECT market FROM trainees WHERE trainee_id = ?) AND {w.sql}
        GROUP BY d.trainee_id, d.policy
        ORDER BY d.policy, d.trainee_id"""  # the fits' sums in one order, run after run
    peers = con.execute(sql, [trainee_id, trainee_id, *w.params]).df()
    me = peers["me"].to_numpy(bool)
    if not me.any():
        return pd.DataFrame(columns=STRENGTH_COLUMNS)
    all_correct, all_reviewed = peers["correct"].to_numpy(float), peers["reviewed"].to_numpy(float)
    rows = []
    for policy, positions in sorted(peers.groupby("policy").indices.items()):
        idx = np.asarray(positions)
        mine = idx[me[idx]]
        if len(mine) == 0:
            continue
        correct, reviewed = all_correct[idx], all_reviewed[idx]
        rows.append({
            "policy": policy, "reviewed": int(all_reviewed[mine[0]]), "correct": int(all_correct[mine[0]]),
            "market_rate": correct.sum() / reviewed.sum(), "prior_strength": prior_strength(correct, reviewed),
        })
    df = add_rate_columns(pd.DataFrame(rows))
    post = shrink(df["correct"], df["reviewed"], df["market_rate"], df["prior_strength"])
    df["shrunk_rate"], df["shrunk_low"], df["shrunk_high"] = post.estimate, post.low, post.high
    df["gap"] = df["shrunk_rate"] - df["market_rate"]
    return df.sort_values(["gap", "policy"]).reset_index(drop=True)[STRENGTH_COLUMNS]


TRAINEE_TRAINING_COLUMNS = [
    "training_id", "date", "kind", "title", "policy", "attended", "rating", "pre_reviews", "pre_correct",
    "pre_rate", "pre_low", "pre_high", "post_reviews", "post_correct", "post_rate", "post_low", "post_high",
    "change",
]


def trainee_trainings(
    con: duckdb.DuckDBPyConnection,
    trainee_id: str,
    *,
    window_days: int = 14,
    lag_days: int = 0,
    source: Literal["golden_set", "qa_audit"] = "golden_set",
) -> pd.DataFrame:
    """Which sessions was this trainee on, and how did their accuracy on the session's policy move?

    Windows as in `training.training_effect`: [session - window_days, session) and
    [session + lag_days, session + lag_days + window_days); all policies when the session has none.
    One person's change is not an effect of the training (see the session's page for that); it is shown
    with its counts and Wilson intervals. Columns: training_id, date, kind, title, policy, attended,
    rating (their feedback, 1-5), pre_/post_ reviews, correct, rate, low, high, change (post - pre)."""
    sql = """
        SELECT tr.training_id, tr.date, tr.kind, tr.title, tr.policy, a.attended, f.rating,
               coalesce(sum(d.reviewed) FILTER (WHERE d.date < tr.date), 0)::BIGINT AS pre_reviews,
               coalesce(sum(d.correct) FILTER (WHERE d.date < tr.date), 0)::BIGINT AS pre_correct,
               coalesce(sum(d.reviewed) FILTER (WHERE d.date >= tr.date + ?::INTEGER), 0)::BIGINT AS post_reviews,
               coalesce(sum(d.correct) FILTER (WHERE d.date >= tr.date + ?::INTEGER), 0)::BIGINT AS post_correct
        FROM attendance a JOIN trainings tr USING (training_id)
        LEFT JOIN feedback f ON f.training_id = a.training_id AND f.trainee_id = a.trainee_id
        LEFT JOIN decision_daily d
          ON d.trainee_id = a.trainee_id AND d.source = ?
         AND (tr.policy IS NULL OR lower(trim(d.policy)) = lower(trim(tr.policy)))
         AND d.date >= tr.date - ?::INTEGER AND d.date < tr.date + ?::INTEGER + ?::INTEGER
        WHERE a.trainee_id = ?
        GROUP BY ALL ORDER BY tr.date DESC, tr.training_id"""
    params = [lag_days, lag_days, source, window_days, lag_days, window_days, trainee_id]
    df = con.execute(sql, params).df()
    if df.empty:
        return pd.DataFrame(columns=TRAINEE_TRAINING_COLUMNS)
    df = add_rate_columns(df, correct="pre_correct", reviewed="pre_reviews", prefix="pre_")
    df = add_rate_columns(df, correct="post_correct", reviewed="post_reviews", prefix="post_")
    df["change"] = df["post_rate"] - df["pre_rate"]
    return df[TRAINEE_TRAINING_COLUMNS]


ASSESSMENT_COLUMNS = [
    "date", "assessment", "kind", "policy", "attempt", "score", "max_score", "pct", "pass_mark", "passed",
    "training_id",
]


def trainee_assessments(con: duckdb.DuckDBPyConnection, trainee_id: str) -> pd.DataFrame:
    """Which tests has this trainee sat, and did they pass? pct = score / max_score * 100; passed is
    pct >= pass_mark (empty when the test has no pass mark). Newest first."""
    df = con.execute(
        """
        SELECT date, assessment, kind, policy, attempt, score, max_score,
               score / nullif(max_score, 0) * 100 AS pct, pass_mark,
               CASE WHEN pass_mark IS NULL THEN NULL ELSE score / nullif(max_score, 0) * 100 >= pass_mark END AS passed,
               training_id
        FROM assessments WHERE trainee_id = ? ORDER BY date DESC, assessment, attempt DESC""",
        [trainee_id],
    ).df()
    return df[ASSESSMENT_COLUMNS] if not df.empty else pd.DataFrame(columns=ASSESSMENT_COLUMNS)


COACHING_COLUMNS = [
    "trainee_id", "name", "market", "cohort", "reviewed", "correct", "rate", "low", "high", "group_rate",
    "prior_strength", "shrunk_rate", "shrunk_low", "shrunk_high", "needs_coaching", "weakest_policy",
    "weakest_policy_reviewed", "weakest_policy_rate", "weakest_policy_gap",
]


def coaching_list(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    min_reviewed: int = 50,
    threshold: float | None = None,
    level: Literal["market", "market_cohort"] = "market",
    min_policy_reviewed: int = 10,
) -> pd.DataFrame:
    """Who needs coaching: whose accuracy is below their market's, once luck is taken out?

    Trainees with >= `min_reviewed` reviews in the filters, lowest shrunk rate first. Each rate is shrunk
    towards the pooled rate of the trainee's group (roster market, or market x cohort), with a Beta prior
    whose strength is fitted across the group's trainees (beta-binomial; a fixed 20 pseudo-reviews below
    3 trainees). needs_coaching: the shrunk rate's 95% upper bound is below the group's rate (or below
    `threshold` when given). weakest_policy: the policy (>= `min_policy_reviewed` reviews) furthest below
    the market's rate on it, after the same shrinkage per market x policy; weakest_policy_gap =
    shrunk rate - market's rate on it."""
    table, by_date = reviews_table(con, filters)
    w = where(filters, alias="d", trainee_alias="t", dates=by_date)
    # Sum on the narrow keys first, then join the roster: grouping millions of rollup rows by name,
    # market and cohort text as well took twice as long (10M decisions: 1.9 s against 0.9 s).
    sql = f"""
        WITH c AS (
            SELECT d.trainee_id, d.policy, sum(d.reviewed)::BIGINT AS reviewed, sum(d.correct)::BIGINT AS correct
            FROM {table} d {trainee_join(filters)}
            WHERE {w.sql}
            GROUP BY ALL)
        SELECT c.trainee_id, t.market, c.policy, c.reviewed, c.correct
        FROM c JOIN trainees t USING (trainee_id)"""
    cells = con.execute(sql, w.params).df()
    if cells.empty:
        return pd.DataFrame(columns=COACHING_COLUMNS)
    keys = ["market"] if level == "market" else ["market", "cohort"]
    people = cells.groupby(["trainee_id", "market"], sort=False, dropna=False).agg(
        reviewed=("reviewed", "sum"), correct=("correct", "sum")).reset_index()
    # Names and cohorts from the roster, one row a trainee: carried on every trainee x policy row, their
    # text cost more to fetch than the sums (10M decisions: 200k rows).
    roster = con.execute(f"SELECT t.trainee_id, t.name, {COHORT_SQL} AS cohort FROM trainees t").df()
    roster["cohort"] = roster["cohort"].fillna("")
    people = people.merge(roster, on="trainee_id", how="left")[["trainee_id", "market", "cohort", "name", "reviewed",
                                                                "correct"]]

    group_rows = []
    for key, g in people.groupby(keys, sort=False):
        c, n = g["correct"].to_numpy(float), g["reviewed"].to_numpy(float)
        key_t = key if isinstance(key, tuple) else (key,)
        group_rows.append({**dict(zip(keys, key_t, strict=True)), "group_rate": c.sum() / n.sum(),
                           "prior_strength": prior_strength(c, n)})
    people = people.merge(pd.DataFrame(group_rows), on=keys, how="left")
    people = people[people["reviewed"] >= min_reviewed].copy()
    if people.empty:
        return pd.DataFrame(columns=COACHING_COLUMNS)
    people = add_rate_columns(people)
    post = shrink(people["correct"], people["reviewed"], people["group_rate"], people["prior_strength"])
    people["shrunk_rate"], people["shrunk_low"], people["shrunk_high"] = post.estimate, post.low, post.high
    bar = people["group_rate"] if threshold is None else threshold
    people["needs_coaching"] = people["shrunk_high"] < bar

    people = people.merge(_weakest_policies(cells, min_policy_reviewed), on="trainee_id", how="left")
    people["cohort"] = people["cohort"].replace("", None)
    return people.sort_values(["shrunk_rate", "trainee_id"]).reset_index(drop=True)[COACHING_COLUMNS]


def _weakest_policies(cells: pd.DataFrame, min_policy_reviewed: int) -> pd.DataFrame:
    """Per trainee, the policy whose shrunk rate is furthest below the market's rate on that policy."""
    cols = ["trainee_id", "weakest_policy", "weakest_policy_reviewed", "weakest_policy_rate", "weakest_policy_gap"]
    c, n = cells["correct"].to_numpy(float), cells["reviewed"].to_numpy(float)
    market_rate = np.full(len(cells), math.nan)
    strength = np.full(len(cells), math.nan)
    # One prior per market x policy, over numpy slices: frames per group cost more than the fits.
    for idx in cells.groupby(["market", "policy"], sort=False).indices.values():
        total = n[idx].sum()
        market_rate[idx] = c[idx].sum() / total if total > 0 else math.nan
        strength[idx] = prior_strength(c[idx], n[idx])
    shrunk = (c + market_rate * strength) / (n + strength)  # posterior mean only: no interval needed
    # The text columns as they are: through numpy they become objects, converted back row by row.
    allp = cells[["trainee_id", "policy", "reviewed"]].set_axis(
        ["trainee_id", "weakest_policy", "weakest_policy_reviewed"], axis=1).reset_index(drop=True)
    allp["weakest_policy_rate"] = shrunk
    allp["weakest_policy_gap"] = shrunk - market_rate
    allp = allp[allp["weakest_policy_reviewed"].to_numpy() >= min_policy_reviewed]
    if allp.empty:
        return pd.DataFrame(columns=cols)
    allp = allp.sort_values(["trainee_id", "weakest_policy_gap", "weakest_policy"])
    return allp.drop_duplicates("trainee_id").reset_index(drop=True)[cols]
