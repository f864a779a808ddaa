"""Training effectiveness: did a session (or a group of sessions) change how attendees work?

Attendees' accuracy on the training's policy before and after the session is compared with that of
similar trainees who were not trained (difference-in-differences), and with where each trainee started
(ANCOVA), so that what changed for everyone and regression to the mean are not credited to the training.
Feedback ratings (reaction) are listed beside the measured change in work (behaviour). Test scores
(pre/post tests, certifications) are in metrics.assessments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from metrics.effects_stats import ancova, batched_ancova_effect, welch_less
from metrics.filters import ALL, Filters, where
from metrics.inference import PairedComparison, paired_comparison
from metrics.rates import add_rate_columns
from metrics.stats import Interval, bootstrap_interval

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


_SOURCES: tuple[EffectSource, ...] = ("golden_set", "qa_audit")


def _unit_decisions(where_sql: str) -> str:
    """Decisions (both sources) of each unit inside its windows. Parameters: all policies?, then
    `where_sql`'s."""
    return f"""
        FROM units u JOIN trainees t USING (trainee_id) CROSS JOIN p
        LEFT JOIN decision_daily d
          ON d.trainee_id = u.trainee_id
         AND (? OR u.pkey IS NULL OR lower(trim(d.policy)) = u.pkey)
         AND d.date >= u.session_date - p.win AND d.date < u.session_date + p.lag + p.win
         AND {where_sql}
    """


_WINDOWS = (("pre", "d.date < u.session_date"), ("post", "d.date >= u.session_date + p.lag"))
_COUNTS = (("reviewed", "reviews"), ("correct", "correct"))


def _per_unit_cte(where_sql: str) -> str:
    """Each unit's reviews and correct answers in its pre and post windows, per source: columns
    `<source>_pre_reviews`, `<source>_pre_correct`, `<source>_post_reviews`, `<source>_post_correct`.
    Who is compared with whom is worked out once for both sources."""
    # Source names and windows are the constants above, not user values.
    sums = ", ".join(
        f"coalesce(sum(d.{col}) FILTER (WHERE d.source = '{src}' AND {test}), 0)::BIGINT AS {src}_{when}_{out}"
        for src in _SOURCES for when, test in _WINDOWS for col, out in _COUNTS
    )
    return f"""
        per_unit AS (
            SELECT u.trainee_id, u.grp AS "group", u.training_id, u.session_date, {sums}
            {_unit_decisions(where_sql)}
            GROUP BY ALL)
    """


def _effect_filters(filters: Filters) -> tuple[str, list[object]]:
    # The windows set the dates, the training sets the policy, the caller the source: the filter
    # contributes markets, projects and cohorts only.
    w = where(filters, alias="d", trainee_alias="t", dates=False, policies=False, source=False)
    return w.sql, w.params


UNIT_COUNTS = ["pre_reviews", "pre_correct", "post_reviews", "post_correct"]


def _per_unit(
    con: duckdb.DuckDBPyConnection, ids: Sequence[str], filters: Filters, design: EffectDesign
) -> dict[EffectSource, pd.DataFrame]:
    """Every unit (attendee or comparison trainee) with its counts in the two windows, per source."""
    wsql, wparams = _effect_filters(filters)
    sql = f"WITH {_UNITS}, {_per_unit_cte(wsql)} SELECT * FROM per_unit ORDER BY 2, 1"
    params = [list(ids), design.window_days, design.lag_days, design.policy_scope == "all", *wparams]
    both = con.execute(sql, params).df() if ids else pd.DataFrame()
    keys = ["trainee_id", "group", "training_id", "session_date"]
    if both.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in keys}
                             | {c: pd.Series(dtype="int64") for c in UNIT_COUNTS})
        return dict.fromkeys(_SOURCES, empty)
    return {src: both[keys + [f"{src}_{c}" for c in UNIT_COUNTS]].set_axis(keys + UNIT_COUNTS, axis=1)
            for src in _SOURCES}


PER_TRAINEE_COLUMNS = [
    "trainee_id", "group", "training_id", "pre_reviews", "pre_correct", "pre_rate", "post_reviews",
    "post_correct", "post_rate",
]


@dataclass(frozen=True)
class EffectDesign:
    """How a training's effect is measured: the windows, the decisions read, and the bar for enough data.

    Windows: the `window_days` before the session and the `window_days` starting `lag_days` after it.
    `policy_scope`: decisions on the session's policy, or on all policies. `source`: accuracy (golden set)
    or quality (QA audits); None reads accuracy where attendees have enough golden-set reviews, else
    quality. A trainee counts with >= `min_reviews` reviews in each window; an effect needs
    `min_trainees` such attendees and as many comparison trainees. Intervals: a bootstrap over trainees
    with `n_boot` resamples, seeded."""

    window_days: int = 14
    lag_days: int = 0
    policy_scope: PolicyScope = "training"
    source: EffectSource | None = "golden_set"
    min_trainees: int = 10
    min_reviews: int = 5
    n_boot: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class GroupChange:
    """One group's pooled rate (correct / reviewed over its trainees) before and after."""

    trainees: int  # with enough reviews in both windows
    before: float
    after: float
    reviews_before: int
    reviews_after: int

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class TrainingEffect:
    """What a session did to attendees' accuracy or quality, read several ways. Effects are in proportion
    points (0.03 = 3 points), each an Interval at 95%."""

    training_ids: tuple[str, ...]
    design: EffectDesign
    source: EffectSource  # the measure read (the design's, or the one chosen for it)
    enough_data: bool
    did: Interval  # difference-in-differences: attendees' change minus the comparison group's
    naive: Interval  # attendees' after - before alone (ignores what changed for everyone)
    ancova: Interval  # each trainee's after-rate on their before-rate and attendance
    ancova_p: float
    attendees: GroupChange
    comparison: GroupChange
    attendees_listed: int  # attended, before the minimum-review rule
    paired: PairedComparison  # over attendees' per-trainee rates (after - before)
    selected_low_scorers: bool
    selection_p: float  # one-sided Welch t: attendees' pre rates below the comparison group's
    # Which adjusted effect to read: "ancova" when attendees were picked on their pre scores (the
    # difference-in-differences then holds regression to the mean too), else "did".
    preferred: Literal["did", "ancova"]
    warnings: tuple[str, ...]
    per_trainee: pd.DataFrame = field(repr=False)

    @property
    def headline(self) -> Interval:
        """The effect to lead with: the preferred adjusted estimate (nan without enough data)."""
        if not self.enough_data:
            return Interval.missing()
        return self.ancova if self.preferred == "ancova" else self.did


def training_effect(
    con: duckdb.DuckDBPyConnection, training_ids: Sequence[str], filters: Filters = ALL,
    design: EffectDesign = EffectDesign(),
) -> TrainingEffect:
    """Did attending these sessions change accuracy (or quality), beyond what changed for similar
    trainees who did not attend?

    Method. Each attendee's rate (on the session's policy, or all policies) in the window before the
    session and the window after it (see EffectDesign), against a comparison group in the same markets
    who did not attend and were not trained on that policy in those windows (their windows sit on the
    same session date).
    - did: difference-in-differences of pooled rates; interval from a bootstrap over trainees (attendees
      and comparison resampled separately, so a trainee's reviews move together).
    - naive: attendees' after - before, same bootstrap (attendees only).
    - paired: tests over attendees' per-trainee rates (paired t-test with d_z, Wilcoxon signed-rank).
    - ancova: OLS of each trainee's after-rate on their before-rate and an attended indicator, unweighted
      (one row per trainee); interval from the same bootstrap, p-value from the OLS t-test.
    - selected_low_scorers: attendees started lower than the comparison group, read as both a one-sided
      Welch t-test p < 0.05 on per-trainee pre rates and the attendees' mean pre rate below the
      comparison group's 40th percentile; `preferred` is then "ancova", which compares trainees who
      started at the same level.
    Fewer than `min_trainees` attendees or comparison trainees: enough_data is False, effects are nan and
    a warning says why (rates and counts are still given)."""
    ids = tuple(dict.fromkeys(str(i) for i in training_ids))
    units = _per_unit(con, ids, filters, design)
    warns = _session_warnings(con, ids, design)
    for source in (design.source,) if design.source else _SOURCES:
        effect = _effect(ids, units[source], design, source, warns)
        if effect.enough_data:
            break
    return effect


def _session_warnings(con: duckdb.DuckDBPyConnection, ids: tuple[str, ...], design: EffectDesign) -> list[str]:
    if not ids:
        return ["No session chosen."]
    rows = con.execute(
        "SELECT training_id, policy FROM trainings WHERE list_contains(?::VARCHAR[], training_id)", [list(ids)]
    ).fetchall()
    if not rows:
        return ["None of the chosen sessions is in the data: pick a session from the list."]
    if design.policy_scope == "training" and any(policy is None for _, policy in rows):
        return ["A chosen session has no policy: its attendees' accuracy on all policies is used."]
    return []


def _kept(units: pd.DataFrame, min_reviews: int) -> pd.DataFrame:
    """Units with enough reviews in both windows, with their rates (PER_TRAINEE_COLUMNS)."""
    ok = (units["pre_reviews"] >= min_reviews) & (units["post_reviews"] >= min_reviews)
    per = units[ok].copy()
    for col in UNIT_COUNTS:
        per[col] = per[col].astype("int64")
    per["pre_rate"] = per["pre_correct"] / per["pre_reviews"]
    per["post_rate"] = per["post_correct"] / per["post_reviews"]
    return per[PER_TRAINEE_COLUMNS].reset_index(drop=True)


def _group_change(frame: pd.DataFrame) -> GroupChange:
    def rate(correct: str, reviewed: str) -> float:
        n = int(frame[reviewed].sum())
        return int(frame[correct].sum()) / n if n > 0 else math.nan

    return GroupChange(len(frame), rate("pre_correct", "pre_reviews"), rate("post_correct", "post_reviews"),
                       int(frame["pre_reviews"].sum()), int(frame["post_reviews"].sum()))


def _coverage_warnings(n_a: int, n_c: int, design: EffectDesign) -> list[str]:
    if n_a < design.min_trainees:
        return [f"Only {n_a} attendees had at least {design.min_reviews} reviews before and after: not enough "
                f"data to measure an effect (needs {design.min_trainees})."]
    if n_c < design.min_trainees:
        return [f"Only {n_c} comparable trainees (same markets, not trained on this policy) had at least "
                f"{design.min_reviews} reviews before and after: the attendees' change cannot be told apart "
                f"from what changed for everyone (needs {design.min_trainees})."]
    return []


SELECTION_WARNINGS = (
    "Attendees were picked from low scorers: part of their before/after gain is regression to the mean; "
    "read the adjusted effect.",
    "Because attendees were chosen on their scores before the session, the comparison with untrained "
    "colleagues (difference-in-differences) is inflated too: the low scorers drift up and the others drift "
    "down by chance. Read the effect adjusted for each trainee's starting score (ANCOVA).",
)


def _effect(
    ids: tuple[str, ...], units: pd.DataFrame, design: EffectDesign, source: EffectSource, warns: list[str]
) -> TrainingEffect:
    """`training_effect` on one source's units: who counts, the groups' rates, then the estimates."""
    per = _kept(units, design.min_reviews)
    a, c = per[per["group"] == "attended"], per[per["group"] == "comparison"]
    warns = [*warns, *(_coverage_warnings(len(a), len(c), design) if ids else [])]
    enough_att = len(a) >= design.min_trainees
    enough = enough_att and len(c) >= design.min_trainees
    estimates = _Estimates.none()
    if enough_att:
        estimates = _estimate(a, c, design, with_comparison=enough)
        if estimates.selected:
            warns.extend(SELECTION_WARNINGS)
    return TrainingEffect(
        training_ids=ids, design=design, source=source, enough_data=enough,
        did=estimates.did, naive=estimates.naive, ancova=estimates.ancova, ancova_p=estimates.ancova_p,
        attendees=_group_change(a), comparison=_group_change(c),
        attendees_listed=int((units["group"] == "attended").sum()), paired=estimates.paired,
        selected_low_scorers=estimates.selected, selection_p=estimates.selection_p,
        preferred="ancova" if estimates.selected else "did", warnings=tuple(warns), per_trainee=per,
    )


@dataclass(frozen=True)
class _Estimates:
    did: Interval
    naive: Interval
    ancova: Interval
    ancova_p: float
    paired: PairedComparison
    selected: bool
    selection_p: float

    @classmethod
    def none(cls) -> _Estimates:
        return cls(Interval.missing(), Interval.missing(), Interval.missing(), math.nan,
                   paired_comparison(np.array([]), np.array([])), False, math.nan)


def _resampled_gains(frame: pd.DataFrame, idx: np.ndarray) -> np.ndarray:
    """Pooled after - before rate of each bootstrap resample (rows of `idx` index the frame's trainees)."""
    sums = frame[UNIT_COUNTS].to_numpy(float)[idx].sum(axis=1)  # (n_boot, 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(sums[:, 3] / sums[:, 2] - sums[:, 1] / sums[:, 0], float)


def _estimate(a: pd.DataFrame, c: pd.DataFrame, design: EffectDesign, *, with_comparison: bool) -> _Estimates:
    """The effect estimates from the attendees' (and, with enough of them, the comparison trainees')
    per-trainee counts; one seeded bootstrap over trainees gives every interval."""
    rng = np.random.default_rng(design.seed)
    idx_a = rng.integers(0, len(a), size=(design.n_boot, len(a)))
    gain_a = _resampled_gains(a, idx_a)
    ga, gc = _group_change(a), _group_change(c)
    naive = bootstrap_interval(ga.change, gain_a)
    paired = paired_comparison(a["pre_rate"].to_numpy(float), a["post_rate"].to_numpy(float))
    if not with_comparison:
        return _Estimates(Interval.missing(), naive, Interval.missing(), math.nan, paired, False, math.nan)
    idx_c = rng.integers(0, len(c), size=(design.n_boot, len(c)))
    did = bootstrap_interval(ga.change - gc.change, gain_a - _resampled_gains(c, idx_c))
    pre = np.concatenate([a["pre_rate"].to_numpy(float), c["pre_rate"].to_numpy(float)])
    post = np.concatenate([a["post_rate"].to_numpy(float), c["post_rate"].to_numpy(float)])
    treated = np.concatenate([np.ones(len(a)), np.zeros(len(c))])
    fit = ancova(pre, post, treated)
    idx = np.concatenate([idx_a, idx_c + len(a)], axis=1)
    boot = batched_ancova_effect(pre[idx], post[idx], np.broadcast_to(treated, idx.shape))
    selection_p = welch_less(a["pre_rate"].to_numpy(float), c["pre_rate"].to_numpy(float))
    comparison_p40 = float(np.quantile(c["pre_rate"].to_numpy(float), 0.4))
    selected = bool(selection_p < 0.05 and float(a["pre_rate"].mean()) < comparison_p40)
    return _Estimates(did, naive, bootstrap_interval(float(fit.coef[2]), boot), fit.p_value(2), paired,
                      selected, selection_p)


TIMELINE_COLUMNS = ["group", "offset", "reviewed", "correct", "rate", "low", "high"]


def timeline(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters = ALL,
    design: EffectDesign = EffectDesign(),
    *,
    source: EffectSource = "golden_set",
    freq: Literal["day", "week"] = "week",
) -> pd.DataFrame:
    """How did attendees' and the comparison group's rate move, day by day or week by week, around the
    session? For the chart with the pre and post windows shaded.

    Same trainees as `training_effect` with this design and `source` (those with >= min_reviews reviews in
    both windows). Columns: group ('attended'/'comparison'), offset (days, or weeks = floor(days / 7),
    since each trainee's session; negative = before), reviewed, correct, rate, Wilson low/high."""
    ids = [str(i) for i in dict.fromkeys(training_ids)]
    if not ids:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    assert source in _SOURCES
    wsql, wparams = _effect_filters(filters)
    step = 1 if freq == "day" else 7
    sql = f"""
        WITH {_UNITS}, {_per_unit_cte(wsql)},
        kept AS (SELECT trainee_id FROM per_unit WHERE {source}_pre_reviews >= ? AND {source}_post_reviews >= ?)
        SELECT u.grp AS "group", floor(datediff('day', u.session_date, d.date) / ?)::INTEGER AS "offset",
               sum(d.reviewed)::BIGINT AS reviewed, sum(d.correct)::BIGINT AS correct
        {_unit_decisions(wsql)}
        WHERE u.trainee_id IN (SELECT trainee_id FROM kept) AND d.date IS NOT NULL AND d.source = ?
        GROUP BY ALL ORDER BY 1, 2"""
    head = [ids, design.window_days, design.lag_days, design.policy_scope == "all", *wparams]
    params = [*head, design.min_reviews, design.min_reviews, step, design.policy_scope == "all", *wparams, source]
    df = con.execute(sql, params).df()
    if df.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    return add_rate_columns(df)[TIMELINE_COLUMNS]
