"""Textbook statistics, each checked against a published worked example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from metrics.stats import (
    BetaPrior,
    Interval,
    benjamini_hochberg,
    beta_binomial_prior,
    bootstrap_agreement,
    bootstrap_alpha_groups,
    bootstrap_interval,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_groups,
    krippendorff_alpha_counts,
    krippendorff_alpha_nominal,
    label_counts,
    modal_rating_items,
    p_chart_limits,
    percent_agreement,
    percent_agreement_groups,
    percentile_rows,
    shrink,
    two_proportion_test,
    wilson,
)

# Newcombe (1998) "Interval estimation for the difference between independent proportions", Stat Med 17:873,
# Table II, method 10 (hybrid score): (x1, n1, x2, n2) -> (low, high).
NEWCOMBE_1998 = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
]


@pytest.mark.parametrize(("counts", "interval"), NEWCOMBE_1998)
def test_two_proportion_interval_matches_newcombe_1998(
    counts: tuple[int, int, int, int], interval: tuple[float, float]
) -> None:
    t = two_proportion_test(*counts)
    assert t.low == pytest.approx(interval[0], abs=1e-4)
    assert t.high == pytest.approx(interval[1], abs=1e-4)


def test_two_proportion_z_test() -> None:
    # Pooled z-test for 56/70 vs 48/80: p = 104/150, z = 0.2 / sqrt(p (1 - p) (1/70 + 1/80)) = 2.650.
    t = two_proportion_test(56, 70, 48, 80)
    assert t.difference == pytest.approx(0.2)
    assert t.z == pytest.approx(2.650, abs=1e-3)
    assert t.p_value == pytest.approx(0.00805, abs=1e-5)


def test_two_proportion_edge_cases() -> None:
    assert math.isnan(two_proportion_test(0, 0, 3, 10).p_value)
    same = two_proportion_test(10, 10, 20, 20)
    assert same.z == 0 and same.p_value == 1


BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459,
           0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]  # fmt: skip


def test_benjamini_hochberg_1995_example_rejects_first_four() -> None:
    q = benjamini_hochberg(BH_1995)
    assert list(q <= 0.05) == [True] * 4 + [False] * 11
    assert q[3] == pytest.approx(0.0095 * 15 / 4)
    assert q[4] == pytest.approx(0.0201 * 15 / 5)
    assert np.all(np.diff(q) >= 0) and q.max() <= 1


def test_benjamini_hochberg_keeps_order_and_nans() -> None:
    shuffled = [BH_1995[i] for i in (5, 0, 14, 3)] + [math.nan]
    q = benjamini_hochberg(shuffled)
    assert math.isnan(q[-1])
    assert q[1] == pytest.approx(0.0001 * 4)  # m counts only the 4 real p-values
    assert benjamini_hochberg([]).shape == (0,)


# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
FLEISS_WIKI = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def test_fleiss_kappa_wikipedia_example() -> None:
    assert fleiss_kappa(FLEISS_WIKI) == pytest.approx(0.210, abs=5e-4)
    assert percent_agreement(FLEISS_WIKI) == pytest.approx(0.378, abs=5e-4)  # P-bar in the example


def test_fleiss_kappa_needs_equal_ratings_per_item() -> None:
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 1], [1, 1]])
    assert math.isnan(fleiss_kappa(np.zeros((0, 3))))


# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units,
# values 1-5, missing data. Nominal alpha = 0.743.
N = None
KRIPP_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def test_krippendorff_alpha_nominal_2011_example() -> None:
    assert krippendorff_alpha_nominal(KRIPP_2011) == pytest.approx(0.743, abs=5e-4)
    with_nan = [[math.nan if v is None else v for v in row] for row in KRIPP_2011]
    assert krippendorff_alpha_nominal(with_nan) == pytest.approx(0.743, abs=5e-4)
    counts, cats = label_counts(KRIPP_2011)
    assert cats == [1, 2, 3, 4, 5] and counts.shape == (12, 5)
    assert krippendorff_alpha_counts(counts) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_perfect_and_undefined() -> None:
    assert krippendorff_alpha_nominal([["a", "b", "a"], ["a", "b", "a"]]) == pytest.approx(1.0)
    assert math.isnan(krippendorff_alpha_nominal([["a", "a"], ["a", "a"]]))  # one value: nothing to explain
    assert math.isnan(krippendorff_alpha_nominal([["a", None], [None, "b"]]))  # nothing pairable


def test_cohen_kappa_wikipedia_example() -> None:
    # Wikipedia, "Cohen's kappa": 50 proposals; both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert percent_agreement(label_counts([a, b])[0]) == pytest.approx(0.7)
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def test_bootstrap_agreement_is_deterministic_and_brackets_the_estimate() -> None:
    counts, _ = label_counts(KRIPP_2011)
    first = bootstrap_agreement(counts, "alpha", n_boot=300, seed=7)
    again = bootstrap_agreement(counts, "alpha", n_boot=300, seed=7)
    assert first == again
    assert first.estimate == pytest.approx(0.743, abs=5e-4)
    assert first.low < first.estimate < first.high
    fleiss = bootstrap_agreement(np.asarray(FLEISS_WIKI, dtype=float), "fleiss", n_boot=200, seed=1)
    assert fleiss.estimate == pytest.approx(0.210, abs=5e-4)
    assert fleiss.low < 0.210 < fleiss.high


# Montgomery, Introduction to Statistical Quality Control, Example 7.1 (orange-juice cans): 30 samples
# of n = 50, p-bar = 0.2313, UCL = 0.4102, LCL = 0.0524.
MONTGOMERY_7_1 = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
                  8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]  # fmt: skip


def test_p_chart_montgomery_example() -> None:
    chart = p_chart_limits(MONTGOMERY_7_1, [50] * 30)
    assert chart["center"].iloc[0] == pytest.approx(0.2313, abs=1e-4)
    assert chart["ucl"].iloc[0] == pytest.approx(0.4102, abs=1e-4)
    assert chart["lcl"].iloc[0] == pytest.approx(0.0524, abs=1e-4)
    # Samples 15 (22/50) and 23 (24/50) are the two points above the UCL in the example.
    assert list(np.flatnonzero(chart["beyond"]) + 1) == [15, 23]


def test_p_chart_given_center_and_zero_n() -> None:
    chart = p_chart_limits([5, 0], [10, 0], center=0.9)
    assert bool(chart["beyond"].iloc[0]) and not bool(chart["beyond"].iloc[1])
    assert chart["ucl"].iloc[0] == 1.0  # clipped
    assert math.isnan(chart["lcl"].iloc[1])


def test_beta_binomial_mle_is_the_likelihood_maximum() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(50, 400, size=60)
    x = sps.betabinom.rvs(n, 40, 10, random_state=rng)
    prior = beta_binomial_prior(x, n)
    assert prior.method == "mle"
    assert prior.mean == pytest.approx(0.8, abs=0.02)
    assert 20 < prior.alpha + prior.beta < 100  # true precision 50

    def ll(a: float, b: float) -> float:
        return float(sps.betabinom.logpmf(x, n, a, b).sum())

    best = ll(prior.alpha, prior.beta)
    for da in (0.97, 1.03):
        for db in (0.97, 1.03):
            assert ll(prior.alpha * da, prior.beta * db) <= best + 1e-6


def test_beta_binomial_falls_back_on_degenerate_data() -> None:
    assert beta_binomial_prior([], []) == BetaPrior(1.0, 1.0, "uniform")
    assert beta_binomial_prior([3], [4]).method == "pooled"
    all_right = beta_binomial_prior([10, 20, 30], [10, 20, 30])
    assert all_right.method == "moments" and 0.98 < all_right.mean < 1 and all_right.alpha > 0
    # Identical rates: no spread beyond binomial noise; the prior weighs as much as the pooled data.
    alike = beta_binomial_prior([80, 80, 80], [100, 100, 100])
    assert alike.method == "moments" and alike.mean == pytest.approx(0.8)
    assert alike.alpha + alike.beta == pytest.approx(300)


def test_shrink_is_the_beta_posterior() -> None:
    # Prior Beta(8, 2): mean 0.8, the weight of 10 observations.
    s = shrink([1, 90], [1, 100], prior_mean=0.8, prior_strength=10)
    assert s.estimate[0] == pytest.approx(9 / 11)  # one review barely moves the prior mean 0.8
    assert s.estimate[1] == pytest.approx(98 / 110)
    assert s.low[0] == pytest.approx(sps.beta.ppf(0.025, 9, 2))
    assert s.high[1] == pytest.approx(sps.beta.ppf(0.975, 98, 12))
    # A single review's interval is wider than the Wilson interval of 100 reviews.
    w = wilson(90, 100)
    assert s.high[0] - s.low[0] > w.high - w.low


def test_shrink_takes_one_prior_per_group() -> None:
    # 0 of 3 barely moves a 20-review prior at 0.9; 0 of 300 overrides it.
    s = shrink([0, 0], [3, 300], prior_mean=[0.9, 0.9], prior_strength=20)
    assert s.estimate[0] == pytest.approx(18 / 23) and s.estimate[1] < 0.1
    assert s.low[0] < s.estimate[0] < s.high[0]


def test_bootstrap_interval_is_the_percentile_interval_and_rows_agree() -> None:
    rng = np.random.default_rng(5)
    replicates = rng.normal(size=(6, 400))
    replicates[2, :50] = np.nan  # failed resamples are left out
    replicates[4] = np.nan  # no resample at all: no bounds
    low, high = percentile_rows(replicates, 0.9)
    for i, row in enumerate(replicates):
        plain = bootstrap_interval(1.0, row, 0.9)
        assert plain.estimate == 1.0 and plain.level == 0.9
        if i == 4:
            assert math.isnan(plain.low) and math.isnan(low[i])
            continue
        finite = row[np.isfinite(row)]
        assert plain.low == pytest.approx(np.quantile(finite, 0.05)) and plain.high == pytest.approx(np.quantile(finite, 0.95))
        assert (low[i], high[i]) == pytest.approx((plain.low, plain.high))


def test_grouped_fleiss_and_percent_agreement_match_each_group_alone() -> None:
    rng = np.random.default_rng(11)
    blocks, groups = [], []
    for g, (items, raters) in enumerate([(6, 4), (9, 3), (5, 5), (7, 2)]):
        block = np.zeros((items, 3))
        for i in range(items):
            for _ in range(raters):
                block[i, rng.integers(0, 3)] += 1
        blocks.append(block)
        groups += [g] * items
    counts, group = np.vstack(blocks), np.array(groups)
    kappas = fleiss_kappa_groups(counts, group, 4)
    shares = percent_agreement_groups(counts, group, 4)
    for g, block in enumerate(blocks):
        assert kappas[g] == pytest.approx(fleiss_kappa(block[modal_rating_items(block)]))
        assert shares[g] == pytest.approx(percent_agreement(block))


def test_interval_knows_when_it_excludes_zero() -> None:
    assert Interval(0.03, 0.01, 0.05).excludes_zero and Interval(-0.03, -0.05, -0.01).excludes_zero
    assert not Interval(0.01, -0.01, 0.03).excludes_zero
    assert not Interval.missing().measured and not Interval(0.1, math.nan, 0.2).bounded


def test_grouped_alpha_bootstrap_matches_each_group_alone() -> None:
    rng = np.random.default_rng(3)
    blocks = []
    for g in range(40):
        block = np.zeros((int(rng.integers(1, 12)), 5))
        for row in block:
            np.add.at(row, rng.integers(0, 2 if g % 2 else 5, size=int(rng.integers(1, 5))), 1)
        blocks.append(block)
    grouped = bootstrap_alpha_groups(np.vstack(blocks), [len(b) for b in blocks], n_boot=200, seed=5)
    for g, block in enumerate(blocks):
        alone = bootstrap_agreement(block, "alpha", n_boot=200, seed=5)
        got = (grouped.estimate[g], grouped.low[g], grouped.high[g])
        assert np.allclose(got, (alone.estimate, alone.low, alone.high), equal_nan=True, rtol=0, atol=1e-12)


def test_beta_binomial_strength_with_the_mle_mean_is_the_mle_strength() -> None:
    """With every group's mean at the joint maximum-likelihood mean, the profile maximum over the weight is
    the joint maximum's weight (beta_binomial_prior), on overdispersed rates."""
    from metrics.stats import beta_binomial_strength

    rng = np.random.default_rng(4)
    n = rng.integers(20, 200, 40)
    x = rng.binomial(n, rng.beta(8, 2, 40))
    prior = beta_binomial_prior(x, n)
    assert prior.method == "mle"
    assert beta_binomial_strength(x, n, np.full(40, prior.mean)) == pytest.approx(prior.strength, rel=1e-3)


def test_beta_binomial_strength_caps_when_groups_stray_no_more_than_noise() -> None:
    from metrics.stats import beta_binomial_strength

    n = np.full(30, 100)
    x = np.full(30, 20)  # exactly at their means: no spread at all
    assert beta_binomial_strength(x, n, np.full(30, 0.2)) == pytest.approx(10 * n.sum(), rel=1e-3)
    assert math.isnan(beta_binomial_strength([], [], []))
    assert math.isnan(beta_binomial_strength([3], [10], [0.0]))  # a mean of 0 leaves nothing to fit
