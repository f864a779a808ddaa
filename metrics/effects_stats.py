"""Statistics for before/after training effects, on small per-trainee aggregates (numpy/scipy only).

Difference-in-differences, ANCOVA by least squares and normalised (Hake) gains; paired tests and effect
sizes are in metrics.inference. Differences are always after - before. No SQL, no Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


def did_from_means(treated_pre: float, treated_post: float, control_pre: float, control_post: float) -> float:
    """Difference-in-differences from four group means: (treated change) - (control change)."""
    return (treated_post - treated_pre) - (control_post - control_pre)


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
