"""Comparisons a reviewer expects beside a figure: t-tests with their intervals, standardised differences,
paired tests with the statistic a report cites, chi-square tests, and the minimum detectable effect.

Differences are always `second - first` (or `after - before`), as everywhere in `metrics`. Results are
frozen dataclasses; degenerate inputs (fewer than 2 values, no spread, empty tables) give nan with a
`reason`, never an exception. numpy/scipy/statsmodels on small arrays; no SQL, no Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

from metrics import words
from metrics.stats import Interval

NAN = math.nan
ArrayLike = np.ndarray | Sequence[float]


def _t_quantile(confidence: float, df: float) -> float:
    return float(sps.t.ppf(1 - (1 - confidence) / 2, df))


def _finite(values: ArrayLike) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v)]


# ------------------------------------------------------------------------------- two independent groups


@dataclass(frozen=True)
class TwoSampleT:
    """A two-sample t-test of mean(second) - mean(first), with the interval of that difference."""

    method: str  # "Welch two-sample t-test" or "Student two-sample t-test (pooled SD)"
    statistic: float  # t
    df: float
    p_value: float  # two-sided
    difference: Interval  # mean(second) - mean(first), t interval
    n_first: int
    n_second: int
    mean_first: float
    mean_second: float
    sd_first: float
    sd_second: float
    reason: str = ""  # why the test is nan, when it is

    def cite(self) -> str:
        """The test as a report cites it: "t(18) = 2.52, p = 0.022" (Welch's df to one decimal)."""
        if not math.isfinite(self.statistic):
            return f"t not computed: {self.reason}"
        df = f"{self.df:.0f}" if float(self.df).is_integer() else f"{self.df:.1f}"
        return f"t({df}) = {self.statistic:.2f}, {words.p_text(self.p_value)}"


def two_sample_t_from_stats(
    mean_first: float, sd_first: float, n_first: int, mean_second: float, sd_second: float, n_second: int,
    *, equal_var: bool = False, confidence: float = 0.95,
) -> TwoSampleT:
    """Do two groups' means differ? Welch's t-test (default) or Student's pooled-SD test, from each
    group's mean, sample SD (ddof = 1) and size, with the t interval of mean(second) - mean(first).

    Welch: se^2 = s1^2/n1 + s2^2/n2 on Welch-Satterthwaite df. Pooled: s_p^2 = ((n1-1) s1^2 + (n2-1) s2^2)
    / (n1 + n2 - 2), se^2 = s_p^2 (1/n1 + 1/n2), df = n1 + n2 - 2. Fewer than 2 values in a group, or
    no spread in either, give nan with a reason."""
    method = "Student two-sample t-test (pooled SD)" if equal_var else "Welch two-sample t-test"
    diff = mean_second - mean_first

    def result(t: float, df: float, p: float, interval: Interval, reason: str = "") -> TwoSampleT:
        return TwoSampleT(method, t, df, p, interval, int(n_first), int(n_second), float(mean_first),
                          float(mean_second), float(sd_first), float(sd_second), reason)

    if n_first < 2 or n_second < 2:
        return result(NAN, NAN, NAN, Interval(estimate=diff, low=NAN, high=NAN),
                      "each group needs at least 2 values")
    v1, v2 = sd_first**2 / n_first, sd_second**2 / n_second
    if equal_var:
        df = float(n_first + n_second - 2)
        pooled = ((n_first - 1) * sd_first**2 + (n_second - 1) * sd_second**2) / df
        se = math.sqrt(pooled * (1 / n_first + 1 / n_second))
    else:
        se = math.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n_first - 1) + v2**2 / (n_second - 1)) if se > 0 else NAN
    if not se > 0:
        return result(NAN, NAN, NAN, Interval(estimate=diff, low=NAN, high=NAN),
                      "no spread in either group: every value is the same")
    t = diff / se
    half = _t_quantile(confidence, df) * se
    p = float(2 * sps.t.sf(abs(t), df))
    return result(t, df, p, Interval(estimate=diff, low=diff - half, high=diff + half))


def two_sample_t(
    first: ArrayLike, second: ArrayLike, *, equal_var: bool = False, confidence: float = 0.95
) -> TwoSampleT:
    """Do two independent groups' means differ (e.g. attendees' test scores against non-attendees')?
    `two_sample_t_from_stats` on the values; non-finite values are left out."""
    a, b = _finite(first), _finite(second)
    mean_a = float(a.mean()) if a.size else NAN
    mean_b = float(b.mean()) if b.size else NAN
    sd_a = float(a.std(ddof=1)) if a.size > 1 else NAN
    sd_b = float(b.std(ddof=1)) if b.size > 1 else NAN
    return two_sample_t_from_stats(mean_a, sd_a, a.size, mean_b, sd_b, b.size,
                                   equal_var=equal_var, confidence=confidence)


@dataclass(frozen=True)
class StandardisedDifference:
    """How large is the difference between two independent groups, in pooled standard deviations?

    d_s = (mean(second) - mean(first)) / s_pooled (Cohen 1988; Lakens 2013 eq. 1); g_s = d_s J(df) with
    Hedges' (1981) exact correction J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)), df = n1 + n2 - 2.
    Intervals invert the noncentral t distribution of t = d_s / sqrt(1/n1 + 1/n2) (Steiger & Fouladi
    1997, as ESCI, which Lakens 2013 used); g_s's interval is d_s's times J."""

    d_s: Interval
    g_s: Interval
    df: int
    n_first: int
    n_second: int
    reason: str = ""


def hedges_j(df: float) -> float:
    """Hedges' (1981) exact small-sample correction J(df); nan for df <= 0."""
    if not df > 0:
        return NAN
    return float(math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2))


def _noncentrality_interval(t: float, df: float, confidence: float) -> tuple[float, float]:
    """The noncentrality parameters whose noncentral t puts the observed t at the upper and lower
    (1 - confidence) / 2 tails: the exact interval for the noncentrality (Steiger & Fouladi 1997).
    nan where scipy's noncentral t cannot be evaluated that far out."""
    if t < 0:  # the noncentral t is symmetric under t, ncp -> -t, -ncp; scipy is steadier for t >= 0
        low, high = _noncentrality_interval(-t, df, confidence)
        return -high, -low
    tail = (1 - confidence) / 2

    def cdf_minus(target: float):
        return lambda ncp: float(sps.nct.cdf(t, df, ncp)) - target

    # The roots lie about z sqrt(1 + t^2 / (2 df)) from t (the large-sample SE of the noncentrality);
    # a bracket a few times that wide holds them without reaching where scipy's nct returns nan.
    width = 3 * float(sps.norm.ppf(1 - tail)) * math.sqrt(1 + t * t / (2 * df)) + 1
    try:
        low = optimize.brentq(cdf_minus(1 - tail), t - width, t + width, xtol=1e-12)
        high = optimize.brentq(cdf_minus(tail), t - width, t + width, xtol=1e-12)
    except ValueError:
        return NAN, NAN
    return float(low), float(high)


def standardised_difference(
    first: ArrayLike, second: ArrayLike, *, confidence: float = 0.95
) -> StandardisedDifference:
    """Cohen's d_s and Hedges' g_s for two independent groups, with exact (noncentral t) intervals."""
    a, b = _finite(first), _finite(second)
    n1, n2 = int(a.size), int(b.size)
    df = n1 + n2 - 2
    if n1 < 2 or n2 < 2:
        return StandardisedDifference(Interval.missing(), Interval.missing(), df, n1, n2,
                                      "each group needs at least 2 values")
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / df)
    if not pooled > 0:
        return StandardisedDifference(Interval.missing(), Interval.missing(), df, n1, n2,
                                      "no spread in either group: every value is the same")
    d = (float(b.mean()) - float(a.mean())) / pooled
    scale = math.sqrt(1 / n1 + 1 / n2)
    ncp_low, ncp_high = _noncentrality_interval(d / scale, df, confidence)
    j = hedges_j(df)
    d_s = Interval(estimate=d, low=ncp_low * scale, high=ncp_high * scale)
    g_s = Interval(estimate=d * j, low=d_s.low * j, high=d_s.high * j)
    return StandardisedDifference(d_s, g_s, df, n1, n2)


# ------------------------------------------------------------------------------------------- paired


@dataclass(frozen=True)
class SignedRank:
    """Wilcoxon's signed-rank test of after - before, zero differences dropped (Wilcoxon's method).

    w_plus is the sum of the ranks of the positive differences (R's V, Hollander & Wolfe's T+), w_minus
    of the negative ones; the p-value is scipy's (exact for small samples without ties, else the normal
    approximation). `location` is the Hodges-Lehmann estimate (median of the Walsh averages) with its
    distribution-free interval (Hollander & Wolfe 1999, section 3.3): exact critical values without
    ties and n <= 50 (as R's wilcox.test), the normal approximation otherwise."""

    w_plus: float
    w_minus: float
    n_nonzero: int
    p_value: float
    location: Interval
    exact: bool
    reason: str = ""

    def cite(self) -> str:
        """"W+ = 5, W- = 40, n = 9, p = 0.039"."""
        if not math.isfinite(self.p_value):
            return f"Wilcoxon not computed: {self.reason}"
        return (f"W+ = {self.w_plus:g}, W- = {self.w_minus:g}, n = {self.n_nonzero}, "
                f"{words.p_text(self.p_value)}")


@dataclass(frozen=True)
class PairedComparison:
    """Paired comparison of after - before per unit (e.g. each attendee's score after and before)."""

    n: int
    difference: Interval  # mean of after - before, with its t interval
    sd_difference: float
    statistic: float  # paired t
    df: int
    p_value: float  # two-sided paired t-test
    d_z: float  # mean difference / its SD
    wilcoxon: SignedRank
    reason: str = ""

    def cite(self) -> str:
        """"t(9) = 4.74, p = 0.001"."""
        if not math.isfinite(self.statistic):
            return f"t not computed: {self.reason}"
        return f"t({self.df}) = {self.statistic:.2f}, {words.p_text(self.p_value)}"


def _signed_rank_null_counts(n: int) -> np.ndarray:
    """How many of the 2^n sign patterns give each value 0 .. n(n+1)/2 of W+ (no ties)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[: counts.size - rank].copy()
    return counts


def _hodges_lehmann(d: np.ndarray, confidence: float, exact: bool) -> Interval:
    """Hodges-Lehmann location of differences `d` (nonzero) with its Walsh-average interval."""
    n = d.size
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    m = walsh.size  # n (n + 1) / 2
    alpha = 1 - confidence
    if exact:
        cdf = np.cumsum(_signed_rank_null_counts(n)) / 2.0**n
        qu = int(np.searchsorted(cdf, alpha / 2 - 1e-12))  # smallest c with P(W+ <= c) >= alpha / 2
    else:
        z = float(sps.norm.ppf(1 - alpha / 2))
        qu = round(m / 2 - z * math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
    qu = min(max(qu, 1), m)
    return Interval(estimate=float(np.median(walsh)), low=float(walsh[qu - 1]), high=float(walsh[m - qu]))


def signed_rank(before: ArrayLike, after: ArrayLike, *, confidence: float = 0.95) -> SignedRank:
    """Wilcoxon's signed-rank test of after - before for paired values (pairs with a non-finite value
    are left out)."""
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise ValueError("before and after must pair up: give them the same length")
    d = (a - b)[np.isfinite(a) & np.isfinite(b)]
    d = d[d != 0]
    n = int(d.size)
    if n == 0:
        return SignedRank(0.0, 0.0, 0, NAN, Interval.missing(), False, "no pair changed: every difference is 0")
    ranks = sps.rankdata(np.abs(d))
    w_plus, w_minus = float(ranks[d > 0].sum()), float(ranks[d < 0].sum())
    exact = n <= 50 and np.unique(np.abs(d)).size == n
    p = float(sps.wilcoxon(d, method="exact" if exact else "approx").pvalue)
    return SignedRank(w_plus, w_minus, n, p, _hodges_lehmann(d, confidence, exact), exact)


def mean_t_interval(values: ArrayLike, *, confidence: float = 0.95) -> Interval:
    """The mean of the finite values with its one-sample t interval (mean +- t(n-1) * sd / sqrt(n)); the
    bounds are nan with fewer than 2 values or no spread. The paired comparison's interval of after - before,
    without its tests: callers that want only the interval skip Wilcoxon's O(n^2) Walsh averages."""
    d = _finite(values)
    n = int(d.size)
    mean = float(d.mean()) if n else NAN
    sd = float(d.std(ddof=1)) if n >= 2 else NAN
    if not sd > 0:
        return Interval(estimate=mean, low=NAN, high=NAN)
    half = _t_quantile(confidence, n - 1) * (sd / math.sqrt(n))
    return Interval(estimate=mean, low=mean - half, high=mean + half)


def paired_comparison(before: ArrayLike, after: ArrayLike, *, confidence: float = 0.95) -> PairedComparison:
    """Did the same units change from before to after? Paired t-test ("t(9) = 4.74") with the t interval
    of the mean difference, Cohen's d_z, and Wilcoxon's signed-rank test beside it."""
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise ValueError("before and after must pair up: give them the same length")
    keep = np.isfinite(a) & np.isfinite(b)
    d = (a - b)[keep]
    n = int(d.size)
    wilcoxon = signed_rank(b[keep], a[keep], confidence=confidence)
    mean = float(d.mean()) if n else NAN
    if n < 2:
        return PairedComparison(n, Interval(estimate=mean, low=NAN, high=NAN), NAN, NAN, max(n - 1, 0), NAN,
                                NAN, wilcoxon, "needs at least 2 pairs")
    sd = float(d.std(ddof=1))
    if not sd > 0:
        return PairedComparison(n, Interval(estimate=mean, low=NAN, high=NAN), sd, NAN, n - 1, NAN, NAN,
                                wilcoxon, "every pair changed by the same amount: no spread to test against")
    t = mean / (sd / math.sqrt(n))
    return PairedComparison(
        n=n, difference=mean_t_interval(d, confidence=confidence), sd_difference=sd,
        statistic=t, df=n - 1, p_value=float(2 * sps.t.sf(abs(t), n - 1)), d_z=mean / sd, wilcoxon=wilcoxon,
    )


# --------------------------------------------------------------------------------------- chi-square

SMALL_EXPECTED = 5.0  # Cochran (1954): the chi-square approximation needs expected counts of about 5


@dataclass(frozen=True)
class ChiSquare:
    """A Pearson chi-square test on a contingency table (rows x columns of counts)."""

    method: str
    statistic: float
    df: int
    p_value: float
    n: int  # total count
    min_expected: float
    small_expected_share: float  # share of cells with an expected count below 5
    corrected: bool  # Yates' continuity correction applied (2 x 2 only)
    fisher_p: float  # Fisher's exact test, two-sided (2 x 2 only; nan otherwise)
    dropped: str = ""  # rows or columns left out because they were all zero
    reason: str = ""  # why the test is nan, when it is
    caution: str = ""  # when the approximation is doubtful (Cochran's rule)

    def cite(self) -> str:
        """"chi2(2) = 30.07, p < 0.001"."""
        if not math.isfinite(self.statistic):
            return f"chi-square not computed: {self.reason}"
        return f"chi2({self.df}) = {self.statistic:.2f}, {words.p_text(self.p_value)}"


def _empty_chi(method: str, n: int, reason: str, dropped: str = "") -> ChiSquare:
    return ChiSquare(method, NAN, 0, NAN, n, NAN, NAN, False, NAN, dropped, reason)


def _prepare(table: np.ndarray | Sequence[Sequence[float]]) -> tuple[np.ndarray, str]:
    """The table without all-zero rows and columns (they carry no information and would give expected
    counts of 0), and words naming what was dropped."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2:
        raise ValueError("a contingency table is 2-D: rows x columns of counts")
    if (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("a contingency table holds counts: finite and not negative")
    rows, cols = t.sum(axis=1) > 0, t.sum(axis=0) > 0
    parts = []
    if (~rows).any():
        parts.append(f"{int((~rows).sum())} empty row(s)")
    if (~cols).any():
        parts.append(f"{int((~cols).sum())} empty column(s)")
    return t[rows][:, cols], " and ".join(parts)


def chi_square_independence(
    table: np.ndarray | Sequence[Sequence[float]], *, yates: bool | None = None
) -> ChiSquare:
    """Are rows and columns independent (e.g. does this market's confusion pattern differ from the
    others')? Pearson's X^2 = sum (O - E)^2 / E with E = row total x column total / n, on (r-1)(c-1) df.

    A 2 x 2 table gets Yates' continuity correction when an expected count is below 5 (`yates=None`;
    True or False forces it) and Fisher's exact p beside it. All-zero rows and columns are left out
    and named. Fewer than 2 non-empty rows or columns give nan with a reason. When more than 20% of
    expected counts are below 5, or any is below 1, `caution` says so (Cochran 1954)."""
    t, dropped = _prepare(table)
    n = round(float(t.sum()))
    method = "Pearson chi-square test of independence"
    if t.shape[0] < 2 or t.shape[1] < 2:
        return _empty_chi(method, n, "needs at least 2 non-empty rows and 2 non-empty columns", dropped)
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    is_2x2 = t.shape == (2, 2)
    small = float((expected < SMALL_EXPECTED).mean())
    corrected = is_2x2 and (bool(expected.min() < SMALL_EXPECTED) if yates is None else yates)
    res = sps.chi2_contingency(t, correction=corrected)
    caution = ""
    if small > 0.2 or expected.min() < 1:
        caution = (f"{small:.0%} of expected counts are below 5 (smallest {expected.min():.2g}): "
                   "the chi-square approximation is rough" + (", read Fisher's exact p" if is_2x2 else ""))
    return ChiSquare(
        method=method + (" with Yates' continuity correction" if corrected else ""),
        statistic=float(res.statistic), df=int(res.dof), p_value=float(res.pvalue), n=n,
        min_expected=float(expected.min()), small_expected_share=small, corrected=corrected,
        fisher_p=float(sps.fisher_exact(t).pvalue) if is_2x2 else NAN, dropped=dropped, caution=caution,
    )


def chi_square_2x2(table: np.ndarray | Sequence[Sequence[float]], *, yates: bool | None = None) -> ChiSquare:
    """A 2 x 2 table: `chi_square_independence`, checked to be 2 x 2 (Yates' correction where an
    expected count is below 5, Fisher's exact p beside it)."""
    if np.asarray(table).shape != (2, 2):
        raise ValueError("chi_square_2x2 takes a 2 x 2 table; use chi_square_independence for r x c")
    return chi_square_independence(table, yates=yates)


def chi_square_proportions(successes: ArrayLike, totals: ArrayLike) -> ChiSquare:
    """Do k groups' proportions differ at all (e.g. the 8 cohorts' pass rates), before any pairwise
    look? The chi-square test of homogeneity on the k x 2 table of successes and failures, on k - 1 df
    (Fleiss, Levin & Paik 2003, section 9.1). Groups with no trials are left out and named."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    if x.shape != n.shape or x.ndim != 1:
        raise ValueError("successes and totals must be two lists of the same length")
    if ((x < 0) | (x > n)).any():
        raise ValueError("each group's successes must lie between 0 and its total")
    result = chi_square_independence(np.column_stack([x, n - x]))
    return ChiSquare(**{**result.__dict__, "method": result.method.replace(
        "test of independence", f"test of {int((n > 0).sum())} proportions")})


# ------------------------------------------------------------------------------ design sensitivity


@dataclass(frozen=True)
class MinimumDetectableEffect:
    """The smallest true training effect a design detects with the given power: beside every "no
    clear effect", it says whether the design could have seen an effect of the size that matters."""

    effect: float  # in rate units (0.09 = 9 points), either direction
    sd_change: float  # SD of one trainee's before-to-after change in rate
    n_attendees: int
    n_comparison: int
    reviews_per_trainee: float
    baseline_rate: float
    alpha: float
    power: float
    df: int
    method: str
    reason: str = ""


def minimum_detectable_effect(
    n_attendees: int, n_comparison: int, reviews_per_trainee: float, baseline_rate: float,
    *, alpha: float = 0.05, power: float = 0.8, between_sd: float = 0.0,
) -> MinimumDetectableEffect:
    """How large a difference-in-differences could this training design detect?

    Design: each trainee has `reviews_per_trainee` reviews before and as many after; the effect is the
    attendees' mean change in accuracy minus the comparison trainees' mean change, tested two-sided at
    `alpha` by a two-sample t-test on the per-trainee changes (df = n + m - 2).

    Derivation: a trainee's rate in a period of r reviews at rate p has binomial variance p (1 - p) / r;
    the change (after - before) of one trainee therefore has variance sigma^2 = 2 p (1 - p) / r +
    between_sd^2, the last term being how much true changes differ between trainees (0 by default, which
    makes this the smallest MDE the design could have). The difference of the two groups' mean changes
    has standard error sigma sqrt(1/n + 1/m). The MDE is the true difference at which the test rejects
    with probability `power`: sigma times the standardised effect that statsmodels' TTestIndPower solves
    for from the noncentral t (for large n, about (z_{1-alpha/2} + z_power) sigma sqrt(1/n + 1/m),
    2.80 sigma sqrt(1/n + 1/m) at the defaults). Rates near 0 or 1 make it approximate: the binomial
    variance changes with the rate. Too few trainees (n or m < 1, n + m < 3) give nan with a reason."""
    from statsmodels.stats.power import TTestIndPower  # statsmodels is slow to import: only here

    method = "two-sample t-test on per-trainee changes (difference-in-differences), noncentral t"
    sigma = math.sqrt(2 * baseline_rate * (1 - baseline_rate) / reviews_per_trainee + between_sd**2) \
        if reviews_per_trainee > 0 and 0 <= baseline_rate <= 1 else NAN
    df = n_attendees + n_comparison - 2

    def result(effect: float, reason: str = "") -> MinimumDetectableEffect:
        return MinimumDetectableEffect(effect, sigma, n_attendees, n_comparison, reviews_per_trainee,
                                       baseline_rate, alpha, power, df, method, reason)

    if n_attendees < 1 or n_comparison < 1 or df < 1:
        return result(NAN, "needs attendees and comparison trainees, at least 3 in all")
    if not sigma > 0:
        return result(NAN, "needs reviews per trainee and a baseline rate strictly between 0 and 1")
    d = TTestIndPower().solve_power(effect_size=None, nobs1=n_attendees, alpha=alpha, power=power,
                                    ratio=n_comparison / n_attendees, alternative="two-sided")
    return result(float(np.asarray(d)) * sigma)
