"""Curves over time on small aggregates: learning-curve fits, Kaplan-Meier and the log-rank test.

numpy/scipy only; no SQL, no Streamlit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps

from metrics.stats import Interval, one_blas_thread

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

Model = Literal["exponential", "power", "exp_from_zero", "power_origin"]


def exp_rise(t: np.ndarray, a: float, b: float, tau: float) -> np.ndarray:
    """Exponential rise to an asymptote: starts at b (t = 0), approaches a with time constant tau."""
    return a - (a - b) * np.exp(-np.asarray(t, float) / tau)


def power_law(t: np.ndarray, a: float, c: float, k: float) -> np.ndarray:
    """Power law of practice: a - c (t + 1)^-k; starts at a - c (t = 0), approaches a."""
    return a - c * np.power(np.asarray(t, float) + 1.0, -k)


def exp_from_zero(t: np.ndarray, a: float, tau: float) -> np.ndarray:
    """Exponential rise from zero: a (1 - exp(-t / tau)); 0 at t = 0, approaches a (2 parameters)."""
    return a * (1 - np.exp(-np.asarray(t, float) / tau))


def power_origin(t: np.ndarray, a: float, k: float) -> np.ndarray:
    """Power law through the origin: a t^k (2 parameters)."""
    return a * np.power(np.asarray(t, float), k)


def _jacobian(model: Model, t: np.ndarray, p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Analytic derivatives of the model at `t` by each parameter: points x parameters."""
    if model == "exponential":
        a, b, tau = p
        e = np.exp(-t / tau)
        return np.column_stack([1 - e, e, -(a - b) * e * t / tau**2])
    if model == "power":
        a, c, k = p
        q = np.power(t + 1.0, -k)
        return np.column_stack([np.ones_like(t), -q, c * q * np.log(t + 1.0)])
    if model == "exp_from_zero":
        a, tau = p
        e = np.exp(-t / tau)
        return np.column_stack([1 - e, -a * e * t / tau**2])
    a, k = p
    q = np.power(t, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t = np.where(t > 0, np.log(np.where(t > 0, t, 1.0)), 0.0)  # t^k log t -> 0 at t = 0
    return np.column_stack([q, a * q * log_t])


MODELS: dict[str, Callable[..., np.ndarray]] = {
    "exponential": exp_rise, "power": power_law, "exp_from_zero": exp_from_zero, "power_origin": power_origin,
}
PARAMS: dict[str, tuple[str, ...]] = {
    "exponential": ("a", "b", "tau"), "power": ("a", "c", "k"), "exp_from_zero": ("a", "tau"),
    "power_origin": ("a", "k"),
}
# Positive scale and rate parameters get their intervals on the log scale (so they stay positive and
# are asymmetric, "time constant 8.5 weeks, 95% CI 6.9 to 10.4"); levels (a, b) on their own scale.
LOG_SCALE = frozenset({"tau", "c", "k"})


@dataclass(frozen=True)
class ModelFit:
    """One fitted learning curve. `params` are the estimates; `intervals` their confidence intervals
    from the fit's covariance (nan for a parameter on a bound); `on_bound` names every parameter that
    ended on a bound of its search range: the fit there is constrained, its standard errors describe
    the other parameters with it held fixed, and its AIC counts it as free (see `CurveFit.caution`)."""

    model: Model
    params: dict[str, float]
    wrss: float  # weighted residual sum of squares
    aic: float
    ok: bool
    se: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, Interval] = field(default_factory=dict)
    on_bound: tuple[str, ...] = ()
    n_params: int = 0


@dataclass(frozen=True)
class CurveFit:
    exponential: ModelFit
    power: ModelFit
    chosen: Model | None  # lower AIC among the fits that converged; None when none did
    n_points: int
    exp_from_zero: ModelFit | None = None
    power_origin: ModelFit | None = None
    caution: str = ""  # words when the comparison involves a fit on a bound

    @property
    def fits(self) -> tuple[ModelFit, ...]:
        return tuple(f for f in (self.exponential, self.power, self.exp_from_zero, self.power_origin) if f)


def gaussian_aic(wrss: float, n: int, n_params: int) -> float:
    """AIC of a least-squares fit with Gaussian errors of variance sigma^2 / w_i and sigma estimated:
    n log(WRSS / n) + 2 (n_params + 1), dropping terms equal for every model fitted to the same data."""
    if n <= 0 or not math.isfinite(wrss):
        return math.nan
    return n * math.log(max(wrss, 1e-300) / n) + 2 * (n_params + 1)


def _failed(model: Model) -> ModelFit:
    names = PARAMS[model]
    return ModelFit(model, dict.fromkeys(names, math.nan), math.nan, math.nan, False,
                    dict.fromkeys(names, math.nan), {}, (), len(names))


def _rate_start(model: Model, t: np.ndarray, y: np.ndarray) -> tuple[list[float], tuple[list[float], list[float]]]:
    """Starting values and bounds for curves of rates in [0, 1] over weeks."""
    top, low_y = float(np.max(y)), float(np.min(y))
    plateau = min(top + 0.01, 1.0)
    span = max(float(np.ptp(t)) / 3, 1.0)
    if model == "exponential":
        return [plateau, low_y, span], ([0.0, 0.0, 1e-3], [1.0, 1.0, 1e3])
    if model == "power":
        return [plateau, max(top - low_y, 0.01), 0.5], ([0.0, 0.0, 1e-3], [1.0, 2.0, 10.0])
    if model == "exp_from_zero":
        return [plateau, span], ([0.0, 1e-3], [1.0, 1e3])
    k0 = 0.3
    return [min(top / max(float(np.max(t)), 1.0) ** k0, 1.0), k0], ([0.0, 1e-3], [1.0, 10.0])


def _covariance_intervals(
    model: Model, t: np.ndarray, y: np.ndarray, w: np.ndarray, popt: np.ndarray, free: np.ndarray,
    confidence: float,
) -> tuple[dict[str, float], dict[str, Interval]]:
    """Standard errors from the fit's covariance s^2 (J' W J)^-1 over the free parameters (those not
    on a bound), s^2 = WRSS / (n - free parameters), as NIST's certified values are computed; t
    intervals on n - p df, on the log scale for LOG_SCALE parameters (delta method)."""
    names = PARAMS[model]
    se = dict.fromkeys(names, math.nan)
    nan_iv = Interval(estimate=math.nan, low=math.nan, high=math.nan)
    intervals = {n: Interval(estimate=float(v), low=math.nan, high=math.nan) for n, v in zip(names, popt, strict=True)}
    dof = t.size - int(free.sum())
    if dof <= 0 or not free.any():
        return se, intervals
    resid = y - MODELS[model](t, *popt)
    s2 = float(np.sum(w * resid * resid)) / dof
    jac = _jacobian(model, t, popt)[:, free]
    try:
        cov = s2 * np.linalg.inv(jac.T @ (w[:, None] * jac))
    except np.linalg.LinAlgError:
        return se, dict.fromkeys(names, nan_iv)
    q = float(sps.t.ppf(1 - (1 - confidence) / 2, dof))
    for name, value, var in zip(np.asarray(names)[free], popt[free], np.diag(cov), strict=True):
        s = math.sqrt(var) if var >= 0 else math.nan
        se[str(name)] = s
        if name in LOG_SCALE and value > 0:
            spread = math.exp(q * s / value)
            intervals[str(name)] = Interval(estimate=float(value), low=float(value / spread), high=float(value * spread))
        else:
            intervals[str(name)] = Interval(estimate=float(value), low=float(value - q * s), high=float(value + q * s))
    return se, intervals


def fit_model(
    model: Model, t: np.ndarray, y: np.ndarray, w: np.ndarray, *, p0: Sequence[float] | None = None,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None, confidence: float = 0.95,
) -> ModelFit:
    """Fit one model by weighted least squares (curve_fit with the analytic Jacobian), with standard
    errors, intervals and bound flags. Defaults: starting values and bounds for rates over weeks."""
    names = PARAMS[model]
    start, default_bounds = _rate_start(model, t, y)
    lower, upper = (np.asarray(b, float) for b in (bounds or default_bounds))
    p_start = np.clip(np.asarray(p0 if p0 is not None else start, float), lower, upper)
    # Weighted least squares: curve_fit minimises sum(((y - f) / sigma)^2), so sigma = 1 / sqrt(w).
    sigma = 1.0 / np.sqrt(w)
    try:
        with warnings.catch_warnings(), one_blas_thread():
            warnings.simplefilter("ignore")
            popt, _ = optimize.curve_fit(
                MODELS[model], t, y, p0=p_start, sigma=sigma, bounds=(lower, upper), maxfev=20000,
                jac=lambda tt, *p: _jacobian(model, np.asarray(tt, float), p), xtol=1e-12, ftol=1e-12)
    except (RuntimeError, ValueError):
        return _failed(model)
    scale = np.maximum(np.abs(popt), 1.0)
    at_bound = (np.abs(popt - lower) <= 1e-6 * scale) | (np.abs(popt - upper) <= 1e-6 * scale)
    resid = y - MODELS[model](t, *popt)
    wrss = float(np.sum(w * resid * resid))
    se, intervals = _covariance_intervals(model, t, y, w, popt, ~at_bound, confidence)
    return ModelFit(model, dict(zip(names, map(float, popt), strict=True)), wrss,
                    gaussian_aic(wrss, t.size, len(names)), True, se, intervals,
                    tuple(n for n, b in zip(names, at_bound, strict=True) if b), len(names))


def _caution(fits: Sequence[ModelFit], chosen: ModelFit | None) -> str:
    """Words for a comparison that includes fits ending on a bound: AIC has no correction for a
    parameter on the edge of its range (its penalty still counts it as free), so the choice is
    approximate and the bound is part of the answer."""
    bound = [f for f in fits if f.ok and f.on_bound]
    if not bound:
        return ""
    parts = [f"{f.model} ({', '.join(f'{n} = {f.params[n]:.3g}' for n in f.on_bound)})" for f in bound]
    text = ("Fits ending on a bound of their range: " + "; ".join(parts) + ". Their AIC counts every "
            "parameter as free, so the comparison is approximate")
    if chosen is not None and chosen.on_bound:
        text += f"; the chosen {chosen.model} curve is one of them"
    return text + "."


def fit_learning_curve(
    weeks: np.ndarray, rates: np.ndarray, weights: np.ndarray, *, confidence: float = 0.95
) -> CurveFit:
    """Fit four learning curves by weighted least squares (weights = reviews per point): exponential
    rise and power law (3 parameters each), exponential rise from zero and power law through the origin
    (2 each), and choose the lowest AIC (each penalised by its own parameter count). Every parameter
    has a standard error and interval; fits on a bound are flagged and `caution` says so. Needs at
    least 4 points with reviews."""
    t = np.asarray(weeks, float)
    y = np.asarray(rates, float)
    w = np.asarray(weights, float)
    keep = np.isfinite(t) & np.isfinite(y) & (w > 0)
    t, y, w = t[keep], y[keep], w[keep]
    # Normalise weights to mean 1 so that the WRSS is on the scale of the rates.
    if t.size:
        w = w / float(np.mean(w))
    if t.size < 4:
        return CurveFit(_failed("exponential"), _failed("power"), None, int(t.size),
                        _failed("exp_from_zero"), _failed("power_origin"))
    fits = {m: fit_model(m, t, y, w, confidence=confidence)
            for m in ("exponential", "power", "exp_from_zero", "power_origin")}
    ok = [f for f in fits.values() if f.ok and math.isfinite(f.aic)]
    best = min(ok, key=lambda f: f.aic) if ok else None
    return CurveFit(fits["exponential"], fits["power"], best.model if best else None, int(t.size),
                    fits["exp_from_zero"], fits["power_origin"], _caution(list(fits.values()), best))


def predict(fit: ModelFit, weeks: np.ndarray) -> np.ndarray:
    """Values of a fitted model at `weeks` (nan if the fit failed)."""
    t = np.asarray(weeks, float)
    if not fit.ok:
        return np.full(t.shape, math.nan)
    return MODELS[fit.model](t, *(fit.params[n] for n in PARAMS[fit.model]))
