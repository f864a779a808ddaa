"""Kaplan-Meier, log-rank and learning-curve fits against published data and known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from metrics.curves import (
    exp_from_zero,
    exp_rise,
    fit_learning_curve,
    fit_model,
    gaussian_aic,
    kaplan_meier,
    km_median,
    log_rank,
    power_law,
    predict,
)

# Freireich et al. (1963) 6-MP leukaemia trial, weeks in remission (Gehan 1965; Kalbfleisch & Prentice).
SIX_MP_TIMES = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO_TIMES = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def test_kaplan_meier_on_the_6mp_trial() -> None:
    km = kaplan_meier(np.array(SIX_MP_TIMES), np.array(SIX_MP_EVENTS))
    at_events = km[km["events"] > 0].set_index("time")
    assert at_events["survival"].round(4).to_dict() == {
        6.0: 0.8571, 7.0: 0.8067, 10.0: 0.7529, 13.0: 0.6902, 16.0: 0.6275, 22.0: 0.5378, 23.0: 0.4482,
    }
    assert at_events.loc[6.0, "at_risk"] == 21 and at_events.loc[23.0, "at_risk"] == 6
    # R: survfit(..., conf.type = "log-log") at 6 weeks: 0.620 to 0.952
    assert at_events.loc[6.0, "low"] == pytest.approx(0.6197, abs=1e-3)
    assert at_events.loc[6.0, "high"] == pytest.approx(0.9516, abs=1e-3)
    med = km_median(km)
    assert med.median == 23  # published KM median
    assert med.low == 13 and math.isnan(med.high)  # R: 0.95LCL 13, UCL NA


def test_log_rank_6mp_vs_placebo() -> None:
    r = log_rank(np.array(SIX_MP_TIMES), np.array(SIX_MP_EVENTS), np.array(PLACEBO_TIMES), np.ones(21))
    assert r.chi2 == pytest.approx(16.79, abs=0.01)  # R survdiff: Chisq = 16.8 on 1 df
    assert r.observed_a == 9 and r.expected_a == pytest.approx(19.25, abs=0.01)
    assert r.observed_b == 21 and r.expected_b == pytest.approx(10.75, abs=0.01)
    assert r.p_value < 1e-4


def test_kaplan_meier_of_nothing_is_empty() -> None:
    assert kaplan_meier(np.array([]), np.array([])).empty
    assert math.isnan(km_median(kaplan_meier(np.array([]), np.array([]))).median)


def test_fit_recovers_an_exponential_curve() -> None:
    rng = np.random.default_rng(0)
    weeks = np.arange(20)
    reviewed = rng.integers(200, 600, weeks.size)
    truth = exp_rise(weeks, 0.94, 0.70, 3.0)
    rates = rng.binomial(reviewed, truth) / reviewed
    fit = fit_learning_curve(weeks, rates, reviewed)
    assert fit.chosen == "exponential"
    assert fit.exponential.params["a"] == pytest.approx(0.94, abs=0.01)
    assert fit.exponential.params["b"] == pytest.approx(0.70, abs=0.03)
    assert fit.exponential.params["tau"] == pytest.approx(3.0, rel=0.25)
    assert fit.exponential.aic < fit.power.aic
    assert predict(fit.exponential, np.array([100.0]))[0] == pytest.approx(0.94, abs=0.01)


def test_fit_recovers_a_power_law() -> None:
    rng = np.random.default_rng(2)
    weeks = np.arange(26)
    reviewed = np.full(weeks.size, 2000)
    truth = power_law(weeks, 0.95, 0.30, 0.8)
    rates = rng.binomial(reviewed, truth) / reviewed
    fit = fit_learning_curve(weeks, rates, reviewed)
    assert fit.chosen == "power"
    assert fit.power.params["a"] == pytest.approx(0.95, abs=0.02)
    assert fit.power.params["k"] == pytest.approx(0.8, rel=0.25)


def test_fit_needs_four_points() -> None:
    fit = fit_learning_curve(np.array([0, 1, 2]), np.array([0.7, 0.8, 0.85]), np.array([10, 10, 10]))
    assert fit.chosen is None and not fit.exponential.ok


# NIST StRD nonlinear regression, certified values (Statistical Engineering Division, NIST).
MISRA1A_X = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0]
MISRA1A_Y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78]
DANWOOD_X = [1.309, 1.471, 1.490, 1.565, 1.611, 1.680]
DANWOOD_Y = [2.138, 3.421, 3.597, 4.340, 4.882, 5.660]


def test_exponential_rise_from_zero_on_nist_misra1a() -> None:
    """NIST StRD Misra1a, y = b1 (1 - exp(-b2 x)): b1 = 2.3894212918E+02 (SD 2.7070075241E+00),
    b2 = 5.5015643181E-04 (SD 7.2668688436E-06), residual SS 1.2455138894E-01. Our form is
    a (1 - exp(-t / tau)): a = b1, tau = 1 / b2, so SD(b2) = SD(tau) / tau^2."""
    x, y = np.array(MISRA1A_X), np.array(MISRA1A_Y)
    fit = fit_model("exp_from_zero", x, y, np.ones_like(x), p0=[250, 2000], bounds=([0, 1], [1e4, 1e6]))
    b2 = 1 / fit.params["tau"]
    assert fit.params["a"] == pytest.approx(2.3894212918e02, rel=1e-8)
    assert b2 == pytest.approx(5.5015643181e-04, rel=1e-8)
    assert fit.se["a"] == pytest.approx(2.7070075241e00, rel=1e-6)
    assert fit.se["tau"] * b2**2 == pytest.approx(7.2668688436e-06, rel=1e-6)
    assert fit.wrss == pytest.approx(1.2455138894e-01, rel=1e-8) and fit.on_bound == ()


def test_power_law_through_the_origin_on_nist_danwood() -> None:
    """NIST StRD DanWood, y = b1 x^b2: b1 = 7.6886226176E-01 (SD 1.8281973860E-02), b2 =
    3.8604055871E+00 (SD 5.1726610913E-02), residual SS 4.3173084083E-03."""
    x, y = np.array(DANWOOD_X), np.array(DANWOOD_Y)
    fit = fit_model("power_origin", x, y, np.ones_like(x), p0=[0.7, 4], bounds=([0, 0], [10, 10]))
    assert fit.params["a"] == pytest.approx(7.6886226176e-01, rel=1e-7)
    assert fit.params["k"] == pytest.approx(3.8604055871e00, rel=1e-7)
    assert fit.se["a"] == pytest.approx(1.8281973860e-02, rel=1e-6)
    assert fit.se["k"] == pytest.approx(5.1726610913e-02, rel=1e-6)
    assert fit.wrss == pytest.approx(4.3173084083e-03, rel=1e-7)


def test_parameter_intervals_come_from_the_covariance() -> None:
    """The standard errors are curve_fit's own covariance (unconstrained fit), and a time constant's
    interval is on the log scale: asymmetric, inside (0, inf), tau exp(+-t se / tau)."""
    rng = np.random.default_rng(0)
    weeks = np.arange(20)
    reviewed = rng.integers(200, 600, weeks.size)
    rates = rng.binomial(reviewed, exp_rise(weeks, 0.94, 0.70, 3.0)) / reviewed
    fit = fit_learning_curve(weeks, rates, reviewed)
    w = reviewed / reviewed.mean()
    _, pcov = optimize.curve_fit(exp_rise, weeks, rates, p0=[0.95, 0.7, 3], sigma=1 / np.sqrt(w))
    assert [fit.exponential.se[n] for n in ("a", "b", "tau")] == pytest.approx(np.sqrt(np.diag(pcov)), rel=1e-4)
    tau = fit.exponential.intervals["tau"]
    q = stats.t.ppf(0.975, weeks.size - 3)
    assert tau.high / tau.estimate == pytest.approx(math.exp(q * fit.exponential.se["tau"] / tau.estimate))
    assert tau.estimate / tau.low == pytest.approx(tau.high / tau.estimate)
    assert tau.low < 3.0 < tau.high
    a = fit.exponential.intervals["a"]
    assert a.high - a.estimate == pytest.approx(a.estimate - a.low)


def test_fits_on_a_bound_are_flagged_and_the_comparison_says_so() -> None:
    """An exponential curve makes the power law run its plateau into the bound 1.0: the fit says which
    parameter, gives it no interval, and the comparison carries the caution."""
    rng = np.random.default_rng(0)
    weeks = np.arange(20)
    reviewed = rng.integers(200, 600, weeks.size)
    rates = rng.binomial(reviewed, exp_rise(weeks, 0.94, 0.70, 3.0)) / reviewed
    fit = fit_learning_curve(weeks, rates, reviewed)
    assert fit.power.on_bound == ("a",) and fit.power.params["a"] == pytest.approx(1.0)
    assert math.isnan(fit.power.se["a"]) and math.isnan(fit.power.intervals["a"].low)
    assert math.isfinite(fit.power.se["k"])
    assert "power (a = 1)" in fit.caution and "approximate" in fit.caution
    assert fit.exponential.on_bound == ()


def test_the_comparison_includes_the_two_parameter_forms() -> None:
    """A curve that rises from zero is chosen as such, each form penalised by its own parameter count."""
    rng = np.random.default_rng(4)
    weeks = np.arange(1, 25)
    reviewed = np.full(weeks.size, 400)
    rates = rng.binomial(reviewed, exp_from_zero(weeks, 0.9, 4.0)) / reviewed
    fit = fit_learning_curve(weeks, rates, reviewed)
    assert {f.model: f.n_params for f in fit.fits} == {
        "exponential": 3, "power": 3, "exp_from_zero": 2, "power_origin": 2}
    assert fit.chosen == "exp_from_zero"
    assert fit.exp_from_zero is not None and fit.exp_from_zero.intervals["tau"].low < 4.0
    assert fit.exp_from_zero.aic == pytest.approx(gaussian_aic(fit.exp_from_zero.wrss, weeks.size, 2))
    assert predict(fit.exp_from_zero, np.array([0.0]))[0] == 0.0
