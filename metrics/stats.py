"""Textbook statistics on small aggregates (numpy/scipy/pandas only; no SQL, no Streamlit)."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special
from scipy import stats as sps
from threadpoolctl import ThreadpoolController


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()  # finds the loaded BLAS libraries once


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run small linear algebra on one BLAS thread.

    OpenBLAS splits even two-parameter optimiser steps over every core; on the 2-core app server the
    threads' hand-offs made each beta-binomial fit 17x slower (75 ms instead of 4.4 ms), and the coaching
    list, which fits one prior per market x policy, took 10 s at 1M decisions instead of 1 s."""
    with _threadpools().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval (confidence, credible or bootstrap, at `level`); nan where there is
    nothing to measure. Every measure result holds its figures as these."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    @classmethod
    def missing(cls, level: float = 0.95) -> Interval:
        return cls(math.nan, math.nan, math.nan, level)

    @property
    def measured(self) -> bool:
        return math.isfinite(self.estimate)

    @property
    def bounded(self) -> bool:
        """Both ends of the interval are known."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def excludes_zero(self) -> bool:
        return self.bounded and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class Intervals:
    """One estimate and interval per group (arrays of the same length); nan where not measurable."""

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float = 0.95


@functools.lru_cache(maxsize=16)
def _z(confidence: float) -> float:
    """The two-sided normal quantile (1.96 for 95%); scipy's ppf costs a millisecond a call."""
    return float(sps.norm.ppf(1 - (1 - confidence) / 2))


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion (Newcombe 1998, method 3).

    n = 0 gives nan everywhere: there is no rate to show."""
    if n <= 0:
        return Interval.missing(confidence)
    z = _z(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence)


def wilson_arrays(
    successes: np.ndarray, n: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson bounds (low, high) for columns of a frame; nan where n = 0."""
    s = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = s / m
        denom = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
        low = np.where(m > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(m > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


# --------------------------------------------------------------------------------------------------
# Comparing two proportions


@dataclass(frozen=True)
class ProportionTest:
    """p1 - p2 with a two-sided pooled z-test and a 95% interval for the difference.

    The interval is Newcombe's hybrid score interval (1998, method 10), built from the two Wilson
    intervals; it stays inside [-1, 1] and behaves at small n and rates near 0 or 1, where Wald does not."""

    difference: float
    z: float
    p_value: float
    low: float
    high: float


def two_proportion_test(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> ProportionTest:
    """Is x1/n1 different from x2/n2? Pooled two-proportion z-test (two-sided), Newcombe hybrid interval.

    Either n = 0 gives nan everywhere. When both rates are 0 (or both 1) there is no evidence of a
    difference: z = 0, p = 1."""
    if n1 <= 0 or n2 <= 0:
        return ProportionTest(math.nan, math.nan, math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        z, p_value = 0.0, 1.0
    else:
        z = diff / se
        p_value = math.erfc(abs(z) / math.sqrt(2))  # 2 * sps.norm.sf(|z|), without scipy's per-call cost
    w1, w2 = wilson(x1, n1, confidence), wilson(x2, n2, confidence)
    low = diff - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = diff + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return ProportionTest(diff, z, p_value, low, high)


def benjamini_hochberg(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (q-values): reject where q <= the chosen FDR.

    q_(i) = min over j >= i of m * p_(j) / j, capped at 1. nan p-values stay nan and do not count in m."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    vals = p[ok]
    order = np.argsort(vals, kind="stable")
    ranked = vals[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q


# --------------------------------------------------------------------------------------------------
# Agreement between raters


def _as_counts(counts: np.ndarray | list[list[float]]) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2:
        raise ValueError("counts must be a 2-D items x categories matrix")
    return c


def fleiss_kappa(counts: np.ndarray | list[list[float]]) -> float:
    """Fleiss' kappa (1971) from an items x categories matrix of how many raters chose each category.

    Every item must have the same number of ratings (>= 2); nan when there is nothing to measure or
    everyone used one category (chance agreement is then 1)."""
    c = _as_counts(counts)
    if c.shape[0] == 0:
        return math.nan
    m = c.sum(axis=1)
    if not np.all(m == m[0]) or m[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings on every item")
    return float(_fleiss_weighted(c, np.ones((1, c.shape[0])))[0])


def _fleiss_weighted(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fleiss' kappa for each row of item weights `w` (n_weights x items): bootstrap resamples as weights."""
    m = c.sum(axis=1)
    p_i = (c * (c - 1)).sum(axis=1) / (m * (m - 1))  # agreeing pairs per item
    total = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_bar = (w @ p_i) / total
        p_j = (w @ c) / (w @ m)[:, None]
        p_e = (p_j**2).sum(axis=1)
        kappa = (p_bar - p_e) / (1 - p_e)
    return np.where(np.isclose(p_e, 1.0), np.nan, kappa)


def percent_agreement(counts: np.ndarray | list[list[float]]) -> float:
    """Share of agreeing rater pairs, averaged over items with >= 2 ratings (Fleiss' P-bar; for two
    raters, the share of items on which they agree). nan when no item has two ratings."""
    c = _as_counts(counts)
    m = c.sum(axis=1)
    keep = m >= 2
    if not keep.any():
        return math.nan
    c, m = c[keep], m[keep]
    return float(((c * (c - 1)).sum(axis=1) / (m * (m - 1))).mean())


def modal_rating_items(counts: np.ndarray) -> np.ndarray:
    """Rows with the modal number of ratings (>= 2): Fleiss' kappa needs the same number on every item."""
    m = counts.sum(axis=1).astype(int)
    ok = m[m >= 2]
    if ok.size == 0:
        return np.zeros(0, dtype=bool)
    values, freq = np.unique(ok, return_counts=True)
    modal = values[freq == freq.max()].max()  # ties: the larger number of ratings
    return m == modal


def _pair_agreement(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item: share of agreeing rater pairs, and whether it has the 2 ratings that takes."""
    m = counts.sum(axis=1)
    pairable = m >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    return np.where(pairable, p, 0.0), pairable


def percent_agreement_groups(counts: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """`percent_agreement` of each group's block of items at once (`group`: each item's group number,
    0 .. n_groups - 1); the plain function is its test."""
    p, pairable = _pair_agreement(counts)
    n = np.bincount(group, weights=pairable, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.bincount(group, weights=p, minlength=n_groups) / n, np.nan)


def fleiss_kappa_groups(counts: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """`fleiss_kappa` of each group's block at once, on its items with the modal number of ratings (as
    `modal_rating_items`: ties go to the larger number); the plain function is its test."""
    m = counts.sum(axis=1).astype(np.int64)
    rated = pd.DataFrame({"g": group, "m": m})[m >= 2]
    freq = rated.value_counts().rename("freq").reset_index()
    modal_rows = freq.sort_values(["g", "freq", "m"], ascending=[True, False, False]).drop_duplicates("g")
    modal = np.full(n_groups, -1)
    modal[modal_rows["g"].to_numpy()] = modal_rows["m"].to_numpy()
    chosen = m == modal[group]
    p, _ = _pair_agreement(counts)
    n_items = np.bincount(group[chosen], minlength=n_groups)
    per_label = np.zeros((n_groups, counts.shape[1]))
    np.add.at(per_label, group[chosen], counts[chosen])
    ratings = per_label.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_bar = np.bincount(group[chosen], weights=p[chosen], minlength=n_groups) / n_items
        p_e = ((per_label / ratings[:, None]) ** 2).sum(axis=1)
        kappa = (p_bar - p_e) / (1 - p_e)
    return np.where((n_items == 0) | np.isclose(p_e, 1.0), np.nan, kappa)


def krippendorff_alpha_counts(counts: np.ndarray | list[list[float]]) -> float:
    """Krippendorff's alpha (nominal) from a units x categories matrix of value counts per unit.

    Units may have different numbers of values (missing ratings); units with fewer than 2 are not
    pairable and drop out, as in Krippendorff (2011)."""
    c = _as_counts(counts)
    return float(_alpha_weighted(c, np.ones((1, c.shape[0])))[0])


def _alpha_weighted(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Nominal alpha for each row of unit weights `w`, via the coincidence matrix.

    alpha = 1 - (n - 1) * D_o / D_e with, for nominal data, observed coincidences on the diagonal
    o_cc = sum_u n_uc (n_uc - 1) / (m_u - 1) and n_c the pairable values per category."""
    m = c.sum(axis=1)
    pairable = m >= 2
    c, m, w = c[pairable], m[pairable], w[:, pairable]
    if c.shape[0] == 0:
        return np.full(w.shape[0], np.nan)
    diag = (c * (c - 1)).sum(axis=1) / (m - 1)
    n_c = w @ c
    n = n_c.sum(axis=1)
    observed_agree = w @ diag
    expected_agree = (n_c * (n_c - 1)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = ((n - 1) * observed_agree - expected_agree) / (n * (n - 1) - expected_agree)
    return np.where(np.isclose(n * (n - 1), expected_agree), np.nan, alpha)


def label_counts(reliability_data: np.ndarray | list[list[object]]) -> tuple[np.ndarray, list[object]]:
    """Turn an observers x units table of labels (None or nan = missing) into units x categories counts.

    Returns the counts and the category labels, in sorted order of their text."""
    data = np.asarray(reliability_data, dtype=object)
    if data.ndim != 2:
        raise ValueError("reliability data must be a 2-D observers x units table")

    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    cats = sorted({v for v in data.ravel() if not missing(v)}, key=str)
    index = {v: i for i, v in enumerate(cats)}
    counts = np.zeros((data.shape[1], len(cats)))
    for (_, unit), v in np.ndenumerate(data):
        if not missing(v):
            counts[unit, index[v]] += 1
    return counts, cats


def krippendorff_alpha_nominal(reliability_data: np.ndarray | list[list[object]]) -> float:
    """Krippendorff's alpha for nominal labels from an observers x units table with missing values
    (None or nan), Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability"."""
    counts, _ = label_counts(reliability_data)
    return krippendorff_alpha_counts(counts)


def cohen_kappa(a: Sequence[object], b: Sequence[object]) -> float:
    """Cohen's kappa (1960) for two raters who labelled the same items, in the same order.

    nan when there are no items or chance agreement is 1 (both raters used a single, shared label)."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return math.nan
    cats = sorted(set(a) | set(b), key=str)
    index = {v: i for i, v in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    p_o = np.trace(table) / n
    p_e = float((table.sum(axis=1) / n) @ (table.sum(axis=0) / n))
    if math.isclose(p_e, 1.0):
        return math.nan
    return float((p_o - p_e) / (1 - p_e))


# --------------------------------------------------------------------------------------------------
# Bootstrap over items


def _bootstrap_uniforms(n_rows: int, n_boot: int, seed: int) -> np.ndarray:
    """n_rows x n_boot uniforms from a seeded Generator. Row-major, so the first k rows are the same for
    any n_rows >= k: a group of k items draws the same resamples alone or among larger groups."""
    return np.random.default_rng(seed).random((n_rows, n_boot))


def bootstrap_weights(n_items: int, n_boot: int, seed: int) -> np.ndarray:
    """n_boot x n_items resampling counts (how often each item is drawn), seeded so that the same call
    always gives the same intervals. Draw j of resample b is item floor(u[j, b] * n_items): counting
    uniform index draws is the equal-probability multinomial, ~50x faster than numpy's (one binomial per
    item per resample), and `bootstrap_alpha_groups` draws exactly these per group."""
    return _weights_from_uniforms(_bootstrap_uniforms(n_items, n_boot, seed))


def _weights_from_uniforms(uniforms: np.ndarray) -> np.ndarray:
    """`bootstrap_weights` from its n_items x n_boot uniforms (the first n_items rows of any longer draw)."""
    n_items, n_boot = uniforms.shape
    drawn = np.floor(uniforms * n_items).astype(np.int64)
    flat = (np.arange(n_boot)[None, :] * n_items + drawn).ravel()
    return np.bincount(flat, minlength=n_boot * n_items).reshape(n_boot, n_items).astype(float)


def percentile_rows(values: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """`bootstrap_interval`'s bounds for each row of a 2-D array of replicates at once (numpy's linear interpolation, non-finite
    values left out; nan where a row has none)."""
    v = np.where(np.isfinite(values), values, np.nan)
    v.sort(axis=1)  # nan last
    finite = np.isfinite(v).sum(axis=1)
    tail = (1 - confidence) / 2
    out = []
    for q in (tail, 1 - tail):
        pos = q * np.maximum(finite - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(finite - 1, 0))
        rows = np.arange(v.shape[0])
        val = v[rows, lo] + (v[rows, hi] - v[rows, lo]) * (pos - lo)
        out.append(np.where(finite > 0, val, np.nan))
    return out[0], out[1]


def bootstrap_interval(estimate: float, replicates: np.ndarray, confidence: float = 0.95) -> Interval:
    """The percentile bootstrap interval around `estimate`: the (1 - confidence) / 2 and 1 - that quantiles
    of the replicates (numpy's linear interpolation), non-finite replicates left out; nan bounds if none."""
    v = np.asarray(replicates, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return Interval(estimate, math.nan, math.nan, confidence)
    tail = (1 - confidence) / 2
    return Interval(estimate, float(np.quantile(v, tail)), float(np.quantile(v, 1 - tail)), confidence)


def bootstrap_agreement(
    counts: np.ndarray, statistic: str, *, n_boot: int = 500, seed: int = 0, confidence: float = 0.95
) -> Interval:
    """Percentile bootstrap over items (rows of an items x categories count matrix) for
    `statistic` = "alpha" (Krippendorff, nominal) or "fleiss" (Fleiss' kappa; equal ratings per item)."""
    c = _as_counts(counts)
    fn = {"alpha": _alpha_weighted, "fleiss": _fleiss_weighted}[statistic]
    if c.shape[0] == 0:
        return Interval.missing(confidence)
    estimate = float(fn(c, np.ones((1, c.shape[0])))[0])
    if n_boot <= 0 or c.shape[0] < 2:
        return Interval(estimate, math.nan, math.nan, confidence)
    return bootstrap_interval(estimate, fn(c, bootstrap_weights(c.shape[0], n_boot, seed)), confidence)


def _alpha_from_sums(n_c: np.ndarray, observed_agree: np.ndarray) -> np.ndarray:
    """Nominal alpha from pairable values per category (last axis) and the observed diagonal sum."""
    n = n_c.sum(axis=-1)
    expected_agree = (n_c * (n_c - 1)).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = ((n - 1) * observed_agree - expected_agree) / (n * (n - 1) - expected_agree)
    return np.where(np.isclose(n * (n - 1), expected_agree), np.nan, alpha)


def bootstrap_alpha_groups(
    counts: np.ndarray, sizes: np.ndarray | Sequence[int], *, n_boot: int = 500, seed: int = 0,
    confidence: float = 0.95,
) -> Intervals:
    """`bootstrap_agreement(block, "alpha", ...)` for many groups at once: `counts` stacks each group's
    items x categories block, `sizes` says how many rows each has (>= 1). Every group gets exactly the
    estimate and interval it would get alone (the same seeded draws, see `bootstrap_weights`)."""
    c = _as_counts(counts)
    sizes = np.asarray(sizes, dtype=np.int64)
    if (sizes < 1).any() or sizes.sum() != c.shape[0]:
        raise ValueError("sizes must be positive and add up to the rows of counts")
    n_groups = len(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    group = np.repeat(np.arange(n_groups), sizes)
    m = c.sum(axis=1)
    pairable = m >= 2
    cp = np.where(pairable[:, None], c, 0.0)
    diag = np.where(pairable, (c * (c - 1)).sum(axis=1) / np.where(pairable, m - 1, 1), 0.0)
    estimate = _alpha_from_sums(np.add.reduceat(cp, starts, axis=0), np.add.reduceat(diag, starts))
    low = np.full(n_groups, np.nan)
    high = np.full(n_groups, np.nan)
    if n_boot <= 0 or n_groups == 0:
        return Intervals(estimate, low, high, confidence)

    # Categories used within each group, renumbered from 0, keep the per-group arrays narrow.
    used = np.add.reduceat(cp, starts, axis=0) > 0
    local = np.cumsum(used, axis=1) - 1
    width = max(int(used.sum(axis=1).max()), 1)
    rows, cols = np.nonzero(cp)
    narrow = np.zeros((c.shape[0], width))
    np.add.at(narrow, (rows, local[group[rows], cols]), cp[rows, cols])

    # Every group of n items draws the same resamples (see `bootstrap_weights`), so one matrix product
    # per group size does all those groups: resamples x items times items x (groups x categories).
    # (Products this small run 3x faster on one BLAS thread than split over two cores.)
    # The uniforms are drawn once, for the largest group: each size's are their first rows (a new seeded
    # generator per size cost more than its draws).
    uniforms = _bootstrap_uniforms(int(sizes.max()), n_boot, seed)
    with one_blas_thread():
        for size in np.unique(sizes[sizes >= 2]):
            g = np.flatnonzero(sizes == size)
            w = _weights_from_uniforms(uniforms[:size])  # n_boot x size: bootstrap_weights(size, n_boot, seed)
            item = starts[g][:, None] + np.arange(size)[None, :]  # groups x size
            n_c = (w @ narrow[item].transpose(1, 0, 2).reshape(size, -1)).reshape(n_boot, len(g), width)
            observed = w @ diag[item].T  # n_boot x groups
            lo, hi = percentile_rows(_alpha_from_sums(n_c, observed).T, confidence)
            low[g], high[g] = lo, hi
    return Intervals(estimate, low, high, confidence)


# --------------------------------------------------------------------------------------------------
# Control charts


def p_chart_limits(
    x: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float], center: float | None = None
) -> pd.DataFrame:
    """Montgomery's p-chart: per-point 3-sigma limits center +/- 3 sqrt(center (1 - center) / n_i),
    clipped to [0, 1]. `center` defaults to the pooled rate sum(x) / sum(n) (Phase I).

    Columns: rate, center, lcl, ucl, beyond (rate outside the limits; False where n = 0)."""
    xs = np.asarray(x, dtype=float)
    ns = np.asarray(n, dtype=float)
    if center is None:
        total = ns.sum()
        center = float(xs.sum() / total) if total > 0 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(ns > 0, xs / ns, np.nan)
        sigma = np.sqrt(center * (1 - center) / ns)
    lcl = np.where(ns > 0, np.clip(center - 3 * sigma, 0, 1), np.nan)
    ucl = np.where(ns > 0, np.clip(center + 3 * sigma, 0, 1), np.nan)
    beyond = (ns > 0) & ((rate < lcl) | (rate > ucl))
    return pd.DataFrame({"rate": rate, "center": center, "lcl": lcl, "ucl": ucl, "beyond": beyond})


# --------------------------------------------------------------------------------------------------
# Empirical Bayes for rates


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(alpha, beta) prior for a family of rates, and how it was fitted:
    "mle" (beta-binomial maximum likelihood), "moments" (method of moments), "pooled" (one group only:
    the pooled rate with the weight of two observations) or "uniform" (no data)."""

    alpha: float
    beta: float
    method: str

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """The prior's weight in pseudo-observations, alpha + beta."""
        return self.alpha + self.beta


def _moments_prior(x: np.ndarray, n: np.ndarray) -> BetaPrior:
    """Method of moments for the beta-binomial (Kleinman 1973, weights n_i): the between-group variance
    is the spread of the rates beyond what binomial sampling explains. No spread beyond that means the
    groups look alike: the prior then weighs as much as all the data pooled."""
    total = n.sum()
    mu = float(np.clip(x.sum() / total, 0.5 / total, 1 - 0.5 / total))
    p = x / n
    k = len(n)
    s2 = float((n * (p - mu) ** 2).sum() / (k - 1))  # weighted between-group mean square
    n0 = (total - (n**2).sum() / total) / (k - 1)
    # E[s2] = mu (1 - mu) [1 + (n0 - 1) rho] with rho = 1 / (alpha + beta + 1)
    rho = (s2 / (mu * (1 - mu)) - 1) / (n0 - 1) if n0 > 1 else 0.0
    rho = min(rho, 0.99)  # rho -> 1 would mean a prior with no weight at all
    precision = 1 / rho - 1 if rho > 1 / (1 + total) else float(total)
    return BetaPrior(mu * precision, (1 - mu) * precision, "moments")


def beta_binomial_prior(successes: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float]) -> BetaPrior:
    """The Beta prior behind a family of binomial rates (e.g. one policy across markets), by maximum
    likelihood on the beta-binomial, parameterised by the mean and log precision (L-BFGS-B with the
    analytic gradient, started from the method-of-moments estimate).

    Falls back to the method of moments when the likelihood has no useful interior maximum: all rates 0
    or 1, no spread beyond binomial noise (precision would exceed 10x the reviews), or the optimiser
    fails. Groups with n = 0 are ignored."""
    xs = np.asarray(successes, dtype=float)
    ns = np.asarray(n, dtype=float)
    keep = ns > 0
    xs, ns = xs[keep], ns[keep]
    if len(ns) == 0:
        return BetaPrior(1.0, 1.0, "uniform")
    if len(ns) == 1:
        mu = float(np.clip(xs[0] / ns[0], 0.5 / ns[0], 1 - 0.5 / ns[0]))
        return BetaPrior(2 * mu, 2 * (1 - mu), "pooled")
    total = ns.sum()
    pooled = xs.sum() / total
    if pooled <= 0 or pooled >= 1:
        return _moments_prior(xs, ns)
    # Search precision up to 10x the reviews: beyond that the rates show no spread beyond binomial
    # noise, the likelihood is flat and the optimum is wherever the optimiser stops.
    max_log_precision = math.log(10 * total)
    # Groups with the same (successes, n) add the same terms: each distinct pair is evaluated once and
    # weighted by how often it occurs (a market's thousands of trainees share a few hundred pairs).
    order = np.lexsort((ns, xs))
    sx, sn = xs[order], ns[order]
    first = np.flatnonzero(np.r_[True, (sx[1:] != sx[:-1]) | (sn[1:] != sn[:-1])])
    ux, un, times = sx[first], sn[first], np.diff(np.r_[first, sx.size])
    failures = un - ux

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        # Beta-binomial log-likelihood without the binomial coefficient (constant in the parameters),
        # with its analytic gradient in (logit mean, log precision).
        mu = 1 / (1 + math.exp(-theta[0]))
        precision = math.exp(theta[1])
        a, b = mu * precision, (1 - mu) * precision
        ll = float((times * (special.betaln(ux + a, failures + b) - special.betaln(a, b))).sum())
        common = special.digamma(a + b) - special.digamma(un + a + b)
        d_a = float((times * (special.digamma(ux + a) - special.digamma(a) + common)).sum())
        d_b = float((times * (special.digamma(failures + b) - special.digamma(b) + common)).sum())
        grad = np.array([(d_a - d_b) * precision * mu * (1 - mu), d_a * a + d_b * b])
        return -ll, -grad

    moments = _moments_prior(xs, ns)
    start_precision = min(max(moments.alpha + moments.beta, 0.1), 5 * total)
    start = np.array([math.log(moments.mean / (1 - moments.mean)), math.log(start_precision)])
    try:
        with one_blas_thread():
            res = optimize.minimize(
                nll, start, jac=True, method="L-BFGS-B", bounds=[(-15, 15), (math.log(1e-3), max_log_precision)]
            )
    except (ValueError, FloatingPointError):  # pragma: no cover - defensive
        return moments
    log_precision = float(res.x[1])
    if not res.success or not np.all(np.isfinite(res.x)) or log_precision > max_log_precision - 1e-3:
        return moments
    mu = 1 / (1 + math.exp(-float(res.x[0])))
    precision = math.exp(log_precision)
    return BetaPrior(mu * precision, (1 - mu) * precision, "mle")


def beta_binomial_strength(
    successes: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float], means: np.ndarray | Sequence[float]
) -> float:
    """The weight (alpha + beta, in pseudo-observations) of Beta priors whose means are known in advance,
    one per group (e.g. each auditor's expected fail rate from colleagues on the same work), by maximum
    likelihood on the beta-binomial over the groups (bounded scalar search on the log weight).

    A large weight means the groups stray from their means no more than binomial noise explains, so
    `shrink` moves them almost all the way; the search stops at 10x the observations (as
    `beta_binomial_prior` does) and returns that cap when there is no spread beyond noise. Groups with
    n = 0 or a mean of 0 or 1 are ignored; with none left, nan."""
    xs, ns = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    mu = np.asarray(means, dtype=float)
    keep = (ns > 0) & (mu > 0) & (mu < 1) & np.isfinite(mu)
    xs, ns, mu = xs[keep], ns[keep], mu[keep]
    if len(ns) == 0:
        return math.nan
    cap = math.log(10 * ns.sum())
    failures = ns - xs

    def nll(log_strength: float) -> float:
        a, b = mu * math.exp(log_strength), (1 - mu) * math.exp(log_strength)
        return -float((special.betaln(xs + a, failures + b) - special.betaln(a, b)).sum())

    res = optimize.minimize_scalar(nll, bounds=(math.log(1e-3), cap), method="bounded")
    return float(math.exp(min(float(res.x), cap)))


def shrink(
    successes: ArrayLike, n: ArrayLike, prior_mean: ArrayLike, prior_strength: ArrayLike, confidence: float = 0.95
) -> Intervals:
    """Empirical-Bayes rates under a Beta prior centred at `prior_mean` with the weight of
    `prior_strength` pseudo-observations (alpha = mean x strength, beta = (1 - mean) x strength; a
    `BetaPrior` gives `prior.mean, prior.strength`): each group's posterior Beta(alpha + x, beta + n - x),
    its mean and equal-tailed credible interval. Small groups move toward the prior mean; large ones
    barely move. Arguments broadcast, so each group may have its own prior."""
    xs = np.asarray(successes, dtype=float)
    ns = np.asarray(n, dtype=float)
    mean = np.clip(np.asarray(prior_mean, dtype=float), 1e-6, 1 - 1e-6)
    strength = np.asarray(prior_strength, dtype=float)
    a = mean * strength + xs
    b = (1 - mean) * strength + ns - xs
    tail = (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        return Intervals(np.asarray(a / (a + b), float), np.asarray(sps.beta.ppf(tail, a, b), float),
                         np.asarray(sps.beta.ppf(1 - tail, a, b), float), confidence)
