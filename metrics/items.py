"""Golden-set item health: which golden-set items to review, because their key is probably wrong or the
case is ambiguous, or because they are too easy to tell anyone apart.

Classical item analysis (Crocker & Algina 1986, ch. 14) on golden-set decisions, one item per `item_id`:
difficulty (the share answering with the key), discrimination (do moderators who are strong elsewhere get
it right more often than weak ones?) and the distractor (the most common other answer). Assessment
questions are not covered: the data contract's `assessments` hold one score per attempt, not answers per
question.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats as sps

from metrics.filters import Filters, resolved_with
from metrics.rates import add_rate_columns
from metrics.stats import benjamini_hochberg, beta_binomial_prior, shrink

# Kelley (1939): the upper and lower 27% of examinees by score make the most sensitive extreme groups.
KELLEY_SHARE = 0.27
# Item-total correlations under 0.20 are conventionally read as poor discrimination (Ebel & Frisbie 1991
# give the same floor for the upper-lower index).
POOR_DISCRIMINATION = 0.20
# "Too easy": we are 95% sure at least this share of moderators get it right (the Wilson lower bound).
EASY_FLOOR = 0.90

ITEM_COLUMNS = [
    "item_id", "policy", "key", "moderators", "attempts", "correct", "rate", "low", "high",
    "policy_level", "shrunk_rate", "shrunk_low", "shrunk_high",
    "discrimination", "rated_moderators", "upper_rate", "lower_rate", "upper_lower",
    "distractor", "distractor_share", "p_value", "q_value",
    "enough_data", "mislabelled", "too_easy", "flagged",
]  # fmt: skip

_INTS = {"moderators", "attempts", "correct", "rated_moderators"}
_BOOLS = {"enough_data", "mislabelled", "too_easy", "flagged"}
_TEXT = {"item_id", "policy", "key", "distractor"}


@dataclass(frozen=True)
class ItemRules:
    """How items are judged: the minimum attempts to test or rank one, the false-discovery rate, and the
    fewest other golden-set decisions that make a moderator's accuracy elsewhere worth using."""

    min_attempts: int = 30
    fdr: float = 0.05
    min_other: int = 5


def _empty() -> pd.DataFrame:
    def dtype(c: str) -> str:
        return "int64" if c in _INTS else "bool" if c in _BOOLS else "object" if c in _TEXT else "float64"

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in ITEM_COLUMNS})


def _golden(filters: Filters) -> tuple[str, list[object]]:
    """The golden-set decisions with an item id under the filters (source is always golden_set here), `g`,
    read by several parts of one query."""
    return resolved_with(filters, "golden_set", "item_id", "g", shared=True)


def _items(con: duckdb.DuckDBPyConnection, filters: Filters, min_other: int) -> pd.DataFrame:
    """Per item, in one read of the filtered decisions: policy and key (the modal ones), moderators, attempts,
    correct; discrimination and Kelley's upper and lower rates; the distractor with its count.

    Counts come from the item x moderator sums the discrimination needs anyway (a moderator with attempts at
    an item is one row of them), so the decisions are read and grouped by item x moderator once, not once
    per figure (10M decisions: three reads and two groupings of 2.4M golden-set decisions before).

    A moderator's rest score is their share correct on their OTHER golden-set decisions under the same
    filters (every attempt at this item left out), kept when they have at least `min_other` of them. The
    correlation is Pearson's between each attempt (1 right, 0 wrong) and its moderator's rest score, from
    sums weighted by attempts; upper and lower groups are moderators ranked by rest score (ties broken by
    id), the top and bottom round(27%) of those with one, at least one each. The distractor is the most
    common answer other than the key (ties: the first label in text order)."""
    cte, params = _golden(filters)
    return con.execute(
        f"""{cte},
        mi AS (SELECT item_id, trainee_id, count(*) AS n, count(*) FILTER (WHERE correct) AS c FROM g GROUP BY 1, 2),
        keys AS (SELECT item_id, mode(policy) AS policy, mode(expected_label) AS key FROM g GROUP BY 1),
        wrong AS (SELECT item_id, given_label, count(*) AS n FROM g
                  WHERE NOT correct AND given_label IS NOT NULL GROUP BY 1, 2),
        top AS (SELECT item_id, given_label AS distractor, n AS distractor_n FROM wrong
                QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY n DESC, given_label) = 1),
        counts AS (SELECT item_id, count(*) AS moderators, CAST(sum(n) AS BIGINT) AS attempts,
                          CAST(sum(c) AS BIGINT) AS correct
                   FROM mi GROUP BY 1),
        m AS (SELECT trainee_id, CAST(sum(n) AS BIGINT) AS n, CAST(sum(c) AS BIGINT) AS c FROM mi GROUP BY 1),
        att AS (SELECT mi.item_id, mi.trainee_id, mi.n::DOUBLE AS n, mi.c::DOUBLE AS c,
                       (m.c - mi.c) / (m.n - mi.n) AS rest
                FROM mi JOIN m USING (trainee_id) WHERE m.n - mi.n >= ?),
        top_down AS (SELECT *, count(*) OVER (PARTITION BY item_id) AS mods,
                            row_number() OVER (PARTITION BY item_id ORDER BY rest DESC, trainee_id) AS from_top
                     FROM att),
        -- Ranked from the bottom by reversing the one sort: (rest, trainee_id) is unique within an item and
        -- rest is never NULL (x/0 is NaN or infinite, which sort as values), so the two orders mirror
        -- exactly; a second window sorted the 2.3M rows again at 10M decisions (0.4 of the query's time).
        ranked AS (SELECT *, mods + 1 - from_top AS from_bottom FROM top_down),
        sums AS (SELECT item_id, max(mods) AS rated_moderators, sum(n) AS sn, sum(c) AS sx, sum(n * rest) AS sr,
                        sum(n * rest * rest) AS srr, sum(c * rest) AS sxr,
                        sum(c) FILTER (WHERE from_top <= greatest(1, round(? * mods))) AS up_c,
                        sum(n) FILTER (WHERE from_top <= greatest(1, round(? * mods))) AS up_n,
                        sum(c) FILTER (WHERE from_bottom <= greatest(1, round(? * mods))) AS low_c,
                        sum(n) FILTER (WHERE from_bottom <= greatest(1, round(? * mods))) AS low_n
                 FROM ranked GROUP BY 1)
        SELECT item_id, k.policy, k.key, c.moderators, c.attempts, c.correct, s.rated_moderators,
               CASE WHEN (sn * sx - sx * sx) > 0 AND (sn * srr - sr * sr) > 1e-12
                    THEN (sn * sxr - sx * sr) / sqrt((sn * sx - sx * sx) * (sn * srr - sr * sr)) END AS discrimination,
               CASE WHEN rated_moderators >= 2 THEN up_c / up_n END AS upper_rate,
               CASE WHEN rated_moderators >= 2 THEN low_c / low_n END AS lower_rate,
               t.distractor, CAST(t.distractor_n AS DOUBLE) AS distractor_n
        FROM keys k JOIN counts c USING (item_id) LEFT JOIN sums s USING (item_id) LEFT JOIN top t USING (item_id)
        ORDER BY item_id""",
        [*params, min_other, KELLEY_SHARE, KELLEY_SHARE, KELLEY_SHARE, KELLEY_SHARE],
    ).df()


def _shrunk(df: pd.DataFrame) -> pd.DataFrame:
    """Share correct shrunk towards the policy's items: a beta-binomial prior per policy, fitted across its
    items by maximum likelihood (metrics.stats), and each item's posterior mean and 95% interval."""
    estimate, low, high = (np.full(len(df), np.nan) for _ in range(3))
    for _, idx in df.groupby("policy", dropna=False).indices.items():
        x, n = df["correct"].to_numpy()[idx], df["attempts"].to_numpy()[idx]
        prior = beta_binomial_prior(x, n)
        post = shrink(x, n, prior.mean, prior.strength)
        estimate[idx], low[idx], high[idx] = post.estimate, post.low, post.high
    return df.assign(shrunk_rate=estimate, shrunk_low=low, shrunk_high=high)


def _tested(df: pd.DataFrame, rules: ItemRules) -> pd.DataFrame:
    """The policy's level on its other items, the one-sided exact binomial test of the item against it
    (P(X <= correct) for X ~ Binomial(attempts, level); only items with enough attempts), BH q-values, flags."""
    totals = df.groupby("policy", dropna=False)[["attempts", "correct"]].transform("sum")
    other_n, other_c = totals["attempts"] - df["attempts"], totals["correct"] - df["correct"]
    out = df.assign(policy_level=np.where(other_n > 0, other_c / other_n.where(other_n > 0), np.nan))
    out["enough_data"] = out["attempts"] >= rules.min_attempts
    testable = out["enough_data"] & out["policy_level"].notna()
    level = out["policy_level"].where(testable, 0.5)  # a placeholder where there is no test, never used
    out["p_value"] = np.where(testable, sps.binom.cdf(out["correct"], out["attempts"], level), np.nan)
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    poor = out["discrimination"] < POOR_DISCRIMINATION
    crowd = out["distractor_share"] > out["rate"]  # one other answer is given more often than the key
    out["mislabelled"] = testable & (out["q_value"] < rules.fdr) & (poor | crowd)
    out["too_easy"] = out["enough_data"] & (out["low"] >= EASY_FLOOR) & (poor | out["discrimination"].isna())
    out["flagged"] = out["mislabelled"] | out["too_easy"]
    return out


def item_health(con: duckdb.DuckDBPyConnection, filters: Filters, rules: ItemRules = ItemRules()) -> pd.DataFrame:
    """Which golden-set items should the policy team review? One row per `item_id` of golden-set decisions
    under the filters (its source is always golden_set), columns ITEM_COLUMNS.

    Per item: `key` (the modal expected label), `moderators`, `attempts`, `correct`, share correct `rate`
    with its Wilson interval `low`/`high`; `policy_level`, the policy's share correct on its OTHER items;
    `shrunk_rate` with its 95% credible interval (beta-binomial prior per policy across its items).

    Discrimination is the corrected item-total point-biserial correlation (Henrysson 1963; Crocker & Algina
    1986, ch. 14): Pearson's r between getting this item right and the moderator's share correct on their
    OTHER golden-set decisions (the rest score, from moderators with at least `rules.min_other` of them;
    `rated_moderators` counts them). Golden sets are incomplete designs (each moderator sees a few items),
    so the rest score is a share rather than a sum; on a complete test it is a linear function of the sum
    and r is the textbook value. Beside it, Kelley's (1939) upper-lower index: `upper_rate` and
    `lower_rate` are the share right among the top and bottom 27% of moderators by rest score,
    `upper_lower` = upper - lower.

    `distractor` is the most common wrong answer and `distractor_share` its share of all attempts.

    Flags, only on items with `rules.min_attempts` attempts or more (`enough_data`; the rest are marked,
    not ranked or tested): `mislabelled` ("probably mislabelled or ambiguous") when the share correct is
    below the policy's level by the exact one-sided binomial test (`p_value`), surviving Benjamini-Hochberg
    over every testable item at `rules.fdr` (`q_value`), AND either the item does not tell strong moderators
    from weak ones (discrimination under POOR_DISCRIMINATION: strong moderators fail it too, or more) or
    one other answer is given more often than the key (the classical sign of a miskeyed item in distractor
    analysis; Haladyna 2004, Developing and Validating Multiple-Choice Test Items). Hard items that strong
    moderators get right, with wrong answers that do not outnumber the key, are hard, not wrong, and are not
    flagged. Rest scores are a moderator's accuracy over the whole filter window: where moderators are still
    learning, narrow the dates so that "strong" means strong at the time. `too_easy` when the Wilson lower
    bound is at least EASY_FLOOR and discrimination is poor or not measurable (everyone right).

    Sorted for review: mislabelled items by q-value, then too-easy ones by attempts, then the other judged
    items by shrunk share correct (hardest first), then items with too few attempts by id."""
    found = _items(con, filters, rules.min_other)
    if found.empty:
        return _empty()
    df = add_rate_columns(found, reviewed="attempts")
    df["rated_moderators"] = df["rated_moderators"].fillna(0).astype("int64")
    df["upper_lower"] = df["upper_rate"] - df["lower_rate"]
    df["distractor_share"] = df["distractor_n"] / df["attempts"]
    df = _tested(_shrunk(df), rules)
    return _review_order(df)[ITEM_COLUMNS]


def _review_order(df: pd.DataFrame) -> pd.DataFrame:
    group = np.select([df["mislabelled"], df["too_easy"], df["enough_data"]], [0, 1, 2], 3)
    key = np.select([group == 0, group == 1, group == 2], [df["q_value"], -df["attempts"], df["shrunk_rate"]], 0.0)
    ordered = df.assign(_group=group, _key=key).sort_values(["_group", "_key", "item_id"], kind="stable")
    return ordered.drop(columns=["_group", "_key"]).reset_index(drop=True)
