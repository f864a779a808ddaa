"""Kaplan-Meier, log-rank and learning-curve fits against published data and known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.curves import exp_rise, fit_learning_curve, kaplan_meier, km_median, log_rank, power_law, predict

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
