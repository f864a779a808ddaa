"""Comparisons against published worked examples, and against scipy/statsmodels on random data to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportions_chisquare

from metrics.inference import (
    chi_square_2x2,
    chi_square_independence,
    chi_square_proportions,
    hedges_j,
    minimum_detectable_effect,
    paired_comparison,
    signed_rank,
    standardised_difference,
    two_sample_t,
    two_sample_t_from_stats,
)

# Lakens (2013), "Calculating and reporting effect sizes to facilitate cumulative science", Front.
# Psychol. 4:863, Table 1: ten people rate two movies.
MOVIE_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]
MOVIE_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]
# Student (1908) / Cushny & Peebles: extra hours of sleep under two drugs (R's `sleep` data).
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
# Hollander & Wolfe (1973), p. 29f: Hamilton depression scale, first (x) and second (y) visit.
DEPRESSION_FIRST = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
DEPRESSION_SECOND = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]


def test_student_t_and_d_s_on_lakens_movie_ratings() -> None:
    """Lakens (2013), Table 1 data, independent-groups example in the text: t(18) = 2.52, p = 0.022,
    Cohen's d_s = 1.13, 95% CI [0.16, 2.06] (ESCI, noncentral t), Hedges' g_s = 1.08."""
    t = two_sample_t(MOVIE_2, MOVIE_1, equal_var=True)
    assert t.cite() == "t(18) = 2.52, p = 0.022"
    assert t.difference.estimate == pytest.approx(1.0)
    es = standardised_difference(MOVIE_2, MOVIE_1)
    assert round(es.d_s.estimate, 2) == 1.13
    assert (round(es.d_s.low, 2), round(es.d_s.high, 2)) == (0.16, 2.06)
    assert round(es.g_s.estimate, 2) == 1.08


def test_welch_t_on_the_sleep_data() -> None:
    """Student (1908) sleep data as R's t.test prints it (Welch by default): t = -1.8608, df = 17.776,
    p = 0.07939, 95% CI -3.3654832 to 0.2054832 for group 1 - group 2. Here second - first."""
    t = two_sample_t(SLEEP_1, SLEEP_2)
    assert t.method == "Welch two-sample t-test"
    assert t.statistic == pytest.approx(1.8608, abs=5e-5)
    assert t.df == pytest.approx(17.776, abs=5e-4)
    assert t.p_value == pytest.approx(0.07939, abs=5e-6)
    assert t.difference.low == pytest.approx(-0.2054832, abs=5e-8)
    assert t.difference.high == pytest.approx(3.3654832, abs=5e-8)
    assert t.cite() == "t(17.8) = 1.86, p = 0.079"


def test_paired_t_on_lakens_movie_ratings() -> None:
    """Lakens (2013), Table 1 data, dependent-means example: t(9) = 4.74, p = 0.001, d_z = 1.50."""
    r = paired_comparison(before=MOVIE_2, after=MOVIE_1)
    assert r.cite() == "t(9) = 4.74, p = 0.001"
    assert r.df == 9 and r.difference.estimate == pytest.approx(1.0)
    assert round(r.d_z, 2) == 1.50


def test_signed_rank_on_hollander_wolfe_depression_data() -> None:
    """Hollander & Wolfe (1973), p. 29f, as R's wilcox.test reproduces it: V = 40 for x - y, one-sided
    p = 0.01953 (two-sided 0.0390625 = 20/512); Hodges-Lehmann estimate 0.46, 95% CI 0.01 to 0.786.
    Our differences are after - before = y - x: W+ = 5, W- = 40, and the location changes sign."""
    r = signed_rank(before=DEPRESSION_FIRST, after=DEPRESSION_SECOND)
    assert (r.w_plus, r.w_minus, r.n_nonzero, r.exact) == (5.0, 40.0, 9, True)
    assert r.p_value == pytest.approx(20 / 512, abs=1e-12)
    assert r.location.estimate == pytest.approx(-0.46, abs=1e-12)
    assert r.location.low == pytest.approx(-0.786, abs=1e-12)
    assert r.location.high == pytest.approx(-0.01, abs=1e-12)
    assert r.cite() == "W+ = 5, W- = 40, n = 9, p = 0.039"


def test_chi_square_independence_on_agresti_party_identification() -> None:
    """Agresti (2007), An Introduction to Categorical Data Analysis, 2nd ed., Table 2.5 (p. 39): party
    identification by gender, X^2 = 30.1 on 2 df (R's chisq.test: 30.07, p = 2.954e-07)."""
    r = chi_square_independence([[762, 327, 468], [484, 239, 477]])
    assert r.df == 2 and round(r.statistic, 2) == 30.07
    assert r.p_value == pytest.approx(2.954e-07, rel=5e-4)
    assert not r.corrected and math.isnan(r.fisher_p) and r.caution == ""


def test_chi_square_of_k_proportions_on_fleiss_smokers() -> None:
    """Fleiss (1981), p. 139, as R's prop.test prints it: smokers among 4 groups of patients,
    X^2 = 12.6004 on 3 df, p = 0.005585."""
    r = chi_square_proportions([83, 90, 129, 70], [86, 93, 136, 82])
    assert r.df == 3 and round(r.statistic, 4) == 12.6004
    assert r.p_value == pytest.approx(0.005585, abs=5e-7)
    assert r.method == "Pearson chi-square test of 4 proportions"


def test_chi_square_2x2_applies_yates_where_expected_counts_are_small() -> None:
    """Fagerland, Lydersen & Laake (2017), Statistical Analysis of Contingency Tables, ch. 4, the lady
    tasting tea (Fisher 1935): Pearson T = 2.000, P = 0.15730; with continuity correction T = 0.500,
    P = 0.47950. Every expected count is 2, so the correction applies by default."""
    tea = [[3, 1], [1, 3]]
    r = chi_square_2x2(tea)
    assert r.corrected and r.statistic == pytest.approx(0.5) and round(r.p_value, 5) == 0.47950
    assert "Fisher" in r.caution and r.fisher_p == pytest.approx(sps.fisher_exact(tea).pvalue)
    plain = chi_square_2x2(tea, yates=False)
    assert plain.statistic == pytest.approx(2.0) and round(plain.p_value, 5) == 0.15730
    big = chi_square_2x2([[30, 10], [10, 30]])
    assert not big.corrected and big.min_expected == 20


def test_chi_square_leaves_out_empty_rows_and_says_so() -> None:
    r = chi_square_independence([[10, 0, 5], [0, 0, 0], [4, 0, 9]])
    assert r.dropped == "1 empty row(s) and 1 empty column(s)"
    assert r.statistic == pytest.approx(chi_square_independence([[10, 5], [4, 9]]).statistic)


@pytest.mark.parametrize("seed", range(5))
def test_t_tests_match_scipy_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(10, 2, rng.integers(3, 40))
    b = rng.normal(11, 3, rng.integers(3, 40))
    for equal_var in (False, True):
        ours = two_sample_t(a, b, equal_var=equal_var)
        ref = sps.ttest_ind(b, a, equal_var=equal_var)
        ci = ref.confidence_interval(0.95)
        assert ours.statistic == pytest.approx(ref.statistic, abs=1e-9)
        assert ours.df == pytest.approx(ref.df, abs=1e-9)
        assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-9)
        assert (ours.difference.low, ours.difference.high) == pytest.approx((ci.low, ci.high), abs=1e-9)
    n = min(a.size, b.size)
    paired = paired_comparison(a[:n], b[:n])
    ref_p = sps.ttest_rel(b[:n], a[:n])
    ci_p = ref_p.confidence_interval(0.95)
    assert paired.statistic == pytest.approx(ref_p.statistic, abs=1e-9)
    assert paired.p_value == pytest.approx(ref_p.pvalue, abs=1e-9)
    assert (paired.difference.low, paired.difference.high) == pytest.approx((ci_p.low, ci_p.high), abs=1e-9)
    assert paired.wilcoxon.p_value == pytest.approx(sps.wilcoxon(b[:n] - a[:n]).pvalue, abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_chi_square_matches_scipy_and_statsmodels_on_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(3, 60, size=(int(rng.integers(2, 5)), int(rng.integers(3, 6))))
    ref = sps.chi2_contingency(table, correction=False)
    ours = chi_square_independence(table)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-9)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-9) and ours.df == ref.dof
    n = rng.integers(20, 200, size=6)
    x = rng.binomial(n, 0.6)
    stat, p, _ = proportions_chisquare(x, n)
    props = chi_square_proportions(x, n)
    assert props.statistic == pytest.approx(stat, abs=1e-9) and props.p_value == pytest.approx(p, abs=1e-9)


def test_d_s_interval_has_its_nominal_coverage() -> None:
    """The noncentral-t interval covers the true d in about 95% of simulated experiments."""
    rng = np.random.default_rng(11)
    true_d, hits, runs = 0.5, 0, 400
    for _ in range(runs):
        es = standardised_difference(rng.normal(0, 1, 15), rng.normal(true_d, 1, 12))
        hits += es.d_s.low <= true_d <= es.d_s.high
    assert 0.92 <= hits / runs <= 0.98


def test_hedges_j_is_the_exact_gamma_ratio() -> None:
    """Hedges & Olkin (1985): J(10) = Gamma(5) / (sqrt(5) Gamma(4.5)) = 0.92275 (to 5 places)."""
    assert round(hedges_j(10), 5) == 0.92275
    assert math.isnan(hedges_j(0))


def test_degenerate_inputs_give_nan_with_a_reason() -> None:
    one = two_sample_t([1.0], [2.0, 3.0])
    assert math.isnan(one.statistic) and one.reason == "each group needs at least 2 values"
    assert "no spread" in two_sample_t([2, 2, 2], [2, 2]).reason
    assert "at least 2 values" in standardised_difference([], [1, 2]).reason
    flat = paired_comparison([1, 2, 3], [2, 3, 4])
    assert math.isnan(flat.statistic) and "same amount" in flat.reason
    assert paired_comparison([1, 2], [1, 2]).wilcoxon.reason == "no pair changed: every difference is 0"
    assert "2 non-empty rows" in chi_square_independence([[0, 0], [3, 4]]).reason
    assert math.isnan(two_sample_t_from_stats(1, 0, 5, 1, 0, 5).p_value)
    assert "comparison" in minimum_detectable_effect(12, 0, 5, 0.85).reason
    with pytest.raises(ValueError, match="same length"):
        paired_comparison([1, 2], [1, 2, 3])


def test_minimum_detectable_effect_matches_the_normal_formula_for_large_groups() -> None:
    """For large n the noncentral t solution approaches (z_0.975 + z_0.8) sigma sqrt(1/n + 1/m)."""
    r = minimum_detectable_effect(400, 800, 20, 0.8)
    sigma = math.sqrt(2 * 0.8 * 0.2 / 20)
    normal = (sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) * sigma * math.sqrt(1 / 400 + 1 / 800)
    assert r.sd_change == pytest.approx(sigma) and r.effect == pytest.approx(normal, rel=2e-3)
    small = minimum_detectable_effect(12, 40, 5, 0.85)
    assert small.effect > 0.09  # 12 attendees with 5 reviews each cannot see a 9-point effect
    assert minimum_detectable_effect(12, 40, 5, 0.85, between_sd=0.05).effect > small.effect


def test_minimum_detectable_effect_has_its_power_in_simulation() -> None:
    """Simulate the design with a true difference-in-differences equal to the MDE: binomial reviews
    before and after for every trainee, a t-test on per-trainee changes; it rejects at 5% in about
    80% of runs. (Baseline 0.5, where the binomial variance barely moves with the effect.)"""
    n, m, reviews, p = 15, 30, 40, 0.5
    mde = minimum_detectable_effect(n, m, reviews, p).effect
    rng = np.random.default_rng(3)
    runs = 4000
    before = rng.binomial(reviews, p, size=(runs, n + m)) / reviews
    after_rate = np.r_[np.full(n, p + mde / 2), np.full(m, p)]
    before[:, :n] = rng.binomial(reviews, p - mde / 2, size=(runs, n)) / reviews
    after = rng.binomial(reviews, after_rate, size=(runs, n + m)) / reviews
    change = after - before
    p_values = sps.ttest_ind(change[:, :n], change[:, n:], axis=1).pvalue
    assert np.mean(p_values < 0.05) == pytest.approx(0.8, abs=0.025)
