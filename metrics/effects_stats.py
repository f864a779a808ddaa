"""Statistics for before/after training effects, on small per-trainee aggregates (numpy/scipy only).

Difference-in-differences, paired tests and effect sizes, ANCOVA by least squares and normalised (Hake)
gains. Differences are always after - before. No SQL, no Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from metrics.stats import Interval


def did_from_means(treated_pre: float, treated_post: float, control_pre: float, control_post: float) -> float:
    """Difference-in-differences from four group means: (treated change) - (control change)."""
    return (treated_post - treated_pre) - (control_post - control_pre)


@dataclass(frozen=True)
class PairedResult:
    """Paired comparison of per-unit after vs before values (e.g. each attendee's accuracy after vs before)."""

    n: int
    change: Interval  # mean of after - before, with its paired t interval
    sd_change: float  # sample SD (ddof=1) of after - before
    t_p: float  # two-sided paired t-test p-value
    wilcoxon_p: float  # two-sided Wilcoxon signed-rank p-value (zero differences dropped, scipy's default)
    d_z: float  # mean change / sd_change
    hedges_g: float  # g_av: (mean after - mean before) / ((sd_before + sd_after) / 2), times J(n - 1)


def cohens_dz(before: np.ndarray, after: np.ndarray) -> float:
    """Cohen's d_z for paired data: mean of the differences (after - before) over their SD (ddof=1)."""
    diff = np.asarray(after, float) - np.asarray(before, float)
    if diff.size < 2:
        return math.nan
    sd = float(np.std(diff, ddof=1))
    return float(np.mean(diff)) / sd if sd > 0 else math.nan


def hedges_correction(df: float) -> float:
    """Hedges' small-sample correction J(df) = 1 - 3 / (4 df - 1) (Borenstein et al. 2009, eq. 4.22)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0) if df > 0.25 else math.nan


def hedges_g_prepost(before: np.ndarray, after: np.ndarray) -> float:
    """Hedges' g_av for a before/after design: the mean change standardised by the average of the two
    SDs, d_av = (mean after - mean before) / ((sd_before + sd_after) / 2) (Cumming 2012; Lakens 2013, eq. 10),
    times J(n - 1), the small-sample correction for matched groups (Borenstein et al. 2009, ch. 4)."""
    a = np.asarray(before, float)
    b = np.asarray(after, float)
    n = a.size
    if n < 2:
        return math.nan
    sd_av = (float(np.std(a, ddof=1)) + float(np.std(b, ddof=1))) / 2
    if sd_av == 0:
        return math.nan
    return (float(np.mean(b)) - float(np.mean(a))) / sd_av * hedges_correction(n - 1)


def paired_test(before: np.ndarray, after: np.ndarray, confidence: float = 0.95) -> PairedResult:
    """Paired t-test and Wilcoxon signed-rank test of after vs before (differences after - before), with
    d_z and Hedges' g_av.

    Fewer than 2 pairs gives nan for everything but n and the mean."""
    a = np.asarray(before, float)
    b = np.asarray(after, float)
    diff = b - a
    n = int(diff.size)
    nan = math.nan
    change = mean_interval(diff, confidence)
    if n < 2:
        return PairedResult(n, change, nan, nan, nan, nan, nan)
    sd = float(np.std(diff, ddof=1))
    return PairedResult(
        n=n,
        change=change,
        sd_change=sd,
        t_p=float(sps.ttest_rel(b, a).pvalue) if sd > 0 else nan,
        wilcoxon_p=float(sps.wilcoxon(diff).pvalue) if np.any(diff != 0) else nan,
        d_z=cohens_dz(a, b),
        hedges_g=hedges_g_prepost(a, b),
    )


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """The mean with its t interval; nan bounds below 2 values."""
    v = np.asarray(values, float)
    if v.size == 0:
        return Interval.missing(confidence)
    m = float(np.mean(v))
    if v.size < 2:
        return Interval(m, math.nan, math.nan, confidence)
    half = float(sps.t.ppf(1 - (1 - confidence) / 2, v.size - 1)) * float(np.std(v, ddof=1)) / math.sqrt(v.size)
    return Interval(m, m - half, m + half, confidence)


@dataclass(frozen=True)
class OlsResult:
    coef: np.ndarray
    se: np.ndarray
    df: int

    def p_value(self, i: int) -> float:
        if not (self.se[i] > 0) or self.df <= 0:
            return math.nan
        return float(2 * sps.t.sf(abs(self.coef[i] / self.se[i]), self.df))


def ols(x: np.ndarray, y: np.ndarray) -> OlsResult:
    """Ordinary least squares of y on the columns of x (include the constant yourself), classical SEs."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n, k = x.shape
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    df = n - k
    if df <= 0:
        return OlsResult(coef, np.full(k, math.nan), df)
    resid = y - x @ coef
    sigma2 = float(resid @ resid) / df
    try:
        cov = sigma2 * np.linalg.inv(x.T @ x)
    except np.linalg.LinAlgError:
        return OlsResult(coef, np.full(k, math.nan), df)
    return OlsResult(coef, np.sqrt(np.clip(np.diag(cov), 0, None)), df)


def ancova(pre: np.ndarray, post: np.ndarray, treated: np.ndarray) -> OlsResult:
    """ANCOVA by OLS: post = b0 + b1 * pre + b2 * treated (unweighted, one row per trainee).
    b2 (index 2) is the effect adjusted for where each trainee started."""
    pre = np.asarray(pre, float)
    x = np.column_stack([np.ones_like(pre), pre, np.asarray(treated, float)])
    return ols(x, np.asarray(post, float))


def batched_ancova_effect(pre: np.ndarray, post: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """The treated coefficient of `ancova` for many resamples at once: arrays of shape (replicates, n).
    Replicates whose design is singular give nan."""
    pre = np.asarray(pre, float)
    post = np.asarray(post, float)
    t = np.asarray(treated, float)
    ones = np.ones_like(pre)
    cols = [ones, pre, t]
    xtx = np.empty((*pre.shape[:-1], 3, 3))
    xty = np.empty((*pre.shape[:-1], 3))
    for i in range(3):
        xty[..., i] = np.sum(cols[i] * post, axis=-1)
        for j in range(3):
            xtx[..., i, j] = np.sum(cols[i] * cols[j], axis=-1)
    out = np.full(pre.shape[:-1], math.nan)
    det = np.linalg.det(xtx)
    ok = np.abs(det) > 1e-12
    if np.any(ok):
        out[ok] = np.linalg.solve(xtx[ok], xty[ok][..., None])[..., 2, 0]
    return out


def welch_less(a: np.ndarray, b: np.ndarray) -> float:
    """One-sided Welch t-test p-value for mean(a) < mean(b); nan when either group has < 2 values."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    if a.size < 2 or b.size < 2 or (np.var(a) == 0 and np.var(b) == 0):
        return math.nan
    return float(sps.ttest_ind(a, b, equal_var=False, alternative="less").pvalue)


def hake_gain(pre_pct: np.ndarray, post_pct: np.ndarray) -> np.ndarray:
    """Hake's normalised gain per person, (post - pre) / (100 - pre) on percentage scores; nan at pre = 100."""
    pre = np.asarray(pre_pct, float)
    post = np.asarray(post_pct, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pre < 100, (post - pre) / (100 - pre), np.nan)


def hake_class_gain(pre_pct: np.ndarray, post_pct: np.ndarray) -> float:
    """Hake's (1998) class-average normalised gain <g> = (<post> - <pre>) / (100 - <pre>)."""
    pre = np.asarray(pre_pct, float)
    post = np.asarray(post_pct, float)
    if pre.size == 0:
        return math.nan
    mpre = float(np.mean(pre))
    return (float(np.mean(post)) - mpre) / (100 - mpre) if mpre < 100 else math.nan
