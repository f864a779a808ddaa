"""Curves over time on small aggregates: learning-curve fits, Kaplan-Meier and the log-rank test.

numpy/scipy only; no SQL, no Streamlit.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps

from metrics.stats import one_blas_thread

# --------------------------------------------------------------------------------------------- KM

KM_COLUMNS = ["time", "at_risk", "events", "censored", "survival", "low", "high"]


def kaplan_meier(durations: np.ndarray, events: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier estimate of the survival function S(t) = P(T > t).

    One row per distinct time (events or censorings): time, at_risk, events, censored, survival, and a
    pointwise interval from Greenwood's variance on the log(-log S) scale (Kalbfleisch & Prentice), which
    stays inside [0, 1]. Where S = 1 the interval is [1, 1]; where S = 0 it is [0, 0]."""
    t = np.asarray(durations, float)
    e = np.asarray(events, bool)
    if t.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in KM_COLUMNS})
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    times = np.unique(t)
    rows = []
    surv = 1.0
    greenwood = 0.0
    for time in times:
        at_risk = int(np.sum(t >= time))
        d = int(np.sum((t == time) & e))
        c = int(np.sum((t == time) & ~e))
        if d > 0:
            surv *= 1 - d / at_risk
            greenwood = greenwood + d / (at_risk * (at_risk - d)) if at_risk > d else math.inf
        if surv <= 0:
            low = high = 0.0
        elif surv >= 1:
            low = high = 1.0
        elif not math.isfinite(greenwood):
            low = high = math.nan
        else:
            log_s = math.log(surv)
            se = math.sqrt(greenwood) / abs(log_s)
            # S^exp(+-z se) with the log-log transform: the larger exponent gives the lower bound.
            low = surv ** math.exp(z * se)
            high = surv ** math.exp(-z * se)
        rows.append((float(time), at_risk, d, c, surv, low, high))
    return pd.DataFrame(rows, columns=KM_COLUMNS)


@dataclass(frozen=True)
class KmMedian:
    median: float
    low: float
    high: float


def km_median(km: pd.DataFrame) -> KmMedian:
    """Median survival time from a `kaplan_meier` frame: the first time with S <= 0.5 (nan if never).
    The interval reads the pointwise band the same way (as R's survival package does): low is the first
    time the band's lower edge reaches 0.5, high the first time its upper edge does (nan: not reached)."""

    def first(col: str) -> float:
        hit = km.loc[km[col] <= 0.5, "time"]
        return float(hit.iloc[0]) if len(hit) else math.nan

    if km.empty:
        return KmMedian(math.nan, math.nan, math.nan)
    return KmMedian(first("survival"), first("low"), first("high"))


@dataclass(frozen=True)
class LogRank:
    """Log-rank (Mantel-Cox) test of equal survival in two groups."""

    chi2: float
    p_value: float
    observed_a: int
    expected_a: float
    observed_b: int
    expected_b: float


def log_rank(
    durations_a: np.ndarray, events_a: np.ndarray, durations_b: np.ndarray, events_b: np.ndarray
) -> LogRank:
    """Log-rank test: at each event time, observed minus expected events in group a under equal hazards,
    with the hypergeometric variance; chi2 = (O_a - E_a)^2 / V on 1 degree of freedom."""
    ta = np.asarray(durations_a, float)
    ea = np.asarray(events_a, bool)
    tb = np.asarray(durations_b, float)
    eb = np.asarray(events_b, bool)
    event_times = np.unique(np.concatenate([ta[ea], tb[eb]]))
    o_a = e_a = var = 0.0
    for time in event_times:
        n_a = float(np.sum(ta >= time))
        n_b = float(np.sum(tb >= time))
        d_a = float(np.sum((ta == time) & ea))
        d = d_a + float(np.sum((tb == time) & eb))
        n = n_a + n_b
        o_a += d_a
        e_a += d * n_a / n
        if n > 1:
            var += d * (n_a / n) * (n_b / n) * (n - d) / (n - 1)
    total = int(ea.sum() + eb.sum())
    if var <= 0:
        return LogRank(math.nan, math.nan, int(o_a), e_a, total - int(o_a), total - e_a)
    chi2 = (o_a - e_a) ** 2 / var
    return LogRank(chi2, float(sps.chi2.sf(chi2, 1)), int(o_a), e_a, total - int(o_a), total - e_a)


# ---------------------------------------------------------------------------------- curve fitting

Model = Literal["exponential", "power"]


def exp_rise(t: np.ndarray, a: float, b: float, tau: float) -> np.ndarray:
    """Exponential rise to an asymptote: starts at b (t = 0), approaches a with time constant tau."""
    return a - (a - b) * np.exp(-np.asarray(t, float) / tau)


def power_law(t: np.ndarray, a: float, c: float, k: float) -> np.ndarray:
    """Power law of practice: a - c (t + 1)^-k; starts at a - c (t = 0), approaches a."""
    return a - c * np.power(np.asarray(t, float) + 1.0, -k)


MODELS = {"exponential": exp_rise, "power": power_law}
PARAMS = {"exponential": ("a", "b", "tau"), "power": ("a", "c", "k")}


@dataclass(frozen=True)
class ModelFit:
    model: Model
    params: dict[str, float]
    wrss: float  # weighted residual sum of squares
    aic: float
    ok: bool


@dataclass(frozen=True)
class CurveFit:
    exponential: ModelFit
    power: ModelFit
    chosen: Model | None  # lower AIC; None when neither fit converged
    n_points: int


def gaussian_aic(wrss: float, n: int, n_params: int) -> float:
    """AIC of a least-squares fit with Gaussian errors of variance sigma^2 / w_i and sigma estimated:
    n log(WRSS / n) + 2 (n_params + 1), dropping terms equal for every model fitted to the same data."""
    if n <= 0 or not math.isfinite(wrss):
        return math.nan
    return n * math.log(max(wrss, 1e-300) / n) + 2 * (n_params + 1)


def _failed(model: Model) -> ModelFit:
    return ModelFit(model, dict.fromkeys(PARAMS[model], math.nan), math.nan, math.nan, False)


def _fit_one(model: Model, t: np.ndarray, y: np.ndarray, w: np.ndarray) -> ModelFit:
    f = MODELS[model]
    names = PARAMS[model]
    top = float(np.max(y))
    low_y = float(np.min(y))
    if model == "exponential":
        p0 = [min(top + 0.01, 1.0), low_y, max(float(np.ptp(t)) / 3, 1.0)]
        bounds = ([0.0, 0.0, 1e-3], [1.0, 1.0, 1e3])
    else:
        p0 = [min(top + 0.01, 1.0), max(top - low_y, 0.01), 0.5]
        bounds = ([0.0, 0.0, 1e-3], [1.0, 2.0, 10.0])
    # Weighted least squares: curve_fit minimises sum(((y - f) / sigma)^2), so sigma = 1 / sqrt(w).
    sigma = 1.0 / np.sqrt(w)
    try:
        with warnings.catch_warnings(), one_blas_thread():
            warnings.simplefilter("ignore")
            popt, _ = optimize.curve_fit(f, t, y, p0=p0, sigma=sigma, bounds=bounds, maxfev=20000)
    except (RuntimeError, ValueError):
        return _failed(model)
    resid = y - f(t, *popt)
    wrss = float(np.sum(w * resid * resid))
    return ModelFit(model, dict(zip(names, map(float, popt), strict=True)), wrss,
                    gaussian_aic(wrss, t.size, 3), True)


def fit_learning_curve(weeks: np.ndarray, rates: np.ndarray, weights: np.ndarray) -> CurveFit:
    """Fit the exponential and power-law learning curves by weighted least squares (weights = reviews
    per point) and choose the one with the lower AIC. Needs at least 4 points with reviews."""
    t = np.asarray(weeks, float)
    y = np.asarray(rates, float)
    w = np.asarray(weights, float)
    keep = np.isfinite(t) & np.isfinite(y) & (w > 0)
    t, y, w = t[keep], y[keep], w[keep]
    # Normalise weights to mean 1 so that the WRSS is on the scale of the rates.
    if t.size:
        w = w / float(np.mean(w))
    if t.size < 4:
        return CurveFit(_failed("exponential"), _failed("power"), None, int(t.size))
    exp_fit = _fit_one("exponential", t, y, w)
    pow_fit = _fit_one("power", t, y, w)
    ok = [f for f in (exp_fit, pow_fit) if f.ok]
    chosen = min(ok, key=lambda f: f.aic).model if ok else None
    return CurveFit(exp_fit, pow_fit, chosen, int(t.size))


def predict(fit: ModelFit, weeks: np.ndarray) -> np.ndarray:
    """Values of a fitted model at `weeks` (nan if the fit failed)."""
    t = np.asarray(weeks, float)
    if not fit.ok:
        return np.full(t.shape, math.nan)
    return MODELS[fit.model](t, *(fit.params[n] for n in PARAMS[fit.model]))
