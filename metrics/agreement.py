"""Agreement between raters at the labels' level of measurement: which level applies, Cohen's kappa
(unweighted, linear or quadratic weights) with its standard error and interval, and Krippendorff's alpha
at the nominal, ordinal or interval level with missing ratings and a bootstrap interval.

Kappa and its variances are statsmodels' formulas vectorised over a stack of tables (one kappa per
auditor at once), tested against statsmodels; the `krippendorff` package computes alpha, and the bootstrap
over units is vectorised here (one matrix product for every resample), tested against the package.
Missing ratings are None or nan. No SQL, no Streamlit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics.stats import Interval, bootstrap_interval, bootstrap_weights

Level = Literal["nominal", "ordinal", "interval"]
Weights = Literal["none", "linear", "quadratic"]
NAN = math.nan
# Whole numbers with at most this many distinct values read as scale points (severity 0-4, a 1-5
# scorecard): ordinal. More values, or fractions, read as scores: interval.
MAX_SCALE_POINTS = 10


def is_missing(value: object) -> bool:
    """None, nan, pandas' NA and NaT are missing ratings."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # lists and other non-scalars are values, not missing
        return False


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


# --------------------------------------------------------------------------------- level of measurement


@dataclass(frozen=True)
class LevelChoice:
    """The level of measurement of a set of labels, their categories in order, and why."""

    level: Level
    categories: tuple[object, ...]  # ordinal/interval: ascending; nominal: sorted by their text
    values: tuple[float, ...]  # numeric value of each category (interval); its position otherwise
    reason: str


def measurement_level(labels: Iterable[object], order: Sequence[object] | None = None) -> LevelChoice:
    """Which level of measurement do these labels have?

    An `order` the user gives (none < mild < moderate < severe) makes them ordinal in that order; every
    label must appear in it. Otherwise numbers are ordinal when they are whole numbers with at most 10
    distinct values (scale points: equal distances are not assumed) and interval when they are not
    (scores); anything else is nominal. Missing labels (None, nan) are ignored."""
    present = [v for v in labels if not is_missing(v)]
    if order is not None:
        categories = tuple(dict.fromkeys(order))
        unknown = sorted({str(v) for v in present if _key(v) not in {_key(c) for c in categories}})
        if unknown:
            raise ValueError(f"labels {', '.join(unknown[:5])} are not in the order given "
                             f"({', '.join(map(str, categories))}): add them to the order")
        return LevelChoice("ordinal", categories, tuple(float(i) for i in range(len(categories))),
                           "ordinal: the labels follow the order given")
    numbers = [_as_number(v) for v in present]
    if present and all(n is not None for n in numbers):
        distinct = sorted({n for n in numbers if n is not None})
        if len(distinct) <= MAX_SCALE_POINTS and all(x.is_integer() for x in distinct):
            return LevelChoice("ordinal", tuple(distinct), tuple(float(i) for i in range(len(distinct))),
                               f"ordinal: whole numbers on a scale of {len(distinct)} points")
        return LevelChoice("interval", tuple(distinct), tuple(distinct),
                           "interval: numeric scores, so differences between them are meaningful")
    categories = tuple(sorted({_key(v): v for v in present}.values(), key=str))
    return LevelChoice("nominal", categories, tuple(float(i) for i in range(len(categories))),
                       "nominal: the labels are names (give their order to treat them as ordinal)")


def _key(value: object) -> object:
    """One key for a label whatever its type: 3, 3.0 and "3" are the same label; names are text."""
    number = _as_number(value)
    return number if number is not None else str(value)


def _codes(labels: Iterable[object], choice: LevelChoice) -> np.ndarray:
    """Each label's category index under `choice` (-1 where missing)."""
    index = {_key(c): i for i, c in enumerate(choice.categories)}
    return np.array([-1 if is_missing(v) else index[_key(v)] for v in labels], dtype=np.int64)


# ------------------------------------------------------------------------------------------- kappa


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa between two raters (or a rater and the expert), with its interval and test.

    The interval is kappa +/- z se with the large-sample standard error of Fleiss, Cohen & Everitt (1969)
    (Fleiss, Levin & Paik 2003, eq. 18.12 and 18.15 weighted); the test of kappa = 0 uses the standard
    error under that hypothesis (`se_null`). Weighted agreement counts near misses partly: linear
    weights 1 - |i - j| / (k - 1) (Cicchetti & Allison 1971), quadratic 1 - (i - j)^2 / (k - 1)^2
    (Fleiss & Cohen 1973), over the categories' positions in their order."""

    kappa: Interval
    se: float
    se_null: float
    z: float
    p_value: float  # two-sided, H0: kappa = 0
    n: int  # items both labelled
    observed_agreement: float  # weighted when weights are used
    expected_agreement: float
    weights: str  # "none", "linear", "quadratic" or "custom"
    level: Level
    categories: tuple[object, ...]
    reason: str = ""


def kappa_from_table(
    table: np.ndarray | Sequence[Sequence[float]], *, weights: Weights | np.ndarray = "none",
    categories: Sequence[object] = (), level: Level = "nominal", confidence: float = 0.95,
) -> Kappa:
    """Cohen's kappa from a k x k table of counts (rows: first rater, columns: second), its categories
    in order. `weights` is "none", "linear", "quadratic", or a k x k matrix of disagreement weights
    (0 on the diagonal; scaled so the largest is 1, as the variance formula assumes). No items, or both
    raters using one and the same category (chance agreement 1), give nan with a reason."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("a kappa table is square: the same categories for both raters")
    k = t.shape[0]
    name = "custom" if isinstance(weights, np.ndarray) else weights
    n = round(float(t.sum()))
    cats = tuple(categories) or tuple(range(k))
    r = kappas(t[None], weights=weights, confidence=confidence).iloc[0]
    if n == 0:
        reason = "no item was labelled by both"
    elif math.isnan(r["kappa"]):
        reason = "both used one and the same label: chance agreement is total"
    else:
        reason = ""
    return Kappa(
        kappa=Interval(estimate=float(r["kappa"]), low=float(r["low"]), high=float(r["high"])),
        se=float(r["se"]), se_null=float(r["se_null"]), z=float(r["z"]), p_value=float(r["p_value"]), n=n,
        observed_agreement=float(r["observed_agreement"]), expected_agreement=float(r["expected_agreement"]),
        weights=name, level=level, categories=cats, reason=reason,
    )


KAPPAS_COLUMNS = ["kappa", "low", "high", "se", "se_null", "z", "p_value", "observed_agreement",
                  "expected_agreement"]


def kappas(
    tables: np.ndarray, *, weights: Weights | np.ndarray = "none", confidence: float = 0.95
) -> pd.DataFrame:
    """Cohen's kappa for each of a stack of k x k tables of counts (m x k x k; rows: first rater), one
    row each, columns KAPPAS_COLUMNS: the estimate with its interval (clipped to [-1, 1]), standard
    errors, the test of kappa = 0 and the (weighted) observed and chance agreement. statsmodels'
    `cohens_kappa` formulas (Fleiss, Cohen & Everitt 1969), written over the whole stack at once, as a
    page asks for one kappa per auditor. A table with no items, or with chance agreement 1, gives nan."""
    t = np.asarray(tables, dtype=float)
    if t.ndim != 3 or t.shape[1] != t.shape[2]:
        raise ValueError("kappa tables are a stack of square tables: m x k x k")
    disagreement = _disagreement(weights, t.shape[1])
    agree = 1 - disagreement
    nobs = t.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):  # empty tables, and perfect agreement's variance
        p = t / nobs[:, None, None]
        row, col = p.sum(axis=2), p.sum(axis=1)  # first and second rater's shares per category
        expected = row[:, :, None] * col[:, None, :]
        p_o = (agree * p).sum(axis=(1, 2))
        p_e = (agree * expected).sum(axis=(1, 2))
        if isinstance(weights, str) and weights == "none":
            kappa, var, var0 = _simple_variances(p, row, col)
        else:
            kappa, var, var0 = _weighted_variances(p, row, col, disagreement)
        var, var0 = var / nobs, var0 / nobs
        se, se0 = np.sqrt(var), np.sqrt(var0)
        half = float(sps.norm.ppf(1 - (1 - confidence) / 2)) * se
        z = np.where(se0 > 0, kappa / se0, NAN)
    p_value = np.where(np.isfinite(z), 2 * sps.norm.sf(np.abs(z)), NAN)
    # As math.isclose(p_e, 1.0): chance agreement is total, so kappa is undefined.
    undefined = (nobs == 0) | (np.abs(p_e - 1) <= 1e-9 * np.maximum(np.abs(p_e), 1))
    out = {"kappa": kappa, "low": np.maximum(kappa - half, -1.0), "high": np.minimum(kappa + half, 1.0),
           "se": se, "se_null": se0, "z": z, "p_value": p_value}
    frame = pd.DataFrame({c: np.where(undefined, NAN, v) for c, v in out.items()})
    return frame.assign(observed_agreement=p_o, expected_agreement=p_e)[KAPPAS_COLUMNS]


def _simple_variances(p: np.ndarray, row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unweighted kappa and n times its variance, in general and under kappa = 0 (statsmodels' "Simple").
    The operations follow statsmodels' order: where agreement is perfect the variance is 0 up to rounding,
    and its sign (a tiny SE, or nan) then depends on it."""
    diag = np.diagonal(p, axis1=1, axis2=2)
    chance = np.diagonal(col[:, None, :] * row[:, :, None], axis1=1, axis2=2).sum(axis=1)
    kappa = (diag.sum(axis=1) - chance) / (1 - chance)
    a = (diag * (1 - (row + col) * (1 - kappa)[:, None]) ** 2).sum(axis=1)
    off = p * (col[:, :, None] + row[:, None, :]) ** 2
    k = p.shape[1]
    off[:, np.arange(k), np.arange(k)] = 0
    b = (1 - kappa) ** 2 * off.sum(axis=(1, 2))
    c = (kappa - chance * (1 - kappa)) ** 2
    var0 = chance + chance**2 - (col * row * (col + row)).sum(axis=1)
    scale = (1 - chance) ** 2
    return kappa, (a + b - c) / scale, var0 / scale


def _weighted_variances(
    p: np.ndarray, row: np.ndarray, col: np.ndarray, disagreement: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Weighted kappa and n times its variance, in general and under kappa = 0 (statsmodels' "Weighted")."""
    expected = row[:, :, None] * col[:, None, :]
    kappa = 1 - (disagreement * p).sum(axis=(1, 2)) / (disagreement * expected).sum(axis=(1, 2))
    w = 1.0 - disagreement
    w_row = (col[:, None, :] * w).sum(axis=2)  # per row category i: sum_j col_j w_ij
    w_col = (row[:, :, None] * w).sum(axis=1)  # per column category j: sum_i row_i w_ij
    chance = (w * expected).sum(axis=(1, 2))
    both = w_col[:, None, :] + w_row[:, :, None]
    k1 = (1 - kappa)[:, None, None]
    var = (p * (w - both * k1) ** 2).sum(axis=(1, 2)) - (kappa - chance * (1 - kappa)) ** 2
    var0 = (expected * (w - both) ** 2).sum(axis=(1, 2)) - chance**2
    scale = (1 - chance) ** 2
    return kappa, var / scale, var0 / scale


def _disagreement(weights: Weights | np.ndarray, k: int) -> np.ndarray:
    """Disagreement weights (0 on the diagonal, at most 1) for k ordered categories."""
    i, j = np.indices((k, k))
    span = max(k - 1, 1)
    if isinstance(weights, np.ndarray):
        w = np.asarray(weights, dtype=float)
        if w.shape != (k, k) or (np.diag(w) != 0).any() or (w < 0).any():
            raise ValueError("custom weights are a k x k matrix of disagreements, 0 on the diagonal")
        return w / w.max() if w.max() > 0 else w
    table: dict[str, np.ndarray] = {
        "none": (i != j).astype(float), "linear": np.abs(i - j) / span, "quadratic": ((i - j) / span) ** 2,
    }
    if weights not in table:
        raise ValueError(f"weights are none, linear or quadratic, not {weights!r}")
    return table[weights]


def cohen_kappa(
    first: Sequence[object], second: Sequence[object], *, weights: Weights = "none",
    order: Sequence[object] | None = None, confidence: float = 0.95,
) -> Kappa:
    """How well do two raters agree beyond chance (e.g. a rater against the expert on the same items)?

    Items either rater left unlabelled (None, nan) are left out. The categories and their order come
    from `measurement_level` (numbers in numeric order, or the `order` given); weights need ordered
    labels, so weighted kappa on names without an order gives nan with a reason."""
    if len(first) != len(second):
        raise ValueError("both raters must label the same items, in the same order")
    pairs = [(a, b) for a, b in zip(first, second, strict=True) if not is_missing(a) and not is_missing(b)]
    choice = measurement_level([v for pair in pairs for v in pair], order)
    if weights != "none" and choice.level == "nominal":
        return Kappa(Interval.missing(), NAN, NAN, NAN, NAN, len(pairs), NAN, NAN, weights, "nominal",
                     choice.categories, "weights need ordered labels: give the labels' order")
    k = len(choice.categories)
    table = np.zeros((k, k))
    if pairs:
        a = _codes([p[0] for p in pairs], choice)
        b = _codes([p[1] for p in pairs], choice)
        np.add.at(table, (a, b), 1)
    return kappa_from_table(table, weights=weights, categories=choice.categories, level=choice.level,
                            confidence=confidence)


PAIRWISE_COLUMNS = ["first", "second", "n", "kappa", "low", "high", "se", "p_value", "weights", "reason"]


def pairwise_kappa(
    ratings: pd.DataFrame, *, weights: Weights = "none", order: Sequence[object] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cohen's kappa for every pair of raters: `ratings` has one row per item and one column per rater
    (None or nan where a rater did not label the item). One row per pair, columns PAIRWISE_COLUMNS.
    The categories' order comes from all ratings together, so every pair is on the same scale."""
    everything = ratings.to_numpy(dtype=object).ravel()
    if order is None:
        choice = measurement_level(everything)
        order = choice.categories if choice.level != "nominal" else None
    rows = []
    for first, second in itertools.combinations(ratings.columns, 2):
        r = cohen_kappa(ratings[first].tolist(), ratings[second].tolist(), weights=weights, order=order,
                        confidence=confidence)
        rows.append([first, second, r.n, r.kappa.estimate, r.kappa.low, r.kappa.high, r.se, r.p_value,
                     r.weights, r.reason])
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


# ------------------------------------------------------------------------------------------- alpha


@dataclass(frozen=True)
class Alpha:
    """Krippendorff's alpha at a level of measurement, with a percentile bootstrap interval over units."""

    alpha: Interval
    level: Level
    n_units: int  # units with at least two ratings (pairable)
    n_values: int  # ratings in those units
    n_boot: int
    categories: tuple[object, ...]
    reason: str = ""


def _coincidence_blocks(codes: np.ndarray, n_categories: int) -> tuple[np.ndarray, int, int]:
    """Per unit (column of observers x units `codes`, -1 missing) its contribution to the coincidence
    matrix, (n_u n_u^T - diag(n_u)) / (m_u - 1), flattened: units x categories^2. Units with fewer
    than two ratings contribute nothing (Krippendorff 2011). Also the pairable units and values."""
    units = codes.shape[1]
    counts = np.zeros((units, n_categories))
    observer, unit = np.nonzero(codes >= 0)
    np.add.at(counts, (unit, codes[observer, unit]), 1)
    m = counts.sum(axis=1)
    pairable = m >= 2
    blocks = counts[:, :, None] * counts[:, None, :]
    blocks[:, np.arange(n_categories), np.arange(n_categories)] -= counts
    blocks /= np.where(pairable, m - 1, 1)[:, None, None]
    blocks[~pairable] = 0
    return blocks.reshape(units, -1), int(pairable.sum()), int(m[pairable].sum())


def alpha_from_coincidences(coincidences: np.ndarray, level: Level, values: np.ndarray) -> np.ndarray:
    """alpha = 1 - (n - 1) sum o_ck d2_ck / sum n_c n_k d2_ck for each of a stack of coincidence
    matrices (..., V, V), with Krippendorff's (2011) difference functions: nominal 1 if c != k, interval
    (v_c - v_k)^2, ordinal (sum of n_g for g from c to k - (n_c + n_k) / 2)^2. nan where no
    disagreement is expected (every pairable value the same)."""
    o = np.asarray(coincidences, dtype=float)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    k = o.shape[-1]
    i, j = np.indices((k, k))
    if level == "nominal":
        d2 = np.broadcast_to((i != j).astype(float), o.shape)
    elif level == "interval":
        v = np.asarray(values, dtype=float)
        d2 = np.broadcast_to((v[:, None] - v[None, :]) ** 2, o.shape)
    else:
        cum = np.cumsum(n_c, axis=-1)
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        between = cum[..., hi] - cum[..., lo] + n_c[..., lo]
        d2 = (between - (n_c[..., :, None] + n_c[..., None, :]) / 2) ** 2
    observed = (o * d2).sum(axis=(-2, -1))
    expected = (n_c[..., :, None] * n_c[..., None, :] * d2).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1 - (n - 1) * observed / expected
    return np.where(expected > 0, alpha, np.nan)


def krippendorff_alpha(
    reliability_data: np.ndarray | Sequence[Sequence[object]], *, level: Level | None = None,
    order: Sequence[object] | None = None, n_boot: int = 1000, seed: int = 0, confidence: float = 0.95,
) -> Alpha:
    """How reliable are the ratings, at their level of measurement? Krippendorff's alpha from an
    observers x units table (None or nan = not rated), computed by the `krippendorff` package, with a
    percentile bootstrap interval over units (the same seeded resamples as `metrics.stats`).

    `level` None picks it with `measurement_level` (and `order`); "interval" needs numeric labels, and
    "ordinal" needs numbers or an `order`. No unit rated twice, or one value throughout, give nan."""
    data = np.asarray(reliability_data, dtype=object)
    if data.ndim != 2:
        raise ValueError("reliability data is a 2-D observers x units table")
    choice = measurement_level(data.ravel(), order)
    chosen: Level = level or choice.level
    if chosen != "nominal" and choice.level == "nominal":
        return Alpha(Interval.missing(), chosen, 0, 0, 0, choice.categories,
                     f"{chosen} alpha needs numeric labels or their order")
    if chosen == "interval" and order is not None:
        return Alpha(Interval.missing(), chosen, 0, 0, 0, choice.categories,
                     "interval alpha needs numeric labels, not an order of names")
    codes = _codes(data.ravel(), choice).reshape(data.shape)
    k = len(choice.categories)
    blocks, n_units, n_values = _coincidence_blocks(codes, k)
    # Interval differences are between the numbers themselves; ordinal ones need only the order.
    values = np.asarray(choice.categories if chosen == "interval" else range(k), dtype=float)

    def result(interval: Interval, boots: int, reason: str = "") -> Alpha:
        return Alpha(interval, chosen, n_units, n_values, boots, choice.categories, reason)

    if n_units == 0:
        return result(Interval.missing(), 0, "no unit was rated by two or more observers")
    if k < 2:
        return result(Interval.missing(), 0, "every rating is the same value: no disagreement is expected")
    counts = np.zeros((data.shape[1], k))
    observer, unit = np.nonzero(codes >= 0)
    np.add.at(counts, (unit, codes[observer, unit]), 1)
    estimate = float(krippendorff.alpha(value_counts=counts, value_domain=values,
                                        level_of_measurement=chosen))
    if n_boot <= 0 or n_units < 2:
        return result(Interval(estimate=estimate, low=NAN, high=NAN), 0)
    resampled = bootstrap_weights(int(data.shape[1]), n_boot, seed) @ blocks
    boot = alpha_from_coincidences(resampled.reshape(n_boot, k, k), chosen, values)
    return result(bootstrap_interval(estimate, boot, confidence), n_boot)
