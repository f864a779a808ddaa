"""Calibration: how far raters agree on the same items, and where they split.

Reads the `calibration` table (one rater's label on one item in a session). Reference ratings
(`is_reference`, the expert answer) never count in rater-agreement statistics; they are what each rater
is compared with.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metrics.filters import Filters, where
from metrics.stats import (
    Interval,
    bootstrap_agreement,
    bootstrap_alpha_groups,
    cohen_kappa,
    fleiss_kappa_groups,
    modal_rating_items,
    percent_agreement,
    percent_agreement_groups,
)

SESSION_COLUMNS = [
    "session_id", "date", "policy", "market", "items", "raters",
    "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "percent_agreement",
]  # fmt: skip
BY_POLICY_COLUMNS = [
    "policy", "date", "session_id", "items", "raters",
    "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "percent_agreement",
]  # fmt: skip
_TEXT = {"session_id", "policy", "market"}
NO_POLICY = "(no policy)"
_INT = {"items", "raters"}


def _empty(columns: list[str]) -> pd.DataFrame:
    def dtype(c: str) -> str:
        if c in _TEXT:
            return "object"
        if c in _INT:
            return "int64"
        return "datetime64[us]" if c == "date" else "float64"

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in columns})


def _calibration_where(filters: Filters) -> tuple[str, list[object]]:
    # Calibration rows carry date, market and policy; cohorts, projects and source do not apply.
    w = where(filters.with_(projects=(), cohorts=()), alias="c", trainee_alias=None, source=False)
    return w.sql, w.params


def _agreement_table(
    con: duckdb.DuckDBPyConnection, filters: Filters, keys: list[str], n_boot: int, seed: int
) -> pd.DataFrame:
    """One row per group of `keys` (from {"session_id", "policy"}): date, policy, market, items, raters,
    Fleiss' kappa (modal-ratings items), alpha with a bootstrap interval, percent agreement."""
    # Rows without a policy still form a group (pandas would drop a null key when pivoting).
    key_exprs = {"session_id": "c.session_id", "policy": f"coalesce(c.policy, '{NO_POLICY}') AS policy"}
    key_sql = ", ".join(key_exprs[k] for k in keys)
    wsql, params = _calibration_where(filters)
    long = con.execute(
        f"""SELECT {key_sql}, c.item_id, c.label, count(*) AS n
            FROM calibration c WHERE NOT c.is_reference AND {wsql}
            GROUP BY ALL ORDER BY ALL""",
        params,
    ).df()
    meta = con.execute(
        f"""SELECT {key_sql}, min(c.date) AS date,
                   string_agg(DISTINCT c.policy, ', ' ORDER BY c.policy) AS policies,
                   string_agg(DISTINCT c.market, ', ' ORDER BY c.market) AS market,
                   count(DISTINCT c.item_id) AS items, count(DISTINCT c.rater_id) AS raters
            FROM calibration c WHERE NOT c.is_reference AND {wsql}
            GROUP BY ALL""",
        params,
    ).df()
    if meta.empty:
        return pd.DataFrame()
    if "policy" not in keys:
        meta = meta.rename(columns={"policies": "policy"})
    else:
        meta = meta.drop(columns="policies")
    # Every group at once (hundreds of sessions): rows are ordered by group, then item, so each group's
    # items are one block of an items x labels count matrix.
    new_group = long[keys].ne(long[keys].shift()).any(axis=1).to_numpy()
    new_item = new_group | long["item_id"].ne(long["item_id"].shift()).to_numpy()
    item = np.cumsum(new_item) - 1
    label = pd.factorize(long["label"])[0]
    counts = np.zeros((int(item[-1]) + 1, int(label.max()) + 1))
    counts[item, label] = long["n"].to_numpy(dtype=float)
    item_group = (np.cumsum(new_group) - 1)[new_item]
    sizes = np.bincount(item_group)
    alpha = bootstrap_alpha_groups(counts, sizes, n_boot=n_boot, seed=seed)
    stats = long.loc[new_group, keys].reset_index(drop=True)
    stats["fleiss_kappa"] = fleiss_kappa_groups(counts, item_group, len(sizes))
    stats["alpha"], stats["alpha_low"], stats["alpha_high"] = alpha.estimate, alpha.low, alpha.high
    stats["percent_agreement"] = percent_agreement_groups(counts, item_group, len(sizes))
    stat_columns = [*keys, "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "percent_agreement"]
    out = meta.merge(stats[stat_columns], on=keys, how="left")
    out["items"] = out["items"].astype("int64")
    out["raters"] = out["raters"].astype("int64")
    return out


def sessions(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, n_boot: int = 500, seed: int = 0
) -> pd.DataFrame:
    """How well did raters agree in each calibration session?

    Per session (rows within the filters' dates, markets and policies; reference ratings excluded):
    date (first day), policy and market (comma-joined if several), items, raters, Fleiss' kappa (on the
    items with the modal number of ratings), Krippendorff's alpha (nominal, missing ratings allowed)
    with a 95% percentile bootstrap interval over items (seeded), and percent agreement (share of
    agreeing rater pairs per item, averaged). Sorted by date, then session."""
    df = _agreement_table(con, filters, ["session_id"], n_boot, seed)
    if df.empty:
        return _empty(SESSION_COLUMNS)
    return df.sort_values(["date", "session_id"], kind="stable").reset_index(drop=True)[SESSION_COLUMNS]


def agreement_by_policy(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, n_boot: int = 500, seed: int = 0
) -> pd.DataFrame:
    """Is agreement on each policy improving over time? One row per policy x session, in date order,
    with the same statistics as `sessions` computed on that policy's items only.
    Columns: policy, date, session_id, items, raters, fleiss_kappa, alpha, alpha_low, alpha_high,
    percent_agreement."""
    df = _agreement_table(con, filters, ["session_id", "policy"], n_boot, seed)
    if df.empty:
        return _empty(BY_POLICY_COLUMNS)
    return df.sort_values(["policy", "date", "session_id"], na_position="last", kind="stable").reset_index(
        drop=True
    )[BY_POLICY_COLUMNS]


@dataclass(frozen=True)
class SessionAgreement:
    """Agreement in one calibration session (reference ratings excluded from the statistics).

    fleiss: Fleiss' kappa on the `fleiss_items` items that have the modal number of ratings
    (`fleiss_raters`), with a bootstrap interval over those items. alpha: Krippendorff's alpha (nominal)
    on all items, missing ratings allowed, bootstrap interval over items.
    raters: rater_id, items, agreement_with_reference, cohen_kappa_with_reference.
    disagreements: item_id, ratings, distinct_labels, majority_label, majority_share, reference_label,
      entropy (bits), most disagreement first: the agenda for the next meeting.
    grid: rater_id, item_id, label, matches_reference (NA where the item has no reference)."""

    session_id: str
    policy: str | None
    n_items: int
    n_raters: int
    fleiss: Interval
    fleiss_items: int
    fleiss_raters: int
    alpha: Interval
    percent_agreement: float
    raters: pd.DataFrame
    disagreements: pd.DataFrame
    grid: pd.DataFrame


RATER_COLUMNS = ["rater_id", "items", "agreement_with_reference", "cohen_kappa_with_reference"]
DISAGREEMENT_COLUMNS = [
    "item_id", "ratings", "distinct_labels", "majority_label", "majority_share", "reference_label", "entropy",
]  # fmt: skip
GRID_COLUMNS = ["rater_id", "item_id", "label", "matches_reference"]


def _session_rows(
    con: duckdb.DuckDBPyConnection, session_id: str, policy: str | None
) -> pd.DataFrame:
    return con.execute(
        """SELECT item_id, rater_id, label, is_reference FROM calibration
           WHERE session_id = ? AND (? IS NULL OR policy = ?)
           ORDER BY item_id, rater_id""",
        [session_id, policy, policy],
    ).df()


def _references(rows: pd.DataFrame) -> dict[str, str]:
    """The expert answer per item; if several experts disagree, the most common label (ties: first
    in text order)."""
    refs = rows[rows["is_reference"]]
    out: dict[str, str] = {}
    for item, labels in refs.groupby("item_id")["label"]:
        counted = Counter(labels)
        out[str(item)] = min(counted, key=lambda lab: (-counted[lab], str(lab)))
    return out


def _entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


def session_agreement(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    *,
    policy: str | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> SessionAgreement:
    """How well did raters agree in this session, who drifted from the expert answer, and which items
    split the room? (See SessionAgreement for the methods; `policy` restricts to one policy's items.)"""
    rows = _session_rows(con, session_id, policy)
    raters_rows = rows[~rows["is_reference"]]
    if raters_rows.empty:
        return SessionAgreement(
            session_id, policy, 0, 0, Interval.missing(), 0, 0, Interval.missing(), math.nan,
            _typed_empty(RATER_COLUMNS), _typed_empty(DISAGREEMENT_COLUMNS), _typed_empty(GRID_COLUMNS),
        )  # fmt: skip
    refs = _references(rows)
    wide = raters_rows.pivot_table(index="item_id", columns="label", values="rater_id", aggfunc="count", fill_value=0)
    counts = wide.to_numpy(dtype=float)
    fleiss_rows = modal_rating_items(counts)
    grid = _grid(raters_rows, refs)
    return SessionAgreement(
        session_id=session_id,
        policy=policy,
        n_items=len(wide),
        n_raters=int(raters_rows["rater_id"].nunique()),
        fleiss=bootstrap_agreement(counts[fleiss_rows], "fleiss", n_boot=n_boot, seed=seed),
        fleiss_items=int(fleiss_rows.sum()),
        fleiss_raters=int(counts.sum(axis=1)[fleiss_rows][0]) if fleiss_rows.any() else 0,
        alpha=bootstrap_agreement(counts, "alpha", n_boot=n_boot, seed=seed),
        percent_agreement=percent_agreement(counts),
        raters=_rater_stats(grid, refs),
        disagreements=_disagreements(wide, refs),
        grid=grid[GRID_COLUMNS],
    )


def _grid(raters_rows: pd.DataFrame, refs: dict[str, str]) -> pd.DataFrame:
    """Every rating, and whether it matches the item's expert answer (NA without one)."""
    grid = raters_rows[["rater_id", "item_id", "label"]].copy()
    reference = grid["item_id"].map(refs)
    grid["matches_reference"] = pd.array(
        [None if pd.isna(r) else lab == r for lab, r in zip(grid["label"], reference, strict=True)],
        dtype="boolean",
    )
    return grid.reset_index(drop=True)


def _rater_stats(grid: pd.DataFrame, refs: dict[str, str]) -> pd.DataFrame:
    """Each rater against the expert answer, on the items that have one."""
    rows = []
    for rater, mine in grid.groupby("rater_id", sort=True):
        judged = mine[mine["matches_reference"].notna()]
        rows.append({
            "rater_id": rater,
            "items": len(mine),
            "agreement_with_reference": float(judged["matches_reference"].astype(bool).mean())
            if len(judged) else math.nan,
            "cohen_kappa_with_reference": cohen_kappa(list(judged["label"]), [refs[str(i)] for i in judged["item_id"]]),
        })
    return pd.DataFrame(rows, columns=RATER_COLUMNS)


def _disagreements(wide: pd.DataFrame, refs: dict[str, str]) -> pd.DataFrame:
    """One row per item, most disagreement (entropy of its labels) first."""
    counts = wide.to_numpy(dtype=float)
    labels = [str(c) for c in wide.columns]
    m = counts.sum(axis=1)
    majority = counts.argmax(axis=1)  # first label in text order on ties
    out = pd.DataFrame({
        "item_id": [str(i) for i in wide.index],
        "ratings": m.astype("int64"),
        "distinct_labels": (counts > 0).sum(axis=1).astype("int64"),
        "majority_label": [labels[j] for j in majority],
        "majority_share": counts.max(axis=1) / m,
        "reference_label": [refs.get(str(i)) for i in wide.index],
        "entropy": [_entropy_bits(row) for row in counts],
    })
    return out.sort_values(
        ["entropy", "majority_share", "item_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)[DISAGREEMENT_COLUMNS]


def _typed_empty(columns: list[str]) -> pd.DataFrame:
    floats = {"agreement_with_reference", "cohen_kappa_with_reference", "majority_share", "entropy"}
    ints = {"items", "ratings", "distinct_labels"}

    def dtype(c: str) -> str:
        if c in floats:
            return "float64"
        if c in ints:
            return "int64"
        return "boolean" if c == "matches_reference" else "object"

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in columns})


@dataclass(frozen=True)
class PairAgreement:
    rater_a: str
    rater_b: str
    items: int  # items both rated
    percent_agreement: float
    kappa: float


def pairwise_cohen(
    con: duckdb.DuckDBPyConnection, session_id: str, rater_a: str, rater_b: str
) -> PairAgreement:
    """How far do two raters agree with each other in a session? Cohen's kappa and percent agreement on
    the items both labelled (nan when there are none)."""
    pairs = con.execute(
        """SELECT a.label, b.label FROM calibration a JOIN calibration b USING (session_id, item_id)
           WHERE a.session_id = ? AND a.rater_id = ? AND b.rater_id = ?
           ORDER BY a.item_id""",
        [session_id, rater_a, rater_b],
    ).fetchall()
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    agree = sum(x == y for x, y in pairs) / len(pairs) if pairs else math.nan
    return PairAgreement(rater_a, rater_b, len(pairs), agree, cohen_kappa(a, b))
