"""QA auditor severity ("grade the grader"): does an auditor fail moderators more or less often than their
colleagues do on the same work, and do two auditors who judge the same decision agree?

Severity is measured by indirect standardisation (Breslow & Day 1987, vol. II, ch. 2): each auditor's
audits are split into strata of comparable work (market x policy x ISO week), and their expected fails are
what the OTHER auditors' fail rate in each stratum gives on the auditor's own audits. Observed minus
expected, per audit, is how many points more (or less) often they fail moderators than colleagues would
have on the same work. Agreement is Cohen's kappa (metrics.agreement) on the verdicts (pass or fail) of
decisions audited twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics.agreement import Kappa, kappa_from_table, kappas
from metrics.filters import Filters, resolved_with
from metrics.rates import add_rate_columns
from metrics.stats import benjamini_hochberg, beta_binomial_strength, shrink

Z95 = float(sps.norm.ppf(0.975))

SEVERITY_COLUMNS = [
    "reviewer_id", "moderators", "audits", "fails", "fail_rate", "fail_low", "fail_high",
    "comparable_audits", "comparable_fails", "colleagues", "observed_rate", "expected_rate",
    "difference", "difference_low", "difference_high", "z", "p_value", "q_value",
    "shrunk_rate", "shrunk_low", "shrunk_high", "severity", "enough_data", "flagged",
]  # fmt: skip

_INTS = {"moderators", "audits", "fails", "comparable_audits", "comparable_fails", "colleagues"}


@dataclass(frozen=True)
class AuditorRules:
    """How auditors are judged: the fewest audits on work colleagues also audited, and the FDR."""

    min_audits: int = 100
    fdr: float = 0.05


def _audits(filters: Filters) -> tuple[str, list[object]]:
    """QA audits with an auditor under the filters (the source is always qa_audit here), `a`, read by
    several parts of one query."""
    return resolved_with(filters, "qa_audit", "reviewer_id", "a", shared=True)


def _strata(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """One row per auditor x market x policy x ISO week: their audits and fails, in a fixed order (the
    sums over them, and the shrinkage fitted on those, then come out the same on every run); beside them
    `moderators`, how many moderators the auditor audited over all their strata (the same on each of the
    auditor's rows). Both from one read of the filtered audits: a second query for the moderators read and
    joined the 7.7M audits of 10M decisions again."""
    cte, params = _audits(filters)
    return con.execute(
        f"""{cte},
        s AS (SELECT reviewer_id, market, policy, CAST(date_trunc('week', date) AS DATE) AS week,
                     count(*) AS audits, count(*) FILTER (WHERE NOT correct) AS fails
              FROM a GROUP BY ALL),
        m AS (SELECT reviewer_id, count(DISTINCT trainee_id) AS moderators FROM a GROUP BY 1)
        SELECT s.*, m.moderators FROM s JOIN m USING (reviewer_id) ORDER BY reviewer_id, market, policy, week""",
        params,
    ).df()


STRATUM = ["market", "policy", "week"]


@dataclass(frozen=True)
class _Coded:
    """The strata with integer codes, made once per call: the comparison runs again for each round of
    auditors leaving the reference, and grouping 0.8M strata by their text keys took about 2 s a round at
    10M decisions (busy 2-core machine). Codes only name groups; sums run over the rows in the strata's
    order, as before."""

    strata: pd.DataFrame
    auditors: np.ndarray  # reviewer ids in id order; an auditor's code is its position here
    who: np.ndarray  # each row's auditor code
    stratum: np.ndarray  # each row's stratum (market x policy x week) code
    markets: np.ndarray  # auditors x markets: True where the auditor has strata


def _coded(strata: pd.DataFrame) -> _Coded:
    """The strata of `_strata` (or any frame with its columns) coded for `_standardised`."""
    who, auditors = pd.factorize(strata["reviewer_id"], sort=True)
    market, markets = pd.factorize(strata["market"])
    parts = [market] + [pd.factorize(strata[c])[0] for c in STRATUM[1:]]
    stratum = pd.factorize(np.ravel_multi_index(parts, [int(p.max()) + 1 for p in parts]))[0]
    seen = np.zeros((len(auditors), len(markets)), dtype=bool)
    seen[who, market] = True
    return _Coded(strata, np.asarray(auditors, dtype=object), who, stratum, seen)


def _standardised(coded: _Coded, left_out: set[str]) -> pd.DataFrame:
    """Per auditor, over the strata where at least one colleague (another auditor not `left_out`) also
    audited: observed fails, expected fails, the variance of their difference, and how many colleagues
    in their markets the comparison rests on.

    Expected fails in a stratum: the auditor's audits times the colleagues' fail rate there. The variance
    adds the binomial variance of the auditor's fails and of that expectation (n^2 f (1 - f) / m for m
    colleague audits), each at the stratum's pooled fail rate f: one auditor's rate in a stratum, from a
    handful of audits, is too often 0 or 1 to plug in."""
    reference = ~np.isin(coded.auditors, list(left_out))
    audits, fails = coded.strata["audits"].to_numpy(), coded.strata["fails"].to_numpy()
    row_ref = reference[coded.who]
    own_m, own_f = np.where(row_ref, audits, 0), np.where(row_ref, fails, 0)
    # Counts summed as floats are exact (far below 2^53); colleagues only: the auditor's own taken back out.
    m = np.bincount(coded.stratum, weights=own_m)[coded.stratum] - own_m
    f = np.bincount(coded.stratum, weights=own_f)[coded.stratum] - own_f
    keep = m > 0
    n, m, f, x = audits[keep].astype(float), m[keep], f[keep], fails[keep]
    pooled = (x + f) / (n + m)
    parts = pd.DataFrame({
        "who": coded.who[keep], "comparable_audits": audits[keep], "comparable_fails": x,
        "expected": n * f / m, "variance": pooled * (1 - pooled) * (n + n * n / m),
    })  # fmt: skip
    out = parts.groupby("who").sum()  # pandas' sums, in row order: the floats come out as they did before
    colleagues = _colleagues(coded.markets, reference)
    return pd.DataFrame({"reviewer_id": coded.auditors[out.index], **{c: out[c].to_numpy() for c in out.columns},
                         "colleagues": colleagues[out.index]})


def _colleagues(markets: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per auditor, how many reference auditors other than themselves have strata in one of their markets.
    Counted over the distinct sets of markets (a few), not over pairs of auditors in a market (about a
    million at 10M decisions)."""
    sets, set_of = np.unique(markets, axis=0, return_inverse=True)
    ref_sets, ref_counts = np.unique(markets[reference], axis=0, return_counts=True)
    meets = (sets.astype(float) @ ref_sets.T.astype(float)) > 0  # the two sets share a market
    return (meets.astype(np.int64) @ ref_counts)[set_of.reshape(-1)] - reference


def auditor_severity(
    con: duckdb.DuckDBPyConnection, filters: Filters, rules: AuditorRules = AuditorRules()
) -> pd.DataFrame:
    """Which QA auditors fail moderators more, or less, often than their colleagues on the same work?
    One row per `reviewer_id` of QA audits under the filters, columns SEVERITY_COLUMNS.

    `audits`, `fails`, the fail rate with its Wilson interval (`fail_rate`, `fail_low`, `fail_high`);
    `moderators` audited. Over the `comparable_audits` (market x policy x ISO-week strata in which at
    least one colleague also audited): `observed_rate`, `expected_rate` (indirect standardisation: the
    colleagues' fail rate in each stratum, weighted by the auditor's audits there) and `difference` =
    observed - expected, with a 95% Wald interval and a two-sided z-test (`z`, `p_value`; variance as in
    `_standardised`); `q_value`, Benjamini-Hochberg over the auditors with enough data.

    One lenient auditor lowers every colleague's expected rate by its own difference divided by the number
    of colleagues, and in a small team the others would read strict. So flagged auditors leave the
    references one at a time, the most significant first (one per market, as strata never span markets),
    and the comparison is run again until no new auditor is flagged; the last run is reported. Each
    auditor is always compared with colleagues still in the reference, never with themselves.
    `colleagues`: how many reference auditors in the same markets the comparison rests on.

    `shrunk_rate`: the comparable fail rate shrunk towards the expected rate under a Beta prior centred
    on it, its weight fitted across the auditors with enough data (metrics.stats.beta_binomial_strength),
    with its 95% credible interval; `severity` = shrunk_rate - expected_rate, the figure to rank by.

    `enough_data`: at least `rules.min_audits` comparable audits; `flagged`: enough data and q < FDR
    (positive difference: stricter than colleagues, so quality from their audits reads low; negative:
    more lenient, quality reads high). Sorted: auditors with enough data by severity, strictest first;
    then the rest by id."""
    strata = _strata(con, filters)
    if strata.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in _INTS else "bool" if c in ("enough_data", "flagged")
                                          else "object" if c == "reviewer_id" else "float64")
                             for c in SEVERITY_COLUMNS})
    coded = _coded(strata)
    totals = pd.DataFrame({
        "reviewer_id": coded.auditors,
        "audits": np.bincount(coded.who, weights=strata["audits"].to_numpy()).astype("int64"),
        "fails": np.bincount(coded.who, weights=strata["fails"].to_numpy()).astype("int64"),
    })  # fmt: skip
    base = add_rate_columns(totals, correct="fails", reviewed="audits", prefix="fail_")
    moderators = np.zeros(len(coded.auditors), dtype="int64")
    moderators[coded.who] = strata["moderators"].to_numpy()  # the same on each of an auditor's rows
    base["moderators"] = moderators
    home = _home_market(strata)
    left_out: set[str] = set()
    while True:
        judged = _judged(base.merge(_standardised(coded, left_out), on="reviewer_id", how="left"), rules)
        fresh = judged[judged["flagged"] & ~judged["reviewer_id"].isin(left_out)]
        if fresh.empty:
            return judged
        # Strata are within a market, so each market's most significant new outlier leaves at once.
        fresh = fresh.assign(market=fresh["reviewer_id"].map(home)).sort_values(["p_value", "reviewer_id"])
        left_out |= set(fresh.drop_duplicates("market")["reviewer_id"])


def _home_market(strata: pd.DataFrame) -> pd.Series:
    """Each auditor's market with the most strata (ties: the first by name), by reviewer_id. Sorted
    counts rather than a mode per auditor: 2,800 auditors at 10M decisions took seconds that way."""
    counts = strata.groupby(["reviewer_id", "market"]).size().rename("n").reset_index()
    top = counts.sort_values(["reviewer_id", "n", "market"], ascending=[True, False, True], kind="stable")
    return top.drop_duplicates("reviewer_id").set_index("reviewer_id")["market"]


def _judged(df: pd.DataFrame, rules: AuditorRules) -> pd.DataFrame:
    df = df.copy()
    for column in ("comparable_audits", "comparable_fails", "colleagues"):
        df[column] = df[column].fillna(0).astype("int64")
    n = df["comparable_audits"].where(df["comparable_audits"] > 0)
    df["observed_rate"] = df["comparable_fails"] / n
    df["expected_rate"] = df["expected"] / n
    df["difference"] = df["observed_rate"] - df["expected_rate"]
    se = np.sqrt(df["variance"]) / n
    df["difference_low"], df["difference_high"] = df["difference"] - Z95 * se, df["difference"] + Z95 * se
    with np.errstate(divide="ignore", invalid="ignore"):
        df["z"] = np.where(se > 0, df["difference"] / se, np.nan)
    df["p_value"] = 2 * sps.norm.sf(np.abs(df["z"]))
    df["enough_data"] = df["comparable_audits"] >= rules.min_audits
    df["q_value"] = benjamini_hochberg(df["p_value"].where(df["enough_data"]).to_numpy())
    df["flagged"] = df["enough_data"] & (df["q_value"] < rules.fdr)
    judged = df["enough_data"].to_numpy()
    strength = beta_binomial_strength(df.loc[judged, "comparable_fails"], df.loc[judged, "comparable_audits"],
                                      df.loc[judged, "expected_rate"])
    if math.isnan(strength):
        strength = 2.0  # no auditor to fit it on: the weight of two audits, as beta_binomial_prior's "pooled"
    post = shrink(df["comparable_fails"], df["comparable_audits"], df["expected_rate"].fillna(0.5), strength)
    measured = df["comparable_audits"] > 0
    df["shrunk_rate"] = np.where(measured, post.estimate, np.nan)
    df["shrunk_low"] = np.where(measured, post.low, np.nan)
    df["shrunk_high"] = np.where(measured, post.high, np.nan)
    df["severity"] = df["shrunk_rate"] - df["expected_rate"]
    order = df.assign(_thin=~df["enough_data"], _key=np.where(df["enough_data"], -df["severity"], 0.0))
    order = order.sort_values(["_thin", "_key", "reviewer_id"], kind="stable")
    return order.reset_index(drop=True)[SEVERITY_COLUMNS]


# ------------------------------------------------------------------------------- auditor to auditor


@dataclass(frozen=True)
class AuditorAgreement:
    """Agreement on decisions audited by two auditors: the same `item_id` and `trainee_id`, different
    `reviewer_id`. Verdicts are pass (correct) or fail.

    overall: Cohen's kappa over every such pair of audits, the earlier audit (by date, then decision id)
    as the first rater; `pairs` and `moderators` behind it.
    by_auditor: reviewer_id, shared (pairs), moderators, agreement (share of pairs agreeing), kappa, low,
    high: each auditor's verdicts against their colleagues' on the same decisions. (Per pair of auditors,
    blind double audits are too few to say much: 340 decisions over 31 pairs in the sample.)"""

    overall: Kappa
    pairs: int
    moderators: int
    by_auditor: pd.DataFrame


AGREEMENT_COLUMNS = ["shared", "moderators", "agreement", "kappa", "low", "high"]


def double_audits(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Pairs of audits of the same decision (item_id and trainee_id) by two different auditors, the earlier
    one first: trainee_id, first, second (auditor ids), first_pass, second_pass (their verdicts)."""
    # `audited_twice` holds every audit of a decision that two or more auditors judged (built at import,
    # data_sources/rollups.py): the same pairs as all QA audits give under any filter, from a few percent
    # of the rows (10M decisions: 0.18M rows, against 7.7M audits to group first).
    cte, params = resolved_with(filters, "qa_audit", "reviewer_id", "a", relation="audited_twice")
    return con.execute(
        f"""{cte},
        o AS (SELECT *, row_number() OVER (ORDER BY date, decision_id, reviewer_id) AS seq
              FROM a WHERE item_id IS NOT NULL)
        SELECT x.trainee_id, x.reviewer_id AS first, y.reviewer_id AS second, x.correct AS first_pass,
               y.correct AS second_pass
        FROM o x JOIN o y ON x.item_id = y.item_id AND x.trainee_id = y.trainee_id
                          AND x.reviewer_id <> y.reviewer_id AND x.seq < y.seq
        ORDER BY x.seq, y.seq""",
        params,
    ).df()


def _verdict_table(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, tuple[bool, ...]]:
    """The pass/fail table of two raters over the verdicts either gave (fail before pass, as
    metrics.agreement orders names), for Cohen's kappa."""
    used = tuple(v for v in (False, True) if (first == v).any() or (second == v).any())
    table = np.array([[np.sum((first == a) & (second == b)) for b in used] for a in used], dtype=float)
    return table.reshape(len(used), len(used)), used


def _by_auditor(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each auditor's verdicts beside the colleague's on the same decisions, whichever audited first:
    pairs, moderators, share agreeing, and Cohen's kappa of the 2 x 2 pass/fail table, all auditors at once
    (counted with bincount over auditor codes: a pandas crosstab of 0.2M rows took longer than the query)."""
    if pairs.empty:
        return pd.DataFrame(columns=["reviewer_id", *AGREEMENT_COLUMNS])
    who = np.concatenate([pairs["first"].to_numpy(object), pairs["second"].to_numpy(object)])
    own = np.concatenate([pairs["first_pass"].to_numpy(bool), pairs["second_pass"].to_numpy(bool)])
    other = np.concatenate([pairs["second_pass"].to_numpy(bool), pairs["first_pass"].to_numpy(bool)])
    moderator = np.tile(pd.factorize(pairs["trainee_id"])[0], 2)
    code, auditors = pd.factorize(who, sort=True)
    m = len(auditors)
    shared = np.bincount(code, minlength=m)
    # Cells in table order: fail/fail, fail/pass, pass/fail, pass/pass (own verdict first).
    tables = np.bincount(code * 4 + own * 2 + other, minlength=4 * m).reshape(m, 2, 2)
    k = kappas(tables)
    seen = pd.unique(code.astype(np.int64) * (moderator.max(initial=0) + 1) + moderator)
    moderators = np.bincount(seen // (moderator.max(initial=0) + 1), minlength=m)
    return pd.DataFrame({
        "reviewer_id": np.asarray(auditors, dtype=object), "shared": shared, "moderators": moderators,
        "agreement": np.bincount(code, weights=own == other, minlength=m) / shared,
        "kappa": k["kappa"].to_numpy(), "low": k["low"].to_numpy(), "high": k["high"].to_numpy(),
    })  # fmt: skip


def auditor_agreement(con: duckdb.DuckDBPyConnection, filters: Filters) -> AuditorAgreement:
    """Where two auditors judged the same decision, how often do their verdicts agree beyond chance?
    Cohen's kappa with its large-sample interval (metrics.agreement), overall and per auditor against
    colleagues. No decision audited twice: nan with no rows."""
    pairs = double_audits(con, filters)
    table, used = _verdict_table(pairs["first_pass"].to_numpy(bool), pairs["second_pass"].to_numpy(bool))
    overall = kappa_from_table(table, categories=used)
    return AuditorAgreement(overall, len(pairs), int(pairs["trainee_id"].nunique()), _by_auditor(pairs))
