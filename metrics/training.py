"""Training effectiveness: did a session (or a group of sessions) change how attendees work?

Attendees' accuracy on the training's policy before and after the session is compared with that of
similar trainees who were not trained (difference-in-differences), and with where each trainee started
(ANCOVA), so that what changed for everyone and regression to the mean are not credited to the training.
Feedback ratings (reaction) are listed beside the measured change in work (behaviour). Test scores
(pre/post tests, certifications) are measured in `assessment_gains` and `certification_pass_rates`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from metrics.effects_stats import (
    ancova,
    batched_ancova_effect,
    hake_class_gain,
    hake_gain,
    mean_interval,
    paired_test,
    percentile_interval,
    welch_less,
)
from metrics.filters import Filters, where
from metrics.stats import wilson_arrays

ALL = Filters()  # no filter: a frozen value, safe as a default
PolicyScope = Literal["training", "all"]
EffectSource = Literal["golden_set", "qa_audit"]

TRAINING_COLUMNS = [
    "training_id", "date", "kind", "title", "policy", "market", "trainer", "attendees", "no_shows",
    "mean_rating", "ratings",
]


def trainings(con: duckdb.DuckDBPyConnection, filters: Filters = ALL) -> pd.DataFrame:
    """Which sessions were delivered, to how many, and how did attendees rate them?

    Columns: training_id, date, kind, title, policy, market, trainer, attendees (attended), no_shows
    (on the list, did not attend), mean_rating (1-5 feedback), ratings (how many rated). Filters: date
    range, markets, policies and projects of the session; newest first."""
    w = where(filters, alias="tr", trainee_alias=None, source=False)
    sql = f"""
        WITH att AS (
            SELECT training_id, count(*) FILTER (WHERE attended) AS attendees,
                   count(*) FILTER (WHERE NOT attended) AS no_shows
            FROM attendance GROUP BY training_id),
        fb AS (SELECT training_id, avg(rating) AS mean_rating, count(*) AS ratings FROM feedback GROUP BY training_id)
        SELECT tr.training_id, tr.date, tr.kind, tr.title, tr.policy, tr.market, tr.trainer,
               coalesce(att.attendees, 0) AS attendees, coalesce(att.no_shows, 0) AS no_shows,
               fb.mean_rating, coalesce(fb.ratings, 0) AS ratings
        FROM trainings tr LEFT JOIN att USING (training_id) LEFT JOIN fb USING (training_id)
        WHERE {w.sql}
        ORDER BY tr.date DESC, tr.training_id"""
    df = con.execute(sql, w.params).df()
    return df[TRAINING_COLUMNS] if not df.empty else pd.DataFrame(columns=TRAINING_COLUMNS)


# Who is compared with whom. Parameters, in order: training ids, window days, lag days.
# Attendees: attended one of the sessions; a trainee at several is counted once, at the first.
# Comparison: trainees in the markets of a session's attendees who attended none of the sessions and
# attended no training on the session's policy within that session's windows; a trainee eligible for
# several sessions is counted once, against the first, so every trainee is one unit (for the bootstrap).
_UNITS = """
    p AS (SELECT ?::VARCHAR[] AS ids, ?::INTEGER AS win, ?::INTEGER AS lag),
    sessions AS (
        SELECT tr.training_id, tr.date AS session_date, lower(trim(tr.policy)) AS pkey
        FROM trainings tr, p WHERE list_contains(p.ids, tr.training_id)),
    att AS (
        SELECT a.trainee_id, s.training_id, s.session_date, s.pkey,
               row_number() OVER (PARTITION BY a.trainee_id ORDER BY s.session_date, s.training_id) AS rn
        FROM attendance a JOIN sessions s USING (training_id) WHERE a.attended),
    att_markets AS (SELECT DISTINCT att.training_id, t.market FROM att JOIN trainees t USING (trainee_id)),
    policy_trained AS (
        SELECT a.trainee_id, tr.date, lower(trim(tr.policy)) AS pkey
        FROM attendance a JOIN trainings tr USING (training_id) WHERE a.attended),
    comparison AS (
        SELECT t.trainee_id, s.training_id, s.session_date, s.pkey,
               row_number() OVER (PARTITION BY t.trainee_id ORDER BY s.session_date, s.training_id) AS rn
        FROM sessions s JOIN att_markets m USING (training_id) JOIN trainees t ON t.market = m.market, p
        WHERE t.trainee_id NOT IN (SELECT trainee_id FROM att)
          AND NOT EXISTS (
              SELECT 1 FROM policy_trained q
              WHERE q.trainee_id = t.trainee_id AND q.pkey = s.pkey
                AND q.date >= s.session_date - p.win AND q.date < s.session_date + p.lag + p.win)),
    units AS (
        SELECT trainee_id, training_id, session_date, pkey, 'attended' AS grp FROM att WHERE rn = 1
        UNION ALL
        SELECT trainee_id, training_id, session_date, pkey, 'comparison' AS grp FROM comparison WHERE rn = 1)
"""


def _unit_decisions(where_sql: str) -> str:
    """Decisions of a unit inside its windows. Parameters: source, all policies?, then `where_sql`'s."""
    return f"""
        FROM units u JOIN trainees t USING (trainee_id) CROSS JOIN p
        LEFT JOIN decision_daily d
          ON d.trainee_id = u.trainee_id AND d.source = ?
         AND (? OR u.pkey IS NULL OR lower(trim(d.policy)) = u.pkey)
         AND d.date >= u.session_date - p.win AND d.date < u.session_date + p.lag + p.win
         AND {where_sql}
    """


def _per_unit_cte(where_sql: str) -> str:
    """Each unit's reviews and correct answers in its pre and post windows."""
    return f"""
        per_unit AS (
            SELECT u.trainee_id, u.grp AS "group", u.training_id, u.session_date,
                   coalesce(sum(d.reviewed) FILTER (WHERE d.date < u.session_date), 0)::BIGINT AS pre_reviews,
                   coalesce(sum(d.correct) FILTER (WHERE d.date < u.session_date), 0)::BIGINT AS pre_correct,
                   coalesce(sum(d.reviewed) FILTER (WHERE d.date >= u.session_date + p.lag), 0)::BIGINT AS post_reviews,
                   coalesce(sum(d.correct) FILTER (WHERE d.date >= u.session_date + p.lag), 0)::BIGINT AS post_correct
            {_unit_decisions(where_sql)}
            GROUP BY ALL)
    """


def _effect_filters(filters: Filters) -> tuple[str, list[object]]:
    # The windows set the dates, the training sets the policy, the caller the source: the filter
    # contributes markets, projects and cohorts only.
    w = where(filters, alias="d", trainee_alias="t", dates=False, policies=False, source=False)
    return w.sql, w.params


def _per_unit(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters,
    window_days: int,
    lag_days: int,
    policy_scope: PolicyScope,
    source: EffectSource,
) -> pd.DataFrame:
    wsql, wparams = _effect_filters(filters)
    sql = f"WITH {_UNITS}, {_per_unit_cte(wsql)} SELECT * FROM per_unit ORDER BY 2, 1"
    params = [list(training_ids), window_days, lag_days, source, policy_scope == "all", *wparams]
    return con.execute(sql, params).df()


_SOURCES: tuple[EffectSource, ...] = ("golden_set", "qa_audit")


def _per_unit_by_source(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters,
    window_days: int,
    lag_days: int,
    policy_scope: PolicyScope,
) -> dict[EffectSource, pd.DataFrame]:
    """`_per_unit` for each source, from one query: the units (who is compared with whom) are worked out
    once instead of once per source."""
    wsql, wparams = _effect_filters(filters)
    sums = []
    for i, src in enumerate(_SOURCES):
        for when, test in (("pre", "d.date < u.session_date"), ("post", "d.date >= u.session_date + p.lag")):
            for col, out in (("reviewed", "reviews"), ("correct", "correct")):
                sums.append(f"coalesce(sum(d.{col}) FILTER (WHERE d.source = '{src}' AND {test}), 0)::BIGINT "
                            f"AS s{i}_{when}_{out}")
    decisions = _unit_decisions(wsql).replace("AND d.source = ?", "AND d.source IN ('golden_set', 'qa_audit')")
    sql = f"""
        WITH {_UNITS},
        per_unit AS (
            SELECT u.trainee_id, u.grp AS "group", u.training_id, u.session_date, {", ".join(sums)}
            {decisions}
            GROUP BY ALL)
        SELECT * FROM per_unit ORDER BY 2, 1"""
    params = [list(training_ids), window_days, lag_days, policy_scope == "all", *wparams]
    both = con.execute(sql, params).df()
    keys = ["trainee_id", "group", "training_id", "session_date"]
    counts = ["pre_reviews", "pre_correct", "post_reviews", "post_correct"]
    return {src: both[keys + [f"s{i}_{c}" for c in counts]].set_axis(keys + counts, axis=1)
            for i, src in enumerate(_SOURCES)}


PER_TRAINEE_COLUMNS = [
    "trainee_id", "group", "training_id", "pre_reviews", "pre_correct", "pre_rate", "post_reviews",
    "post_correct", "post_rate",
]


@dataclass(frozen=True)
class TrainingEffect:
    """What a session did to attendees' accuracy, read several ways.

    Rates are pooled (correct / reviewed over the group's trainees); effects are in proportion points
    (0.03 = 3 points). low/high are 95% intervals."""

    training_ids: tuple[str, ...]
    window_days: int
    lag_days: int
    policy_scope: PolicyScope
    source: EffectSource
    enough_data: bool
    # Difference-in-differences: attendees' change minus the comparison group's change.
    estimate: float
    low: float
    high: float
    # Attendees' post - pre alone (ignores what changed for everyone).
    naive_gain: float
    naive_low: float
    naive_high: float
    attendee_pre: float
    attendee_post: float
    comparison_pre: float
    comparison_post: float
    n_attendees: int  # with enough reviews in both windows
    n_comparison: int
    attendees_listed: int  # attended, before the minimum-review rule
    reviews_attendees_pre: int
    reviews_attendees_post: int
    reviews_comparison_pre: int
    reviews_comparison_post: int
    # Over attendees' per-trainee rates (post - pre).
    paired_mean_gain: float
    paired_t_p: float
    wilcoxon_p: float
    d_z: float
    hedges_g: float
    # ANCOVA: post rate on pre rate + attended, one unweighted row per trainee.
    ancova_estimate: float
    ancova_low: float
    ancova_high: float
    ancova_p: float
    selected_low_scorers: bool
    selection_p: float  # one-sided Welch t: attendees' pre rates below the comparison group's
    # Which adjusted effect to read: "ancova" when attendees were picked on their pre scores (the
    # difference-in-differences then holds regression to the mean too), else "did".
    preferred: Literal["did", "ancova"]
    warnings: tuple[str, ...]
    per_trainee: pd.DataFrame = field(repr=False)


def _rate(correct: float, reviewed: float) -> float:
    return correct / reviewed if reviewed > 0 else math.nan


def training_effect(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters = ALL,
    *,
    window_days: int = 14,
    lag_days: int = 0,
    policy_scope: PolicyScope = "training",
    source: EffectSource = "golden_set",
    min_trainees: int = 10,
    min_reviews: int = 5,
    n_boot: int = 1000,
    seed: int = 0,
) -> TrainingEffect:
    """Did attending these sessions change accuracy, beyond what changed for similar untrained trainees?

    Method. Each attendee's accuracy (on the session's policy, or all policies) in the `window_days`
    before the session and in the `window_days` starting `lag_days` after it, against a comparison group
    in the same markets who did not attend and were not trained on that policy in those windows (their
    windows sit on the same session date). Trainees count only with >= `min_reviews` reviews in each
    window.
    - estimate: difference-in-differences of pooled rates; interval from a bootstrap over trainees
      (attendees and comparison resampled separately, so a trainee's reviews move together).
    - naive_gain: attendees' post - pre, same bootstrap (attendees only).
    - paired tests over attendees' per-trainee rates: t-test, Wilcoxon signed-rank, d_z (mean change /
      SD of changes) and Hedges' g (mean change / average of pre and post SDs, times J(n - 1)).
    - ANCOVA: OLS of each trainee's post rate on their pre rate and an attended indicator, unweighted (one
      row per trainee); interval from the same trainee bootstrap, p-value from the OLS t-test.
    - selected_low_scorers: attendees started lower than the comparison group, read as both a one-sided
      Welch t-test p < 0.05 on per-trainee pre rates and the attendees' mean pre rate below the
      comparison group's 40th percentile. Their raw gain then holds regression to the mean, and so does
      the difference-in-differences (the comparison group, picked as the higher scorers, drifts down):
      `preferred` is then "ancova", which compares trainees who started at the same level.
    Fewer than `min_trainees` attendees or comparison trainees: enough_data is False, effects are nan and
    a warning says why (rates and counts are still given).
    """
    return _effect(con, training_ids, filters, window_days, lag_days, policy_scope, source, min_trainees,
                   min_reviews, n_boot, seed, None)


def _effect(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters,
    window_days: int,
    lag_days: int,
    policy_scope: PolicyScope,
    source: EffectSource,
    min_trainees: int,
    min_reviews: int,
    n_boot: int,
    seed: int,
    units: pd.DataFrame | None,
) -> TrainingEffect:
    """`training_effect`'s work, on `units` (as `_per_unit` gives them) when the caller has them."""
    ids = tuple(dict.fromkeys(str(i) for i in training_ids))
    if units is None:
        units = _per_unit(con, ids, filters, window_days, lag_days, policy_scope, source) if ids else pd.DataFrame()
    warns: list[str] = []
    if ids:
        rows = con.execute(
            "SELECT training_id, policy FROM trainings WHERE list_contains(?::VARCHAR[], training_id)", [list(ids)]
        ).fetchall()
        if not rows:
            warns.append("None of the chosen sessions is in the data: pick a session from the list.")
        elif policy_scope == "training" and any(policy is None for _, policy in rows):
            warns.append("A chosen session has no policy: its attendees' accuracy on all policies is used.")
    else:
        warns.append("No session chosen.")

    if units.empty:
        units = pd.DataFrame(columns=[*PER_TRAINEE_COLUMNS[:3], "session_date", "pre_reviews", "pre_correct",
                                      "post_reviews", "post_correct"])
    attendees_listed = int((units["group"] == "attended").sum())
    ok = (units["pre_reviews"] >= min_reviews) & (units["post_reviews"] >= min_reviews)
    per = units[ok].copy()
    for col in ("pre_reviews", "pre_correct", "post_reviews", "post_correct"):
        per[col] = per[col].astype("int64")
    per["pre_rate"] = per["pre_correct"] / per["pre_reviews"]
    per["post_rate"] = per["post_correct"] / per["post_reviews"]
    per = per[PER_TRAINEE_COLUMNS].reset_index(drop=True)

    a = per[per["group"] == "attended"]
    c = per[per["group"] == "comparison"]
    n_a, n_c = len(a), len(c)
    sums = {
        f"{g}_{col}": int(frame[col].sum())
        for g, frame in (("a", a), ("c", c))
        for col in ("pre_reviews", "pre_correct", "post_reviews", "post_correct")
    }
    a_pre = _rate(sums["a_pre_correct"], sums["a_pre_reviews"])
    a_post = _rate(sums["a_post_correct"], sums["a_post_reviews"])
    c_pre = _rate(sums["c_pre_correct"], sums["c_pre_reviews"])
    c_post = _rate(sums["c_post_correct"], sums["c_post_reviews"])

    enough_att = n_a >= min_trainees
    enough_comp = n_c >= min_trainees
    if ids and not enough_att:
        warns.append(
            f"Only {n_a} attendees had at least {min_reviews} reviews before and after: not enough data to "
            f"measure an effect (needs {min_trainees})."
        )
    if ids and enough_att and not enough_comp:
        warns.append(
            f"Only {n_c} comparable trainees (same markets, not trained on this policy) had at least "
            f"{min_reviews} reviews before and after: the attendees' change cannot be told apart from what "
            f"changed for everyone (needs {min_trainees})."
        )

    nan = math.nan
    naive = (nan, nan, nan)
    did = (nan, nan, nan)
    anc = (nan, nan, nan, nan)
    paired = paired_test(np.array([]), np.array([]))
    selected, selection_p = False, nan
    if enough_att:
        rng = np.random.default_rng(seed)
        arr_a = a[["pre_reviews", "pre_correct", "post_reviews", "post_correct"]].to_numpy(float)
        idx_a = rng.integers(0, n_a, size=(n_boot, n_a))
        boot_a = arr_a[idx_a].sum(axis=1)  # (n_boot, 4) sums of resampled attendees
        with np.errstate(divide="ignore", invalid="ignore"):
            gain_a = boot_a[:, 3] / boot_a[:, 2] - boot_a[:, 1] / boot_a[:, 0]
        naive = (a_post - a_pre, *percentile_interval(gain_a))
        paired = paired_test(a["pre_rate"].to_numpy(float), a["post_rate"].to_numpy(float))
        if enough_comp:
            arr_c = c[["pre_reviews", "pre_correct", "post_reviews", "post_correct"]].to_numpy(float)
            idx_c = rng.integers(0, n_c, size=(n_boot, n_c))
            boot_c = arr_c[idx_c].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                gain_c = boot_c[:, 3] / boot_c[:, 2] - boot_c[:, 1] / boot_c[:, 0]
            did = ((a_post - a_pre) - (c_post - c_pre), *percentile_interval(gain_a - gain_c))

            pre = np.concatenate([a["pre_rate"].to_numpy(float), c["pre_rate"].to_numpy(float)])
            post = np.concatenate([a["post_rate"].to_numpy(float), c["post_rate"].to_numpy(float)])
            treated = np.concatenate([np.ones(n_a), np.zeros(n_c)])
            fit = ancova(pre, post, treated)
            idx = np.concatenate([idx_a, idx_c + n_a], axis=1)
            boot_anc = batched_ancova_effect(pre[idx], post[idx], np.broadcast_to(treated, idx.shape))
            anc = (float(fit.coef[2]), *percentile_interval(boot_anc), fit.p_value(2))

            selection_p = welch_less(a["pre_rate"].to_numpy(float), c["pre_rate"].to_numpy(float))
            comp_p40 = float(np.quantile(c["pre_rate"].to_numpy(float), 0.4))
            selected = bool(selection_p < 0.05 and float(a["pre_rate"].mean()) < comp_p40)
            if selected:
                warns.append(
                    "Attendees were picked from low scorers: part of their before/after gain is regression "
                    "to the mean; read the adjusted effect."
                )
                warns.append(
                    "Because attendees were chosen on their scores before the session, the comparison with "
                    "untrained colleagues (difference-in-differences) is inflated too: the low scorers drift "
                    "up and the others drift down by chance. Read the effect adjusted for each trainee's "
                    "starting score (ANCOVA)."
                )

    return TrainingEffect(
        training_ids=ids,
        window_days=window_days,
        lag_days=lag_days,
        policy_scope=policy_scope,
        source=source,
        enough_data=enough_att and enough_comp,
        estimate=did[0],
        low=did[1],
        high=did[2],
        naive_gain=naive[0],
        naive_low=naive[1],
        naive_high=naive[2],
        attendee_pre=a_pre,
        attendee_post=a_post,
        comparison_pre=c_pre,
        comparison_post=c_post,
        n_attendees=n_a,
        n_comparison=n_c,
        attendees_listed=attendees_listed,
        reviews_attendees_pre=sums["a_pre_reviews"],
        reviews_attendees_post=sums["a_post_reviews"],
        reviews_comparison_pre=sums["c_pre_reviews"],
        reviews_comparison_post=sums["c_post_reviews"],
        paired_mean_gain=paired.mean_diff,
        paired_t_p=paired.t_p,
        wilcoxon_p=paired.wilcoxon_p,
        d_z=paired.d_z,
        hedges_g=paired.hedges_g,
        ancova_estimate=anc[0],
        ancova_low=anc[1],
        ancova_high=anc[2],
        ancova_p=anc[3],
        selected_low_scorers=selected,
        selection_p=selection_p,
        preferred="ancova" if selected else "did",
        warnings=tuple(warns),
        per_trainee=per,
    )


TIMELINE_COLUMNS = ["group", "offset", "reviewed", "correct", "rate", "low", "high"]


def timeline(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters = ALL,
    *,
    window_days: int = 14,
    lag_days: int = 0,
    policy_scope: PolicyScope = "training",
    source: EffectSource = "golden_set",
    min_reviews: int = 5,
    freq: Literal["day", "week"] = "week",
) -> pd.DataFrame:
    """How did attendees' and the comparison group's accuracy move, day by day or week by week, around
    the session? For the chart with the pre and post windows shaded.

    Same trainees as `training_effect` (those with >= `min_reviews` reviews in both windows). Columns:
    group ('attended'/'comparison'), offset (days, or weeks = floor(days / 7), since each trainee's
    session; negative = before), reviewed, correct, rate, Wilson low/high."""
    ids = [str(i) for i in dict.fromkeys(training_ids)]
    if not ids:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    wsql, wparams = _effect_filters(filters)
    step = 1 if freq == "day" else 7
    sql = f"""
        WITH {_UNITS}, {_per_unit_cte(wsql)},
        kept AS (SELECT trainee_id FROM per_unit WHERE pre_reviews >= ? AND post_reviews >= ?)
        SELECT u.grp AS "group", floor(datediff('day', u.session_date, d.date) / ?)::INTEGER AS "offset",
               sum(d.reviewed)::BIGINT AS reviewed, sum(d.correct)::BIGINT AS correct
        {_unit_decisions(wsql)}
        WHERE u.trainee_id IN (SELECT trainee_id FROM kept) AND d.date IS NOT NULL
        GROUP BY ALL ORDER BY 1, 2"""
    head = [ids, window_days, lag_days, source, policy_scope == "all", *wparams]
    params = [*head, min_reviews, min_reviews, step, source, policy_scope == "all", *wparams]
    df = con.execute(sql, params).df()
    if df.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    df["rate"] = df["correct"] / df["reviewed"]
    df["low"], df["high"] = wilson_arrays(df["correct"].to_numpy(), df["reviewed"].to_numpy())
    return df[TIMELINE_COLUMNS]


# --------------------------------------------------------------------------------------- assessments

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
    mean_gain: float  # mean of post - pre, percentage points
    gain_low: float  # paired t interval
    gain_high: float
    t_p: float  # paired t-test
    wilcoxon_p: float
    hake_class: float  # Hake's class-average <g> = (<post> - <pre>) / (100 - <pre>)
    hake_mean_individual: float  # mean of individual g = (post - pre) / (100 - pre), pre < 100 only
    pass_rates: pd.DataFrame = field(repr=False)  # test (pre_test/post_test), attempts, passed, rate, low, high
    pairs: pd.DataFrame = field(repr=False)  # PAIR_COLUMNS


# Each trainee's pre-test matched to a post-test: same training_id when the pre-test has one, otherwise
# the same policy and the nearest post-test on or after it. First attempts only.
_ASSESSMENTS = """
    x AS (
        SELECT a.trainee_id, a.date, a.assessment, a.kind, a.policy, a.attempt, a.training_id,
               a.score / nullif(a.max_score, 0) * 100 AS pct, a.pass_mark,
               lower(trim(a.policy)) AS pkey, t.market, t.project,
               coalesce(t.cohort, strftime(t.start_date, '%Y-%m')) AS cohort
        FROM assessments a JOIN trainees t USING (trainee_id))
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
        WITH {_ASSESSMENTS},
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
    test = paired_test(pre, post)
    _, low, high = mean_interval(post - pre)
    indiv = pairs["hake_g"].to_numpy(float)
    indiv = indiv[np.isfinite(indiv)]
    return AssessmentGains(
        n=len(pairs),
        mean_pre=float(np.mean(pre)) if pre.size else math.nan,
        mean_post=float(np.mean(post)) if post.size else math.nan,
        mean_gain=test.mean_diff,
        gain_low=low,
        gain_high=high,
        t_p=test.t_p,
        wilcoxon_p=test.wilcoxon_p,
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
        WITH {_ASSESSMENTS}
        SELECT kind AS test, count(*) AS attempts, count(*) FILTER (WHERE pct >= pass_mark) AS passed
        FROM x WHERE kind IN ('pre_test', 'post_test') AND pass_mark IS NOT NULL AND {w.sql} AND {ids_sql}
        GROUP BY kind ORDER BY kind DESC"""
    df = con.execute(sql, [*w.params, *ids_params]).df()
    if df.empty:
        return pd.DataFrame(columns=PASS_COLUMNS)
    df["rate"] = df["passed"] / df["attempts"]
    df["low"], df["high"] = wilson_arrays(df["passed"].to_numpy(), df["attempts"].to_numpy())
    return df[PASS_COLUMNS]


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
        WITH {_ASSESSMENTS},
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
    n = df["trainees"].to_numpy()
    df["rate"] = df["passed"] / df["trainees"]
    df["low"], df["high"] = wilson_arrays(df["passed"].to_numpy(), n)
    df["first_attempt_rate"] = df["first_attempt_passed"] / df["trainees"]
    df["first_attempt_low"], df["first_attempt_high"] = wilson_arrays(df["first_attempt_passed"].to_numpy(), n)
    return df[CERT_COLUMNS]


def did_interval_text(effect: TrainingEffect) -> str:
    """The adjusted effect in a trainer's words, e.g. '+3.1 points (95% CI +1.2 to +5.0)'."""
    if not effect.enough_data or math.isnan(effect.estimate):
        return "not enough data"
    return f"{effect.estimate * 100:+.1f} points (95% CI {effect.low * 100:+.1f} to {effect.high * 100:+.1f})"

