"""Agreement at levels of measurement against published worked examples, and against statsmodels and
the `krippendorff` package on random data to 1e-9."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from metrics.agreement import (
    _codes,
    _coincidence_blocks,
    alpha_from_coincidences,
    cohen_kappa,
    kappa_from_table,
    kappas,
    krippendorff_alpha,
    measurement_level,
    pairwise_kappa,
)
from metrics.stats import bootstrap_weights

N = None
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units,
# values 1-5 with missing data.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
# Cohen (1968), the worked example: proportions of 200 items in three categories for two judges.
COHEN_1968 = np.array([[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]]) * 200
COHEN_1968_WEIGHTS = np.array([[0, 1, 3], [1, 0, 6], [3, 6, 0]], dtype=float)


def test_krippendorff_2011_example_at_three_levels() -> None:
    """Krippendorff (2011), section C: nominal alpha = 0.743, ordinal 0.815, interval 0.849."""
    got = {level: krippendorff_alpha(KRIPPENDORFF_C, level=level, n_boot=0).alpha.estimate
           for level in ("nominal", "ordinal", "interval")}
    assert {k: round(v, 3) for k, v in got.items()} == {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849}
    auto = krippendorff_alpha(KRIPPENDORFF_C, n_boot=200)
    assert auto.level == "ordinal" and auto.n_units == 11 and auto.n_values == 40
    assert auto.alpha.low <= auto.alpha.estimate <= auto.alpha.high


def test_cohen_1968_kappa_and_weighted_kappa() -> None:
    """Cohen (1968), the worked example (n = 200): kappa = .492; weighted kappa with disagreement
    weights 1, 3, 6 off the diagonal = .348."""
    assert round(kappa_from_table(COHEN_1968).kappa.estimate, 3) == 0.492
    weighted = kappa_from_table(COHEN_1968, weights=COHEN_1968_WEIGHTS)
    assert round(weighted.kappa.estimate, 3) == 0.348 and weighted.weights == "custom"


def test_kappa_standard_errors_match_the_sas_printout() -> None:
    """SAS PROC FREQ (AGREE) on the table [[0, 4, 1], [0, 8, 0], [0, 1, 5]], as printed in statsmodels'
    test suite: kappa 0.4842, ASE 0.1380, 95% limits 0.2137 to 0.7547, ASE under H0 0.1484,
    Z 3.2626, two-sided p 0.0011."""
    r = kappa_from_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(r.kappa.estimate, 4) == 0.4842 and round(r.se, 4) == 0.1380
    assert (round(r.kappa.low, 4), round(r.kappa.high, 4)) == (0.2137, 0.7547)
    assert round(r.se_null, 4) == 0.1484 and round(r.z, 4) == 3.2626 and round(r.p_value, 4) == 0.0011


def _fleiss_cohen_everitt(table: np.ndarray, agree: np.ndarray) -> tuple[float, float]:
    """Kappa and its large-sample SE written out from Fleiss, Cohen & Everitt (1969) (Fleiss, Levin &
    Paik 2003, eq. 18.15), independently of statsmodels."""
    n = table.sum()
    p = table / n
    r, c = p.sum(axis=1), p.sum(axis=0)
    p_o, p_e = (agree * p).sum(), (agree * np.outer(r, c)).sum()
    kappa = (p_o - p_e) / (1 - p_e)
    w_row, w_col = agree @ c, agree.T @ r
    inner = (p * (agree - (w_row[:, None] + w_col[None, :]) * (1 - kappa)) ** 2).sum()
    return kappa, math.sqrt((inner - (kappa - p_e * (1 - kappa)) ** 2) / (n * (1 - p_e) ** 2))


@pytest.mark.parametrize("seed", range(4))
def test_kappa_and_its_se_match_the_formula_and_statsmodels_on_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    table = rng.integers(0, 30, size=(k, k)) + np.diag(rng.integers(10, 40, size=k))
    i, j = np.indices((k, k))
    agreements = {"none": (i == j).astype(float), "linear": 1 - np.abs(i - j) / (k - 1),
                  "quadratic": 1 - ((i - j) / (k - 1)) ** 2}
    for weights, agree in agreements.items():
        ours = kappa_from_table(table, weights=weights)  # type: ignore[arg-type]
        kappa, se = _fleiss_cohen_everitt(table.astype(float), agree)
        assert ours.kappa.estimate == pytest.approx(kappa, abs=1e-9)
        assert ours.se == pytest.approx(se, abs=1e-9)
    ref = cohens_kappa(table, wt="quadratic")
    assert kappa_from_table(table, weights="quadratic").se == pytest.approx(ref.std_kappa, abs=1e-9)


def test_kappa_se_is_the_spread_of_kappa_in_simulated_studies() -> None:
    """Tables drawn from Cohen's (1968) cell proportions with n = 200: the SD of kappa across them is
    what the large-sample SE says, and the interval covers the true kappa about 95% of the time."""
    rng = np.random.default_rng(5)
    cells = COHEN_1968.ravel() / 200
    true = kappa_from_table(COHEN_1968).kappa.estimate
    draws = [kappa_from_table(t.reshape(3, 3)) for t in rng.multinomial(200, cells, size=1500)]
    spread = np.std([d.kappa.estimate for d in draws])
    assert np.mean([d.se for d in draws]) == pytest.approx(spread, rel=0.08)
    assert np.mean([d.kappa.low <= true <= d.kappa.high for d in draws]) == pytest.approx(0.95, abs=0.02)


def test_cohen_kappa_from_labels_drops_missing_and_orders_numbers() -> None:
    first = [1, 2, 3, 4, 4, N, 2, 10]
    second = [1, 2, 4, 4, 3, 2, math.nan, 10]
    r = cohen_kappa(first, second, weights="linear")
    assert r.n == 6 and r.level == "ordinal" and r.categories == (1.0, 2.0, 3.0, 4.0, 10.0)
    table = np.zeros((5, 5))
    for a, b in [(0, 0), (1, 1), (2, 3), (3, 3), (3, 2), (4, 4)]:
        table[a, b] += 1
    assert r.kappa.estimate == pytest.approx(cohens_kappa(table, wt="linear").kappa, abs=1e-12)


def test_weights_need_ordered_labels() -> None:
    names = ["spam", "scam", "spam", "ok"]
    assert "order" in cohen_kappa(names, names[::-1], weights="quadratic").reason
    ordered = cohen_kappa(["none", "mild", "severe"], ["mild", "mild", "severe"], weights="linear",
                          order=["none", "mild", "moderate", "severe"])
    assert ordered.level == "ordinal" and ordered.categories == ("none", "mild", "moderate", "severe")


def test_measurement_level_from_the_labels() -> None:
    assert measurement_level(["spam", "ok", N]).level == "nominal"
    assert measurement_level([0, 1, 2, 3, 4, math.nan]).level == "ordinal"
    assert measurement_level(["1", "2", "5"]).categories == (1.0, 2.0, 5.0)
    assert measurement_level([72.5, 88, 91]).level == "interval"
    assert measurement_level(range(20)).level == "interval"  # more than 10 points: scores
    severity = measurement_level(["mild", "severe"], order=["none", "mild", "moderate", "severe"])
    assert severity.level == "ordinal" and severity.categories[0] == "none"
    with pytest.raises(ValueError, match="critical are not in the order"):
        measurement_level(["mild", "critical"], order=["none", "mild"])


def test_ordinal_alpha_credits_near_misses_on_a_severity_scale() -> None:
    """On an ordered scale raters who differ by one step agree more than nominal alpha says (issue 15:
    nominal 0.44 where ordinal was 0.62 on a public 5-level severity scale)."""
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 5, 60)
    raters = np.clip(truth + rng.choice([-1, 0, 0, 1], size=(3, 60)), 0, 4).astype(object)
    raters[0, :5] = None
    order = ["none", "mild", "moderate", "severe", "critical"]
    labels = np.vectorize(lambda v: N if v is None else order[v], otypes=[object])(raters)
    nominal = krippendorff_alpha(labels, level="nominal", n_boot=0).alpha.estimate
    ordinal = krippendorff_alpha(labels, order=order, n_boot=0)
    assert ordinal.level == "ordinal" and ordinal.alpha.estimate > nominal + 0.1
    assert "needs numeric labels" in krippendorff_alpha(labels, level="interval").reason


@pytest.mark.parametrize("seed", range(4))
def test_alpha_matches_the_krippendorff_package_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 6, size=(4, 30)).astype(float)
    data[rng.random(data.shape) < 0.25] = np.nan
    for level in ("nominal", "ordinal", "interval"):
        ours = krippendorff_alpha(data, level=level, n_boot=0).alpha.estimate  # type: ignore[arg-type]
        assert ours == pytest.approx(krippendorff.alpha(data, level_of_measurement=level), abs=1e-9)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_vectorised_bootstrap_alpha_is_the_package_on_each_resample(level: str) -> None:
    """The bootstrap's one-product alpha equals the package run on the resampled units themselves."""
    rng = np.random.default_rng(9)
    data = rng.integers(1, 5, size=(3, 25)).astype(object)
    data[rng.random(data.shape) < 0.2] = None
    choice = measurement_level(data.ravel())
    codes = _codes(data.ravel(), choice).reshape(data.shape)
    blocks, _, _ = _coincidence_blocks(codes, len(choice.categories))
    weights = bootstrap_weights(25, 6, seed=1)
    values = np.asarray(choice.categories, dtype=float)
    ours = alpha_from_coincidences((weights @ blocks).reshape(6, 4, 4), level, values)  # type: ignore[arg-type]
    numeric = np.where(data == None, np.nan, data).astype(float)  # noqa: E711 - elementwise on objects
    for b in range(6):
        units = np.repeat(np.arange(25), weights[b].astype(int))
        ref = krippendorff.alpha(numeric[:, units], level_of_measurement=level, value_domain=values)
        assert ours[b] == pytest.approx(ref, abs=1e-9)


def test_alpha_bootstrap_is_seeded_and_degenerate_data_give_reasons() -> None:
    a = krippendorff_alpha(KRIPPENDORFF_C, n_boot=300, seed=4)
    assert a == krippendorff_alpha(KRIPPENDORFF_C, n_boot=300, seed=4) and a.n_boot == 300
    assert "no unit" in krippendorff_alpha([[1, N], [N, 2]]).reason
    assert "same value" in krippendorff_alpha([[3, 3], [3, 3]]).reason
    assert math.isnan(krippendorff_alpha([[3, 3], [3, 3]]).alpha.estimate)
    assert "no item" in kappa_from_table(np.zeros((2, 2))).reason
    assert "chance agreement is total" in cohen_kappa(["a", "a"], ["a", "a"]).reason


def test_pairwise_kappa_has_a_row_per_pair_on_one_scale() -> None:
    ratings = pd.DataFrame({"ana": [1, 2, 3, 3, N], "bo": [1, 2, 2, 3, 1], "cy": [1, 3, 3, 3, 1]})
    out = pairwise_kappa(ratings, weights="quadratic")
    assert list(zip(out["first"], out["second"], strict=True)) == [("ana", "bo"), ("ana", "cy"), ("bo", "cy")]
    assert out["n"].tolist() == [4, 4, 5]
    direct = cohen_kappa([1, 2, 3, 3], [1, 3, 3, 3], weights="quadratic", order=[1, 2, 3])
    assert out.loc[1, "kappa"] == pytest.approx(direct.kappa.estimate)


def _statsmodels(table: np.ndarray, weights: str) -> tuple[float, float, float]:
    """statsmodels' kappa, SE and SE under kappa = 0 with our disagreement weights."""
    k = table.shape[0]
    i, j = np.indices((k, k))
    disagreement = {"linear": np.abs(i - j) / max(k - 1, 1), "quadratic": ((i - j) / max(k - 1, 1)) ** 2}
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = cohens_kappa(table) if weights == "none" else cohens_kappa(table, weights=disagreement[weights])
    return float(ref.kappa), float(ref.std_kappa), float(ref.std_kappa0)


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_kappas_over_a_stack_are_statsmodels_table_by_table(k: int, weights: str) -> None:
    """Random tables, sparse ones (zeros in whole rows) and lopsided ones: each row of `kappas` is what
    statsmodels gives for that table alone, to 1e-9, and kappa_from_table is the same row."""
    rng = np.random.default_rng(k)
    tables = rng.integers(0, 20, size=(60, k, k)) * (rng.random((60, k, k)) < 0.7)
    tables[:, np.arange(k), np.arange(k)] += rng.integers(0, 30, size=(60, k))
    got = kappas(tables, weights=weights)  # type: ignore[arg-type]
    for table, (_, row) in zip(tables, got.iterrows(), strict=True):
        if math.isnan(row["kappa"]):
            continue
        kappa, se, se0 = _statsmodels(table, weights)
        assert row["kappa"] == pytest.approx(kappa, abs=1e-9)
        assert row["se"] == pytest.approx(se, abs=1e-9, nan_ok=True)
        assert row["se_null"] == pytest.approx(se0, abs=1e-9, nan_ok=True)
        one = kappa_from_table(table, weights=weights)  # type: ignore[arg-type]
        assert (one.kappa.estimate, one.se, one.se_null) == pytest.approx((kappa, se, se0), abs=1e-9, nan_ok=True)
    assert got["kappa"].notna().sum() > 50


def test_kappas_of_degenerate_tables() -> None:
    """Perfect agreement on two categories: kappa 1 (statsmodels' too) and a variance that is 0 or rounds
    below it, so no interval; one category used by both, or no items: nan, as kappa_from_table says why."""
    perfect, single, empty = [[7, 0], [0, 5]], [[12, 0], [0, 0]], [[0, 0], [0, 0]]
    got = kappas(np.array([perfect, single, empty]))
    assert got.loc[0, "kappa"] == pytest.approx(_statsmodels(np.array(perfect, dtype=float), "none")[0])
    assert got.loc[0, "kappa"] == pytest.approx(1.0) and not got.loc[0, "se"] > 0
    assert got.loc[1:, ["kappa", "low", "high", "se", "z", "p_value"]].isna().all().all()
    assert got.loc[1, "expected_agreement"] == pytest.approx(1.0) and math.isnan(got.loc[2, "expected_agreement"])
    assert kappa_from_table(single).reason.startswith("both used one and the same label")
    assert kappa_from_table(empty).reason == "no item was labelled by both"
    assert kappa_from_table([[3, 0], [2, 0]]).kappa.estimate == pytest.approx(0.0)  # the second rater never says no
