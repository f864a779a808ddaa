"""Weak spots: market x policy cells doing worse than the same policy elsewhere, and what goes wrong there.

The map reads the rollup `decision_daily`; the drill-down (`cell_detail`) also reads `decision_confusions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from metrics import words
from metrics.filters import Filters, Source, where
from metrics.rates import RATE_COLUMNS, add_rate_columns, lead_measure, reviews_table, trainee_join
from metrics.stats import benjamini_hochberg, beta_binomial_prior, shrink, two_proportion_test

WEAK_SPOT_COLUMNS = [
    "market", "policy", "source", "trainees", *RATE_COLUMNS,
    "other_reviewed", "other_correct", "policy_level",
    "shrunk_rate", "shrunk_low", "shrunk_high", "gap",
    "difference", "z", "p_value", "q_value",
    "enough_data", "testable", "flagged", "avoidable_errors",
]  # fmt: skip

_DTYPES = {"market": "object", "policy": "object", "source": "object", "trainees": "int64", "reviewed": "int64",
           "correct": "int64", "other_reviewed": "int64", "other_correct": "int64",
           "enough_data": "bool", "testable": "bool", "flagged": "bool"}  # fmt: skip


def _source(con: duckdb.DuckDBPyConnection, filters: Filters) -> Source:
    """filters.source, else the measure with the most reviews (metrics.rates.lead_measure)."""
    return filters.source or lead_measure(con, filters) or "golden_set"


def _empty_weak_spots() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "float64")) for c in WEAK_SPOT_COLUMNS})


def weak_spots(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, min_reviewed: int = 30, fdr: float = 0.05,
    visible_markets: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Which market x policy cells are worse than the same policy in the other markets?

    The measure is filters.source, else the one with the most reviews (a QA-only team gets quality).
    Each cell is compared with the same policy in every OTHER market the person may see (`visible_markets`,
    empty: all), whatever markets the filters pick, so one market selected still has a comparison; the
    rows returned are the filters' markets. Per cell: trainees behind it; the rate with its Wilson
    interval; `policy_level`, the policy's pooled rate in the other markets; an empirical-Bayes rate
    (beta-binomial prior fitted by maximum likelihood per policy across its market cells; posterior mean
    `shrunk_rate` and 95% credible interval `shrunk_low`/`shrunk_high`) and `gap` = shrunk_rate -
    policy_level; a two-proportion z-test of the cell against the other markets (`difference`, `z`,
    `p_value`); `enough_data` (reviewed >= min_reviewed); `testable` (enough data and another market to
    compare with); Benjamini-Hochberg `q_value` over the testable cells only (a cell too small to judge
    must not change the others' q-values); `flagged` (testable, q < fdr and gap < 0); `avoidable_errors`
    = max(0, (policy_level - rate) * reviewed), the errors saved if the cell reached its policy's level.

    Sorted flagged first by avoidable errors, then the rest by gap (worst first)."""
    source = _source(con, filters)
    df = _cells(con, filters.with_(source=source, markets=visible_markets))
    if df.empty:
        return _empty_weak_spots()
    df = add_rate_columns(df)
    df["source"] = source
    totals = df.groupby("policy")[["reviewed", "correct"]].transform("sum")
    df["other_reviewed"] = (totals["reviewed"] - df["reviewed"]).astype("int64")
    df["other_correct"] = (totals["correct"] - df["correct"]).astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        df["policy_level"] = np.where(df["other_reviewed"] > 0, df["other_correct"] / df["other_reviewed"], np.nan)
    _add_shrunk(df)
    if filters.markets:
        df = df[df["market"].isin(filters.markets)].reset_index(drop=True)
    if df.empty:
        return _empty_weak_spots()
    _add_tests(df, min_reviewed, fdr)
    flagged = df[df["flagged"]].sort_values(
        ["avoidable_errors", "gap", "market", "policy"], ascending=[False, True, True, True], kind="stable"
    )
    rest = df[~df["flagged"]].sort_values(["gap", "market", "policy"], na_position="last", kind="stable")
    return pd.concat([flagged, rest]).reset_index(drop=True)[WEAK_SPOT_COLUMNS]


def _cells(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Reviews, correct answers and trainees per market x policy under the filters."""
    table, by_date = reviews_table(con, filters)
    w = where(filters, dates=by_date)
    # Per trainee first, then per cell: a count of rows, cheaper than count(DISTINCT) over the rollup's rows.
    return con.execute(
        f"""SELECT market, policy, count(*) AS trainees, sum(reviewed) AS reviewed, sum(correct) AS correct
            FROM (SELECT d.market, d.policy, d.trainee_id, sum(d.reviewed) AS reviewed, sum(d.correct) AS correct
                  FROM {table} d {trainee_join(filters)}
                  WHERE {w.sql} GROUP BY 1, 2, 3)
            GROUP BY 1, 2 HAVING sum(reviewed) > 0
            ORDER BY 1, 2""",  # the priors' fits see the cells in one order, whichever table answered
        w.params,
    ).df()


def _add_shrunk(df: pd.DataFrame) -> None:
    """Each cell's rate shrunk towards its policy's level across markets (one prior per policy)."""
    shrunk_rate, shrunk_low, shrunk_high = np.empty(len(df)), np.empty(len(df)), np.empty(len(df))
    for _, idx in df.groupby("policy").indices.items():
        cells = df.iloc[idx]
        prior = beta_binomial_prior(cells["correct"].to_numpy(), cells["reviewed"].to_numpy())
        post = shrink(cells["correct"].to_numpy(), cells["reviewed"].to_numpy(), prior.mean, prior.strength)
        shrunk_rate[idx], shrunk_low[idx], shrunk_high[idx] = post.estimate, post.low, post.high
    df["shrunk_rate"], df["shrunk_low"], df["shrunk_high"] = shrunk_rate, shrunk_low, shrunk_high
    df["gap"] = df["shrunk_rate"] - df["policy_level"]


def _add_tests(df: pd.DataFrame, min_reviewed: int, fdr: float) -> None:
    """The z-test of each cell against its policy elsewhere, and Benjamini-Hochberg over testable cells."""
    tests = [
        two_proportion_test(int(c), int(n), int(oc), int(on))
        for c, n, oc, on in zip(df["correct"], df["reviewed"], df["other_correct"], df["other_reviewed"], strict=True)
    ]
    df["difference"] = [t.difference for t in tests]
    df["z"] = [t.z for t in tests]
    df["p_value"] = [t.p_value for t in tests]
    df["enough_data"] = df["reviewed"] >= min_reviewed
    df["testable"] = df["enough_data"] & (df["other_reviewed"] > 0)
    df["q_value"] = benjamini_hochberg(df["p_value"].where(df["testable"]).to_numpy())
    df["flagged"] = df["testable"] & (df["q_value"] < fdr) & (df["gap"] < 0)
    df["avoidable_errors"] = ((df["policy_level"] - df["rate"]) * df["reviewed"]).clip(lower=0).fillna(0.0)


@dataclass(frozen=True)
class CellDetail:
    """What goes wrong in one market x policy cell.

    confusions: expected_label, given_label, n, share (of the cell's errors that carry both labels);
    error_types: error_type, n, share (of the cell's errors that carry an error type);
    trend: week (ISO Monday), reviewed, correct, rate, low, high."""

    market: str
    policy: str
    source: Source
    confusions: pd.DataFrame
    error_types: pd.DataFrame
    trend: pd.DataFrame


def cell_detail(con: duckdb.DuckDBPyConnection, filters: Filters, market: str, policy: str) -> CellDetail:
    """What are the errors in this market x policy cell, and how has it moved week by week?

    Confusions and error types count wrong decisions from the rollup `decision_confusions` (which holds
    the cohort, so the sidebar's filters apply); the trend sums the daily rollup. Same measure rule as
    weak_spots (filters.source, else the one with the most reviews)."""
    source = _source(con, filters)
    cell = filters.with_(source=source, markets=(market,), policies=(policy,))
    w = where(cell, alias="r", trainee_alias="r")

    def errors(cols: str, condition: str, group: str) -> pd.DataFrame:
        # cols, condition and group are literals below; the filter condition comes from where().
        sql = f"SELECT {cols} FROM decision_confusions r WHERE {w.sql} AND {condition} GROUP BY {group}"
        return con.execute(sql, w.params).df()

    confusions = errors(
        "r.expected_label, r.given_label, sum(r.errors) AS n",
        "r.expected_label IS NOT NULL AND r.given_label IS NOT NULL",
        "1, 2",
    )
    error_types = errors("r.error_type, sum(r.errors) AS n", "r.error_type IS NOT NULL", "1")
    wd = where(cell)
    trend = con.execute(
        f"""SELECT CAST(date_trunc('week', d.date) AS DATE) AS week, sum(d.reviewed) AS reviewed,
                   sum(d.correct) AS correct
            FROM decision_daily d {trainee_join(filters)}
            WHERE {wd.sql} GROUP BY 1 ORDER BY 1""",
        wd.params,
    ).df()
    return CellDetail(
        market=market,
        policy=policy,
        source=source,
        confusions=_shares(confusions, ["expected_label", "given_label"]),
        error_types=_shares(error_types, ["error_type"]),
        trend=add_rate_columns(trend)[["week", *RATE_COLUMNS]] if not trend.empty else _empty_trend(),
    )


def _shares(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame({**{k: pd.Series(dtype="object") for k in keys},
                             "n": pd.Series(dtype="int64"), "share": pd.Series(dtype="float64")})  # fmt: skip
    df = df.assign(n=df["n"].astype("int64"))
    df["share"] = df["n"] / df["n"].sum()
    return df.sort_values(["n", *keys], ascending=[False] + [True] * len(keys)).reset_index(drop=True)


def _empty_trend() -> pd.DataFrame:
    return pd.DataFrame({"week": pd.Series(dtype="datetime64[us]"), "reviewed": pd.Series(dtype="int64"),
                         "correct": pd.Series(dtype="int64"), "rate": pd.Series(dtype="float64"),
                         "low": pd.Series(dtype="float64"), "high": pd.Series(dtype="float64")})  # fmt: skip




def suggested_refresher(row: pd.Series, detail: CellDetail | None = None, *, fdr: float = 0.05) -> str:
    """One line a trainer can paste into an RCA ticket, from a `weak_spots` row (and, for the top
    confusion, its `cell_detail`). Says plainly when the cell is not flagged and why."""
    measure = "quality" if row["source"] == "qa_audit" else "accuracy"
    cell = f"{row['market']} x {row['policy']}"
    figures = (f"{measure} {words.pct(row['rate'], 0)} (95% CI {words.pct(row['low'], 0)}–"
               f"{words.pct(row['high'], 0)}, n={int(row['reviewed'])})")
    if not math.isnan(row["policy_level"]):
        figures += f" vs {words.pct(row['policy_level'], 0)} in other markets"
    confusion = ""
    if detail is not None and not detail.confusions.empty:
        top = detail.confusions.iloc[0]
        confusion = (f"; top confusion: {top['expected_label']} → {top['given_label']} "
                     f"({words.pct(top['share'], 0)})")
    fdr_text = f"Benjamini-Hochberg at {fdr * 100:g}%"
    if bool(row["flagged"]):
        return f"Refresher suggested: {cell} — {figures}{confusion}. Flagged after {fdr_text}."
    if not bool(row["enough_data"]):
        reason = "too few reviews to judge yet"
    elif not bool(row["testable"]):
        reason = "no other market to compare with"
    elif row["gap"] >= 0:
        reason = "not below the policy's level in other markets"
    else:
        reason = f"not significant after {fdr_text} (q = {row['q_value']:.2f})"
    return f"No refresher suggested: {cell} — {figures}{confusion}; {reason}."
