"""Calibration: how far raters agree on the same items, and where they split.

Reads the `calibration` table (one rater's label on one item in a session). Reference ratings
(`is_reference`, the expert answer) never count in rater-agreement statistics; they are what each rater
is compared with.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metrics.agreement import (
    Alpha,
    LevelChoice,
    Weights,
    cohen_kappa,
    krippendorff_alpha,
    measurement_level,
    pairwise_kappa,
)
from metrics.filters import Filters, where
from metrics.stats import (
    Interval,
    bootstrap_agreement,
    bootstrap_alpha_groups,
    fleiss_kappa_groups,
    modal_rating_items,
    percent_agreement,
    percent_agreement_groups,
)

SESSION_COLUMNS = [
    "session_id", "date", "policy", "market", "items", "raters",
    "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "level", "percent_agreement",
]  # fmt: skip
BY_POLICY_COLUMNS = [
    "policy", "date", "session_id", "items", "raters",
    "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "level", "percent_agreement",
]  # fmt: skip
_TEXT = {"session_id", "policy", "market", "level"}
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
    """Calibration rows carry date, market and policy; cohorts, projects and source do not apply. A round
    may be undated: undated rows are kept whatever the dates (the page says how many), never dropped."""
    rest = where(filters.with_(projects=(), cohorts=()), alias="c", trainee_alias=None, source=False, dates=False)
    dates = where(Filters(start=filters.start, end=filters.end), alias="c", trainee_alias=None, source=False,
                  policies=False)
    return f"(c.date IS NULL OR ({dates.sql})) AND {rest.sql}", [*dates.params, *rest.params]


def undated_sessions(con: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    """How many sessions under the filters have no date (they are listed whatever the date range)."""
    wsql, params = _calibration_where(filters)
    row = con.execute(f"SELECT count(DISTINCT c.session_id) FROM calibration c WHERE c.date IS NULL AND {wsql}",
                      params).fetchone()
    return int(row[0]) if row else 0


def label_level(con: duckdb.DuckDBPyConnection, filters: Filters, order: Sequence[object] | None = None) -> LevelChoice:
    """The level of measurement of the calibration labels under the filters: ordinal in the `order` given,
    else read from the labels (numbers are ordinal or interval, names nominal)."""
    wsql, params = _calibration_where(filters)
    labels = [r[0] for r in con.execute(f"SELECT DISTINCT c.label FROM calibration c WHERE {wsql}", params).fetchall()]
    try:
        return measurement_level(labels, order)
    except ValueError:  # labels outside the order given: read them as they are, and say so
        choice = measurement_level(labels)
        return LevelChoice(choice.level, choice.categories, choice.values,
                           f"{choice.reason}; the saved order does not cover every label, so it is not used")


def _agreement_table(
    con: duckdb.DuckDBPyConnection, filters: Filters, keys: list[str], n_boot: int, seed: int,
    order: tuple[str, ...] | None = None,
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
                   count(DISTINCT c.rater_id) AS raters
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
    # Items per group are the blocks' sizes (item_id is never NULL): a distinct count in SQL cost more.
    stats["items"] = sizes
    stats["fleiss_kappa"] = fleiss_kappa_groups(counts, item_group, len(sizes))
    stats["alpha"], stats["alpha_low"], stats["alpha_high"] = alpha.estimate, alpha.low, alpha.high
    stats["percent_agreement"] = percent_agreement_groups(counts, item_group, len(sizes))
    stat_columns = [*keys, "items", "fleiss_kappa", "alpha", "alpha_low", "alpha_high", "percent_agreement"]
    out = meta.merge(stats[stat_columns], on=keys, how="left")
    out["items"] = out["items"].astype("int64")
    out["raters"] = out["raters"].astype("int64")
    return _alpha_at_levels(con, out, long, new_group, keys, order, n_boot, seed)


def sessions(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, n_boot: int = 500, seed: int = 0,
    order: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """How well did raters agree in each calibration session?

    Per session (rows within the filters' dates, markets and policies; reference ratings excluded):
    date (first day; NaT for an undated round, listed whatever the date range), policy and market
    (comma-joined if several), items, raters, Fleiss' kappa (on the items with the modal number of
    ratings; nominal), Krippendorff's alpha at the level of measurement of the session's own labels
    (nominal for names, ordinal in `order` or for whole numbers on a short scale, interval for scores;
    missing ratings allowed) with a 95% percentile bootstrap interval over items (seeded), that level, and
    percent agreement (share of agreeing rater pairs
    per item, averaged). Sorted by date (undated last), then session."""
    df = _agreement_table(con, filters, ["session_id"], n_boot, seed, order)
    if df.empty:
        return _empty(SESSION_COLUMNS)
    return df.sort_values(["date", "session_id"], kind="stable", na_position="last").reset_index(
        drop=True)[SESSION_COLUMNS]


def _alpha_at_levels(
    con: duckdb.DuckDBPyConnection, df: pd.DataFrame, long: pd.DataFrame, new_group: np.ndarray, keys: list[str],
    order: tuple[str, ...] | None, n_boot: int, seed: int,
) -> pd.DataFrame:
    """Each group's level of measurement from its own labels, and its alpha recomputed at that level where
    it is ordinal or interval (one group at a time: the grouped bootstrap is nominal only). `long` is
    ordered by group; `new_group` marks each group's first row."""
    # A group's level depends only on which labels it has, and hundreds of sessions share a few label
    # sets: read each set once (a frame and a pandas assignment per group cost 2 ms each at 742 sessions).
    group = np.cumsum(new_group) - 1
    code, names = pd.factorize(long["label"])  # a missing label is -1: the spare last column, not read
    has = np.zeros((int(group[-1]) + 1, len(names) + 1), dtype=bool)
    has[group, code] = True
    label_sets, which = np.unique(has[:, :-1], axis=0, return_inverse=True)
    choices = [_level_of_labels(sorted(names[row], key=str), order) for row in label_sets]
    level_of = long.loc[new_group, keys].reset_index(drop=True)
    level_of["label_set"] = which.ravel()
    out = df.merge(level_of, on=keys, how="left")
    out["level"] = [choices[k].level for k in out["label_set"]]
    for i, row in out[out["level"] != "nominal"].iterrows():
        policy = row["policy"] if "policy" in keys and row["policy"] != NO_POLICY else None
        choice = choices[int(row["label_set"])]
        alpha = _session_alpha(_session_rows(con, str(row["session_id"]), policy), choice, n_boot, seed)
        out.loc[i, ["alpha", "alpha_low", "alpha_high"]] = [alpha.alpha.estimate, alpha.alpha.low, alpha.alpha.high]
    return out.drop(columns="label_set")


def _session_alpha(rows: pd.DataFrame, choice: LevelChoice, n_boot: int, seed: int) -> Alpha:
    raters = rows[~rows["is_reference"]]
    table = raters.pivot_table(index="rater_id", columns="item_id", values="label", aggfunc="first")
    order = choice.categories if choice.level == "ordinal" else None
    return krippendorff_alpha(table.to_numpy(dtype=object), level=choice.level, order=order, n_boot=n_boot,
                              seed=seed)


def agreement_by_policy(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, n_boot: int = 500, seed: int = 0,
    order: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Is agreement on each policy improving over time? One row per policy x session, in date order,
    with the same statistics as `sessions` computed on that policy's items only.
    Columns: policy, date, session_id, items, raters, fleiss_kappa, alpha, alpha_low, alpha_high,
    percent_agreement."""
    df = _agreement_table(con, filters, ["session_id", "policy"], n_boot, seed, order)
    if df.empty:
        return _empty(BY_POLICY_COLUMNS)
    return df.sort_values(["policy", "date", "session_id"], na_position="last", kind="stable").reset_index(
        drop=True
    )[BY_POLICY_COLUMNS]


@dataclass(frozen=True)
class SessionAgreement:
    """Agreement in one calibration session (reference ratings excluded from the statistics).

    fleiss: Fleiss' kappa (nominal) on the `fleiss_items` items that have the modal number of ratings
    (`fleiss_raters`), with a bootstrap interval over those items. alpha: Krippendorff's alpha at the
    labels' `level` of measurement on all items, missing ratings allowed, bootstrap interval over items.
    raters: rater_id, items, agreement_with_reference, kappa_with_reference with its 95% interval
    (kappa_low, kappa_high; Cohen's, weighted linearly for ordered labels: `kappa_weights`).
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
    level: LevelChoice
    percent_agreement: float
    raters: pd.DataFrame
    disagreements: pd.DataFrame
    grid: pd.DataFrame


RATER_COLUMNS = ["rater_id", "items", "agreement_with_reference", "kappa_with_reference", "kappa_low", "kappa_high",
                 "kappa_weights"]
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
    order: tuple[str, ...] | None = None,
) -> SessionAgreement:
    """How well did raters agree in this session, who drifted from the expert answer, and which items
    split the room? (See SessionAgreement for the methods; `policy` restricts to one policy's items.)"""
    rows = _session_rows(con, session_id, policy)
    raters_rows = rows[~rows["is_reference"]]
    choice = _level_of(rows, order)
    if raters_rows.empty:
        return SessionAgreement(
            session_id, policy, 0, 0, Interval.missing(), 0, 0, Interval.missing(), choice, math.nan,
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
        alpha=_session_alpha(rows, choice, n_boot, seed).alpha if choice.level != "nominal"
        else bootstrap_agreement(counts, "alpha", n_boot=n_boot, seed=seed),
        level=choice,
        percent_agreement=percent_agreement(counts),
        raters=_rater_stats(grid, refs, choice),
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


def _level_of(rows: pd.DataFrame, order: tuple[str, ...] | None) -> LevelChoice:
    return _level_of_labels(rows["label"].tolist(), order)


def _level_of_labels(labels: list[object], order: tuple[str, ...] | None) -> LevelChoice:
    """The labels' level in `order`, or read from the labels when they are not all in it."""
    try:
        return measurement_level(labels, order)
    except ValueError:
        return measurement_level(labels)


def _rater_stats(grid: pd.DataFrame, refs: dict[str, str], choice: LevelChoice) -> pd.DataFrame:
    """Each rater against the expert answer, on the items that have one: share matching and Cohen's kappa
    with its interval (linear weights when the labels are ordered: a near miss counts partly)."""
    weights: Weights = "none" if choice.level == "nominal" else "linear"
    order = list(choice.categories) if choice.level != "nominal" else None
    rows = []
    for rater, mine in grid.groupby("rater_id", sort=True):
        judged = mine[mine["matches_reference"].notna()]
        kappa = cohen_kappa(list(judged["label"]), [refs[str(i)] for i in judged["item_id"]], weights=weights,
                            order=order)
        rows.append({
            "rater_id": rater,
            "items": len(mine),
            "agreement_with_reference": float(judged["matches_reference"].astype(bool).mean())
            if len(judged) else math.nan,
            "kappa_with_reference": kappa.kappa.estimate, "kappa_low": kappa.kappa.low,
            "kappa_high": kappa.kappa.high, "kappa_weights": weights,
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
    floats = {"agreement_with_reference", "kappa_with_reference", "kappa_low", "kappa_high", "majority_share",
              "entropy"}
    ints = {"items", "ratings", "distinct_labels"}

    def dtype(c: str) -> str:
        if c in floats:
            return "float64"
        if c in ints:
            return "int64"
        return "boolean" if c == "matches_reference" else "object"

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in columns})


def pairwise_agreement(
    con: duckdb.DuckDBPyConnection, session_id: str, *, order: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """How far does each pair of raters agree in a session, beyond chance? Cohen's kappa with its interval
    on the items both labelled (weighted linearly for ordered labels); columns of
    metrics.agreement.PAIRWISE_COLUMNS."""
    rows = _session_rows(con, session_id, None)
    raters = rows[~rows["is_reference"]]
    table = raters.pivot_table(index="item_id", columns="rater_id", values="label", aggfunc="first")
    choice = _level_of(rows, order)
    weights: Weights = "none" if choice.level == "nominal" else "linear"
    return pairwise_kappa(table.astype(object).where(table.notna(), None), weights=weights,
                          order=list(choice.categories) if choice.level != "nominal" else None)
