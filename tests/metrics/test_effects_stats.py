"""Effect statistics checked against published and hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from metrics.effects_stats import (
    ancova,
    batched_ancova_effect,
    cohens_dz,
    did_from_means,
    hake_class_gain,
    hake_gain,
    hedges_g_prepost,
    mean_interval,
    paired_test,
    welch_less,
)

# Student's (1908) sleep data (Cushny & Peebles): extra hours of sleep on two drugs, same 10 patients.
SLEEP_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])


def test_did_reproduces_card_krueger_1994() -> None:
    # Card & Krueger (1994), Table 3: FTE employment per store, New Jersey (treated) vs Pennsylvania.
    did = did_from_means(treated_pre=20.44, treated_post=21.03, control_pre=23.33, control_post=21.17)
    assert did == pytest.approx(2.76, abs=0.015)  # published 2.76, from unrounded means


def test_paired_test_matches_published_sleep_example_and_scipy() -> None:
    r = paired_test(SLEEP_1, SLEEP_2)
    # R: t.test(extra ~ group, sleep, paired = TRUE): t = -4.0621, df = 9, p = 0.002833, CI 0.7001 to 2.4599
    assert r.n == 10
    assert r.change.estimate == pytest.approx(1.58)
    assert r.t_p == pytest.approx(0.002833, abs=5e-6)
    assert (r.change.low, r.change.high) == pytest.approx((0.7001142, 2.4598858), abs=1e-6)
    assert r.t_p == pytest.approx(sps.ttest_rel(SLEEP_2, SLEEP_1).pvalue)
    assert r.wilcoxon_p == pytest.approx(sps.wilcoxon(SLEEP_2 - SLEEP_1).pvalue)
    assert r.wilcoxon_p < 0.05


def test_effect_sizes_on_hand_example() -> None:
    pre = np.array([1.0, 2.0, 3.0, 4.0])
    post = np.array([2.0, 4.0, 4.0, 6.0])
    # differences 1, 2, 1, 2: mean 1.5, SD sqrt(1/3)
    assert cohens_dz(pre, post) == pytest.approx(1.5 / math.sqrt(1 / 3))
    # SD_pre = sqrt(5/3), SD_post = sqrt(8/3): d_av = 1.5 / ((SD_pre + SD_post) / 2) (the average of the two
    # SDs, Lakens 2013 eq. 10, not their root mean square); J(3) = 1 - 3/11
    sd_av = (math.sqrt(5 / 3) + math.sqrt(8 / 3)) / 2
    assert hedges_g_prepost(pre, post) == pytest.approx(1.5 / sd_av * (1 - 3 / 11))
    r = paired_test(pre, post)
    assert r.d_z == pytest.approx(2.598076, abs=1e-6)
    assert r.hedges_g == pytest.approx(1.5 / sd_av * (1 - 3 / 11))


def test_paired_test_with_too_few_pairs_is_nan_not_an_error() -> None:
    assert paired_test(np.array([]), np.array([])).n == 0
    one = paired_test(np.array([0.5]), np.array([0.7]))
    assert one.change.estimate == pytest.approx(0.2) and math.isnan(one.t_p) and math.isnan(one.d_z)


def test_ancova_recovers_a_planted_shift_and_batched_agrees() -> None:
    rng = np.random.default_rng(7)
    pre = rng.uniform(0.6, 0.95, 400)
    treated = (rng.uniform(size=400) < 0.5).astype(float)
    post = 0.2 + 0.75 * pre + 0.04 * treated + rng.normal(0, 0.02, 400)
    fit = ancova(pre, post, treated)
    assert abs(fit.coef[2] - 0.04) < 3 * fit.se[2]  # calibrated SEs: z-scores over 200 seeds have SD ~1.05
    assert fit.p_value(2) < 1e-6
    batched = batched_ancova_effect(pre[None, :], post[None, :], treated[None, :])
    assert batched[0] == pytest.approx(fit.coef[2])


def test_welch_less_and_mean_interval() -> None:
    low = np.array([0.70, 0.72, 0.69, 0.71, 0.73])
    high = np.array([0.90, 0.88, 0.91, 0.89, 0.92])
    assert welch_less(low, high) < 0.001
    assert welch_less(high, low) > 0.99
    m = mean_interval(np.array([1.0, 2.0, 3.0]))
    assert m.estimate == 2 and m.low == pytest.approx(2 - 4.302653 / math.sqrt(3), abs=1e-5) and m.high > 2


def test_hake_gains_class_average_and_individual() -> None:
    pre = np.array([40.0, 60.0, 100.0])
    post = np.array([70.0, 80.0, 100.0])
    g = hake_gain(pre, post)
    assert g[0] == pytest.approx(0.5) and g[1] == pytest.approx(0.5) and math.isnan(g[2])
    # <pre> = 200/3, <post> = 250/3: <g> = (50/3) / (100/3) = 0.5
    assert hake_class_gain(pre, post) == pytest.approx(0.5)


