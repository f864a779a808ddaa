"""Learning curves: how accuracy grows with tenure, per cohort, and how long trainees take to be proficient.

Tenure week = floor((date - trainees.start_date) / 7): week 0 is a trainee's first seven days. Trainees
without a start date are left out. A cohort missing on the roster is the month of the start date.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metrics.curves import CurveFit, ModelFit, fit_learning_curve, kaplan_meier, km_median, log_rank, predict
from metrics.filters import ALL, COHORT_SQL, Filters, Where, where
from metrics.rates import add_rate_columns, dates_cover_all
from metrics.stats import Interval, bootstrap_interval


def _use_tenure_rollup(con: duckdb.DuckDBPyConnection, filters: Filters) -> bool:
    """Can the rollup `decision_tenure` (trainee x tenure week x source x market) answer for these
    filters? Yes when they restrict neither policies nor projects, and their dates (if any) cover every
    day with data -- the sidebar's default. Cohorts, markets and source it holds."""
    return not filters.policies and not filters.projects and dates_cover_all(con, filters)


# The roster with each trainee's place in id order (`k`): rows that carry it are summed per trainee by numpy
# over integers instead of by id strings (see `_durations`).
_NUMBERED_ROSTER = "(SELECT *, (row_number() OVER (ORDER BY trainee_id) - 1)::INTEGER AS k FROM trainees)"


def _tenure_rows(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, roster_conditions: str = "", numbered: bool = False,
) -> tuple[str, Where]:
    """SQL for reviews by trainee x tenure week (weeks below a first `?` parameter), possibly several rows
    for one trainee and week (the tenure rollup's sources and markets, summed by the reader), from the
    tenure rollup when it answers for the filters, else from decision_daily and the roster's start dates.
    `roster_conditions` (fixed SQL on the roster `t`, starting with AND) come next, with their own
    parameters; the filters' parameters (`w.params`) follow them. `numbered` adds the trainee's place in
    id order (`k`, 0-based) from the same join of the roster."""
    roster = _NUMBERED_ROSTER if numbered else "trainees"
    k = "t.k, " if numbered else ""
    if _use_tenure_rollup(con, filters):
        w = where(filters, alias="d", trainee_alias="t", dates=False)
        join = f"JOIN {roster} t USING (trainee_id)" if filters.cohorts or roster_conditions or numbered else ""
        return f"""
            SELECT d.trainee_id, {k}d.week, d.reviewed, d.correct
            FROM decision_tenure d {join}
            WHERE d.week < ?::INTEGER {roster_conditions}
              AND {w.sql}""", w
    w = where(filters, alias="d", trainee_alias="t")
    return f"""
        SELECT d.trainee_id, {k}floor(datediff('day', t.start_date, d.date) / 7)::INTEGER AS week,
               sum(d.reviewed)::BIGINT AS reviewed, sum(d.correct)::BIGINT AS correct
        FROM decision_daily d JOIN {roster} t USING (trainee_id)
        WHERE t.start_date IS NOT NULL AND d.date >= t.start_date AND d.date < t.start_date + 7 * ?::INTEGER
          {roster_conditions}
          AND {w.sql}
        GROUP BY ALL""", w


def _per_trainee_week(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, roster_conditions: str = ""
) -> tuple[str, Where]:
    """`_tenure_rows` summed to one row per trainee x tenure week (same parameters)."""
    rows, w = _tenure_rows(con, filters, roster_conditions=roster_conditions)
    return f"""
        SELECT trainee_id, week, sum(reviewed)::BIGINT AS reviewed, sum(correct)::BIGINT AS correct
        FROM ({rows}) GROUP BY ALL""", w


CURVE_COLUMNS = ["cohort", "week", "trainees", "reviewed", "correct", "rate", "low", "high"]


def learning_curves(con: duckdb.DuckDBPyConnection, filters: Filters = ALL, *, max_weeks: int = 26) -> pd.DataFrame:
    """How does accuracy rise with tenure in each cohort?

    Pooled rate per cohort x tenure week (0 .. max_weeks - 1) with a Wilson interval. Columns: cohort,
    week, trainees (with reviews that week), reviewed, correct, rate, low, high. Filters apply as usual
    (source None pools quality and accuracy)."""
    per_sql, w = _per_trainee_week(con, filters)
    # Per trainee and week first, the cohort text joined after: grouping millions of rollup rows by the
    # cohort expression cost more than the sums.
    sql = f"""
        WITH per AS ({per_sql})
        SELECT {COHORT_SQL} AS cohort, per.week, count(*) AS trainees, sum(per.reviewed)::BIGINT AS reviewed,
               sum(per.correct)::BIGINT AS correct
        FROM per JOIN trainees t USING (trainee_id)
        GROUP BY ALL ORDER BY 1, 2"""
    df = con.execute(sql, [max_weeks, *w.params]).df()
    if df.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    return add_rate_columns(df)[CURVE_COLUMNS]


@dataclass(frozen=True)
class CohortFit:
    """A cohort's learning curve: every shape fitted (metrics.curves.fit_learning_curve), the one chosen
    by AIC, each parameter with its interval and any parameter that ended on a bound."""

    cohort: str
    fit: CurveFit

    @property
    def chosen(self) -> ModelFit | None:
        return next((f for f in self.fit.fits if f.model == self.fit.chosen), None)


def fit_curves(curves: pd.DataFrame) -> list[CohortFit]:
    """Which shape does each cohort's learning curve follow, and where does it level off?

    Per cohort, four curves fitted to `learning_curves` output by weighted least squares (weights =
    reviews in the week): exponential rise a - (a - b) exp(-t / tau) (b: week-0 level, a: the plateau, tau:
    the weeks to close 63% of the gap), power law a - c (t + 1)^-k, and their two-parameter forms (an
    exponential rise from zero, a power law through the origin). The chosen one has the lowest Gaussian AIC,
    each penalised by its own number of parameters; none with fewer than 4 weeks. Parameters carry 95%
    intervals from the fit's covariance; fits on a bound say so (CurveFit.caution)."""
    return [CohortFit(str(cohort), fit_learning_curve(g["week"].to_numpy(float), g["rate"].to_numpy(float),
                                                      g["reviewed"].to_numpy(float)))
            for cohort, g in curves.groupby("cohort", sort=True)]


def fitted(fits: list[CohortFit], weeks: np.ndarray | list[float] | range,
           observed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The chosen curve of each cohort to draw: one row per cohort x week (cohort, model, week, fitted).
    With `observed` (a `learning_curves` frame), each curve is drawn only over the weeks its cohort was
    seen: a fit says nothing beyond its data, and a power law through the origin has no ceiling at all."""
    t = np.asarray(list(weeks), float)
    last = observed.groupby("cohort")["week"].max().to_dict() if observed is not None else {}
    frames = []
    for f in fits:
        if f.chosen is None:
            continue
        seen = t[t <= last[f.cohort]] if f.cohort in last else t
        frames.append(pd.DataFrame({"cohort": f.cohort, "model": f.fit.chosen, "week": seen,
                                    "fitted": predict(f.chosen, seen)}))
    if not frames:
        return pd.DataFrame(columns=["cohort", "model", "week", "fitted"])
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------ proficiency


@dataclass(frozen=True)
class Proficiency:
    """When a trainee counts as proficient: in the first tenure week whose rolling `window_weeks` accuracy
    (that week and the ones before it) reaches `target` on at least `min_reviews` reviews, within the first
    `max_weeks` tenure weeks. One rule for the time to proficiency, its curve and the cohort comparisons."""

    target: float = 0.90
    min_reviews: int = 20
    window_weeks: int = 2
    max_weeks: int = 52


def _numpy_columns(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> dict[str, np.ndarray]:
    """A query's result as one numpy array per column (as `fetchnumpy` gives them), for results without NULLs.

    Through Arrow: DuckDB 2.0's `fetchnumpy` converts a result chunk by chunk, 0.10 s for the 0.85M rows of
    the tenure rollup at 10M decisions, against 0.03 s for the Arrow table and its columns' `to_numpy`."""
    table = con.sql(sql, params=params).to_arrow_table()
    return {name: table.column(name).to_numpy() for name in table.column_names}


def _durations(
    con: duckdb.DuckDBPyConnection, filters: Filters, rule: Proficiency, max_unseen_weeks: int = 2,
) -> pd.DataFrame:
    """Per trainee: trainee_id, cohort, week (tenure week proficiency was reached, or last seen with
    reviews when not reached: censored), reached.

    Trainees who had more than `max_unseen_weeks` of tenure on the first day with data (or the filter's
    start) are left out: their first weeks are unseen, and their first week in the data would pass for
    the week they became proficient. (Two weeks by default: classroom weeks have no reviews anyway.)"""
    rows_sql, w = _tenure_rows(con, filters, numbered=True, roster_conditions="""
        AND t.start_date >= (SELECT min(date) FROM decision_daily) - 7 * ?::INTEGER
        AND t.start_date >= coalesce(?::DATE - 7 * ?::INTEGER, t.start_date)""")
    # Trainees by their place in id order (`k`), so that the rows carry integers, not id strings: the sums
    # per trainee and week are then numpy's, over the rollup's rows as they are (10M decisions: 0.85M rows;
    # grouping them by id in SQL and encoding the ids cost more than the rest of the measure). `k` comes
    # from the roster join the conditions need anyway: a second join by id string cost as much again.
    roster = con.execute(f"SELECT trainee_id, {COHORT_SQL} AS cohort FROM trainees t ORDER BY trainee_id").fetchnumpy()
    sql = f"SELECT r.k, r.week, r.reviewed::DOUBLE AS reviewed, r.correct::DOUBLE AS correct FROM ({rows_sql}) r"
    params = [rule.max_weeks, max_unseen_weeks, filters.start, max_unseen_weeks, *w.params]
    weekly = _numpy_columns(con, sql, params)
    if len(weekly["k"]) == 0:
        return pd.DataFrame(columns=["trainee_id", "cohort", "week", "reached"])
    # Row per trainee seen, in id order. A trainee's cohort is one value: it comes from the roster.
    k = np.asarray(weekly["k"], dtype=np.int64)
    seen = np.flatnonzero(np.bincount(k, minlength=len(roster["trainee_id"])) > 0)
    rows = np.empty(len(roster["trainee_id"]), dtype=np.int64)
    rows[seen] = np.arange(len(seen))
    cells = rows[k] * rule.max_weeks + np.asarray(weekly["week"], dtype=np.int64)
    size = len(seen) * rule.max_weeks
    n = np.bincount(cells, weights=np.asarray(weekly["reviewed"]), minlength=size).reshape(len(seen), rule.max_weeks)
    c = np.bincount(cells, weights=np.asarray(weekly["correct"]), minlength=size).reshape(len(seen), rule.max_weeks)
    trainees = pd.Series(np.asarray(roster["cohort"], dtype=object)[seen],
                         index=pd.Index(np.asarray(roster["trainee_id"], dtype=object)[seen], name="trainee_id"))
    # Rolling sums over the last `rule.window_weeks` tenure weeks (weeks without reviews count as zero), as
    # sums of shifted copies: exact for counts, and fewer passes over the matrices than cumulative sums.
    roll_n, roll_c = np.zeros_like(n), np.zeros_like(c)
    for back in range(min(rule.window_weeks, rule.max_weeks)):
        roll_n[:, back:] += n[:, :rule.max_weeks - back]
        roll_c[:, back:] += c[:, :rule.max_weeks - back]
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = (roll_n >= rule.min_reviews) & (roll_c >= rule.target * roll_n)
    reached = hit.any(axis=1)
    first = np.argmax(hit, axis=1)
    last_seen = rule.max_weeks - 1 - np.argmax(n[:, ::-1] > 0, axis=1)
    return pd.DataFrame({
        "trainee_id": trainees.index.to_numpy(),
        "cohort": trainees.to_numpy(),
        "week": np.where(reached, first, last_seen).astype(int),
        "reached": reached,
    })


PROFICIENCY_COLUMNS = [
    "cohort", "trainees", "reached", "median_weeks", "median_low", "median_high", "km_median", "km_low", "km_high",
]


def time_to_proficiency(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    rule: Proficiency = Proficiency(),
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """How many weeks does each cohort take to reach proficiency?

    A trainee is proficient by `rule` (Proficiency: the first tenure week whose rolling accuracy reaches the
    target on enough reviews). Trainees with more than two weeks of
    tenure when the data (or the filter's date range) begin are left out: their first weeks are unseen. Those not there yet are censored at
    their last tenure week with reviews. Per cohort: trainees, reached, median_weeks among those who
    reached it (with a percentile bootstrap over trainees: median_low, median_high) -- biased low while
    many are still on the way -- and the Kaplan-Meier median, which counts the censored (km_median with
    its interval from the log-log band: km_low, km_high; nan when fewer than half have reached it)."""
    dur = _durations(con, filters, rule)
    rng = np.random.default_rng(seed)
    rows = []
    for cohort, g in dur.groupby("cohort", sort=True):
        weeks = g["week"].to_numpy(float)
        reached = g["reached"].to_numpy(bool)
        reached_weeks = np.where(reached, weeks, np.nan)
        median = Interval.missing()
        if reached.any():
            median = bootstrap_interval(float(np.median(weeks[reached])), _boot_medians(reached_weeks, rng, n_boot))
        km = km_median(kaplan_meier(weeks, reached))
        rows.append({
            "cohort": cohort, "trainees": len(g), "reached": int(reached.sum()), "median_weeks": median.estimate,
            "median_low": median.low, "median_high": median.high, "km_median": km.median, "km_low": km.low,
            "km_high": km.high,
        })
    return pd.DataFrame(rows, columns=PROFICIENCY_COLUMNS)


def _boot_medians(values: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """The medians of `n_boot` resamples of `values` with replacement, ignoring nan (nan for a resample with
    no value): np.nanmedian(values[rng.integers(0, len(values), size=(n_boot, len(values)))], axis=1), with
    the same draws from `rng`, made a block of resamples at a time.

    Blocks of about 65k draws: each block's indices and the values they pick stay in cache from the draw to
    the count, where one (n_boot, n) array of a cohort of 4,700 trainees is 38 MB written and read back.
    int32 indices: numpy draws a range under 2**32 from the same 32-bit stream for either width (the same
    numbers; tests/metrics/test_learning.py pins it), in half the memory. Drawing the rows block by block
    consumes the generator as one draw of every row does (row-major order), so later cohorts see the same
    state as before."""
    n = len(values)
    block = max(1, 2**16 // max(n, 1))
    finite = values[np.isfinite(values)]
    if len(finite) == 0 or np.any(finite < 0) or np.any(finite != np.round(finite)) or finite.max() > 10_000:
        out = np.empty(n_boot)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample with nobody reached: nan
            for first in range(0, n_boot, block):
                rows = min(block, n_boot - first)
                out[first:first + rows] = np.nanmedian(values[rng.integers(0, n, size=(rows, n), dtype=np.int32)], axis=1)
        return out
    # Tenure weeks are small non-negative integers, so each resample's median comes from its counts per week
    # (one bincount per block of resamples) instead of a partition per resample: 0.4 s against 10 ms at 10M.
    size = int(finite.max()) + 2  # the last bin holds the nan draws
    codes = np.where(np.isfinite(values), np.nan_to_num(values), size - 1).astype(np.int64)
    counts = np.empty((n_boot, size), dtype=np.int64)
    offsets = (np.arange(block) * size)[:, None]
    for first in range(0, n_boot, block):
        rows = min(block, n_boot - first)
        drawn = codes[rng.integers(0, n, size=(rows, n), dtype=np.int32)]
        drawn += offsets[:rows]
        counts[first:first + rows] = np.bincount(drawn.ravel(), minlength=rows * size).reshape(-1, size)
    cum = np.cumsum(counts[:, :-1], axis=1)
    k = cum[:, -1]
    # 0-based order statistics (k - 1) // 2 and k // 2: the first week whose cumulative count passes each.
    lo = np.argmax(cum > ((k - 1) // 2)[:, None], axis=1)
    hi = np.argmax(cum > (k // 2)[:, None], axis=1)
    return np.where(k > 0, (lo + hi) / 2.0, np.nan)


CURVE_KM_COLUMNS = ["cohort", "week", "share_reached", "low", "high", "at_risk"]


def proficiency_curve(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    rule: Proficiency = Proficiency(),
) -> pd.DataFrame:
    """What share of each cohort has reached proficiency by each tenure week?

    1 - Kaplan-Meier survival (so trainees still on the way count until they are last seen), with the
    log-log interval. Columns: cohort, week, share_reached, low, high, at_risk (still being followed and
    not yet proficient at the start of that week)."""
    dur = _durations(con, filters, rule)
    frames = []
    for cohort, g in dur.groupby("cohort", sort=True):
        weeks = g["week"].to_numpy(float)
        km = kaplan_meier(weeks, g["reached"].to_numpy(bool))
        grid = np.arange(0, int(weeks.max()) + 1)
        # Step function: the last KM row at or before each week; before the first row S = 1.
        pos = np.searchsorted(km["time"].to_numpy(), grid, side="right") - 1
        surv = np.where(pos >= 0, km["survival"].to_numpy()[pos], 1.0)
        s_low = np.where(pos >= 0, km["low"].to_numpy()[pos], 1.0)
        s_high = np.where(pos >= 0, km["high"].to_numpy()[pos], 1.0)
        frames.append(pd.DataFrame({
            "cohort": cohort, "week": grid, "share_reached": 1 - surv, "low": 1 - s_high, "high": 1 - s_low,
            "at_risk": [int(np.sum(weeks >= w)) for w in grid],
        }))
    if not frames:
        return pd.DataFrame(columns=CURVE_KM_COLUMNS)
    return pd.concat(frames, ignore_index=True)[CURVE_KM_COLUMNS]


@dataclass(frozen=True)
class CohortComparison:
    """Log-rank test of time to proficiency in two cohorts, with their Kaplan-Meier medians."""

    cohort_a: str
    cohort_b: str
    trainees_a: int
    trainees_b: int
    reached_a: int
    reached_b: int
    km_median_a: float
    km_median_b: float
    chi2: float
    p_value: float
    enough_data: bool


def compare_cohorts(
    con: duckdb.DuckDBPyConnection,
    cohort_a: str,
    cohort_b: str,
    filters: Filters = ALL,
    *,
    rule: Proficiency = Proficiency(),
) -> CohortComparison:
    """Does one cohort reach proficiency sooner than another? Log-rank (Mantel-Cox) test on the
    proficiency durations of `time_to_proficiency`, censored trainees included."""
    dur = _durations(con, filters, rule)
    a = dur[dur["cohort"] == cohort_a]
    b = dur[dur["cohort"] == cohort_b]

    def km_med(g: pd.DataFrame) -> float:
        return km_median(kaplan_meier(g["week"].to_numpy(float), g["reached"].to_numpy(bool))).median

    enough = len(a) > 0 and len(b) > 0 and bool(dur["reached"].any())
    lr = (
        log_rank(a["week"].to_numpy(float), a["reached"].to_numpy(bool), b["week"].to_numpy(float),
                 b["reached"].to_numpy(bool))
        if enough else None
    )
    return CohortComparison(
        cohort_a=cohort_a, cohort_b=cohort_b, trainees_a=len(a), trainees_b=len(b),
        reached_a=int(a["reached"].sum()), reached_b=int(b["reached"].sum()),
        km_median_a=km_med(a), km_median_b=km_med(b),
        chi2=lr.chi2 if lr else math.nan, p_value=lr.p_value if lr else math.nan,
        enough_data=enough and lr is not None and math.isfinite(lr.chi2),
    )


@dataclass(frozen=True)
class AllCohorts:
    """The log-rank test of equal time to proficiency across every cohort at once (k groups, k - 1 df)."""

    cohorts: int
    trainees: int
    chi2: float
    df: int
    p_value: float
    reason: str = ""


def compare_all_cohorts(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = ALL,
    *,
    rule: Proficiency = Proficiency(),
) -> AllCohorts:
    """Do the cohorts reach proficiency at different paces at all, before any two are compared? The
    k-sample log-rank test (statsmodels' survdiff) on `time_to_proficiency`'s durations, censored included."""
    from statsmodels.duration.survfunc import survdiff

    dur = _durations(con, filters, rule)
    if not dur.empty and dur["reached"].any():
        # A cohort whose trainees all left the data before anyone reached proficiency is never at risk at an
        # event time: it carries no information and makes the statistic's covariance singular.
        first_event = dur.loc[dur["reached"], "week"].min()
        dur = dur[dur.groupby("cohort")["week"].transform("max") >= first_event]
    k = int(dur["cohort"].nunique()) if not dur.empty else 0
    if k < 2 or not dur["reached"].any():
        return AllCohorts(k, len(dur), math.nan, max(k - 1, 0), math.nan,
                          "fewer than two cohorts followed long enough, or nobody has reached proficiency yet")
    try:
        chi2, p = survdiff(dur["week"].to_numpy(float), dur["reached"].to_numpy(int), dur["cohort"].to_numpy())
    except np.linalg.LinAlgError:
        return AllCohorts(k, len(dur), math.nan, k - 1, math.nan, "too few trainees at risk in some cohort to test")
    return AllCohorts(k, len(dur), float(chi2), k - 1, float(p))
