"""Figures in words: the one place a rate, a change, an interval or a p-value is turned into text, so that
a page, the Overview, the weekly report and a CSV export say the same thing the same way.

Missing values read as a dash, never "nan" or "None"; intervals are rounded like their estimate; p-values
under 0.001 read "p < 0.001".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from metrics.stats import Interval

if TYPE_CHECKING:  # weekly's measures use this module's words; only the type is needed here
    from metrics.weekly import Tile


def control_window() -> str:
    """How the control limits are set, in the same words on every surface."""
    from metrics.weekly import BASELINE_WEEKS  # here: metrics.weekly's own imports reach this module

    return f"the pooled rate of the {BASELINE_WEEKS} weeks before"

DASH = "—"
MEASURE_NAMES = {"qa_audit": "quality", "golden_set": "accuracy"}  # the two measures, as people call them


def missing(x: object) -> bool:
    """None, nan, NaT or pandas' NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # lists and other containers are values
        return False


def _num(x: object) -> float:
    return float(x)  # type: ignore[arg-type]


def pct(x: object, digits: int = 1) -> str:
    """0.8421 -> '84.2%'; missing -> '—'."""
    return DASH if missing(x) else f"{_num(x) * 100:.{digits}f}%"


def count(n: object, noun: str, plural: str | None = None) -> str:
    """'1 row', '2,310 rows'; `plural` for irregular nouns ('1 person', '3 people')."""
    if missing(n):
        return f"{DASH} {plural or noun + 's'}"
    k = int(_num(n))
    return f"{k:,} {noun if k == 1 else plural or noun + 's'}"


def rate_text(rate: object, low: object, high: object, n: object) -> str:
    """'84.2% (95% CI 82.9–85.4%, n=2,310)'; 'no reviews' when n is 0."""
    if missing(n) or int(_num(n)) == 0 or missing(rate):
        return "no reviews"
    if missing(low) or missing(high):
        return f"{pct(rate)} (n={int(_num(n)):,})"
    return f"{pct(rate)} (95% CI {_num(low) * 100:.1f}–{pct(high)}, n={int(_num(n)):,})"


def points(x: object, digits: int = 1) -> str:
    """A change in proportion points: 0.031 -> '+3.1 points'."""
    return DASH if missing(x) else f"{_num(x) * 100:+.{digits}f} points"


def ci_points(low: object, high: object, level: float = 0.95) -> str:
    """'95% CI +1.2 to +5.0' (proportion points); 'no interval' when either end is missing."""
    if missing(low) or missing(high):
        return "no interval"
    return f"{level:.0%} CI {_num(low) * 100:+.1f} to {_num(high) * 100:+.1f}"


def interval_points(interval: Interval) -> str:
    """'+3.1 points (95% CI +1.2 to +5.0)'; 'not enough data' without an estimate."""
    if not interval.measured:
        return "not enough data"
    if not interval.bounded:
        return points(interval.estimate)
    return f"{points(interval.estimate)} ({ci_points(interval.low, interval.high, interval.level)})"


def p_text(p: object) -> str:
    """'p = 0.012', 'p < 0.001', or '' when there is no test."""
    if missing(p):
        return ""
    value = _num(p)
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def signed(x: object, digits: int = 2) -> str:
    """A coefficient such as kappa with a true minus sign: '0.41', '−0.05'; missing -> '—'."""
    return DASH if missing(x) else f"{_num(x):.{digits}f}".replace("-", "−")


def coefficient_interval(interval: Interval, digits: int = 2) -> str:
    """'95% CI 0.31 to 0.52' for an agreement coefficient; 'no interval' when an end is missing."""
    if not interval.bounded:
        return "no interval"
    return f"{interval.level:.0%} CI {signed(interval.low, digits)} to {signed(interval.high, digits)}"


# Landis & Koch (1977): labels for kappa-like statistics. Their cut-offs were never meant as a standard.
AGREEMENT_BANDS = ((0.0, "poor (no better than chance)"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"),
                   (0.80, "substantial"), (math.inf, "almost perfect"))


def agreement_band(value: float) -> str:
    if missing(value):
        return "not measurable"
    return next(label for upper, label in AGREEMENT_BANDS if value <= upper)


def value_interval(estimate: float, low: float, high: float) -> str:
    """'4 (3–6)' for a count such as weeks; an open upper bound reads 'not reached'; no estimate -> '—'."""
    if missing(estimate):
        return DASH
    lo = "?" if missing(low) else f"{round(low, 1):g}"
    hi = "not reached" if missing(high) else f"{round(high, 1):g}"
    return f"{round(estimate, 1):g} ({lo}–{hi})"


# ------------------------------------------------------------------------------------- weekly tiles

def tile_value(tile: Tile) -> str:
    if tile.is_rate:
        return pct(tile.value.estimate) if tile.n else "no data"
    return f"{tile.n:,}"


def tile_delta(tile: Tile) -> str | None:
    """The change against last week, or None when there is nothing to compare."""
    if missing(tile.change):
        return None
    return points(tile.change) if tile.is_rate else f"{tile.change:+,.0f}"


def tile_verdict(tile: Tile) -> str:
    """Whether a rate's week is more than noise, by the control limits of the weeks before."""
    if not tile.is_rate:
        return "count, against last week"
    if tile.n == 0:
        return "no data this week"
    if tile.too_few_to_judge:
        return "too few to judge"
    if tile.beyond_limits is None:
        return "no baseline yet"
    return "beyond control limits" if tile.beyond_limits else "within normal variation"


def tile_detail(tile: Tile) -> str:
    """The counts and intervals behind a tile, for its help text and the report."""
    if not tile.is_rate:
        return f"{tile.n:,} this week, {int(tile.previous):,} last week."
    v = tile.value
    parts = [f"This week {rate_text(v.estimate, v.low, v.high, tile.n)}.", f"Last week {pct(tile.previous)}."]
    if tile.limits is not None:
        parts.append(f"Control limits for this week's n: {pct(tile.limits.lower)}–{pct(tile.limits.upper)} "
                     f"(3 sigma around {pct(tile.limits.center)}, {control_window()}).")
    if tile.too_few_to_judge:
        parts.append("Too few reviews to judge against the limits.")
    if not missing(tile.p_value):
        parts.append(f"Change against last week: {p_text(tile.p_value)} (two-proportion test).")
    return " ".join(parts)


# ------------------------------------------------------------------------- item health and auditors

def _q_text(q: object) -> str:
    return "" if missing(q) else ("q < 0.001" if _num(q) < 0.001 else f"q = {_num(q):.3f}")


def discrimination_words(r: object, poor: float) -> str:
    """How an item separates moderators, from its corrected item-total correlation `r`."""
    if missing(r):
        return "it cannot tell strong moderators from weak ones (they all answered alike)"
    if _num(r) < 0:
        return f"strong moderators miss it more often than weak ones (r = {signed(r)})"
    if _num(r) < poor:
        return f"strong moderators do no better on it than weak ones (r = {signed(r)})"
    return f"strong moderators get it right more often than weak ones (r = {signed(r)})"


def item_text(row: dict[str, object], *, poor: float, min_attempts: int) -> str:
    """One line per golden-set item from an `item_health` row: what was found and what to do."""
    item = f"{row['item_id']} ({row['policy']})"
    n = int(_num(row["attempts"]))
    if not row["enough_data"]:
        return f"{item}: {count(n, 'attempt')}, fewer than {min_attempts}: too few to judge."
    right = (f"{pct(row['rate'], 0)} right" if missing(row["key"]) else
             f"{pct(row['rate'], 0)} answer with the key {row['key']}")
    if row["too_easy"]:
        return (f"Too easy: {item} — {rate_text(row['rate'], row['low'], row['high'], n)} right; it tells no "
                "one apart. Replace it with a case that needs the policy.")
    against = f"against {pct(row['policy_level'], 0)} on the policy's other items"
    if row["mislabelled"]:
        other = ""
        if not missing(row["distractor"]):
            other = f"; {pct(row['distractor_share'], 0)} answer {row['distractor']} instead"
        return (f"Check the key: {item} — {right} (n={n:,}) {against}{other}; "
                f"{discrimination_words(row['discrimination'], poor)}. "
                f"Probably mislabelled or ambiguous ({_q_text(row['q_value'])}).")
    return f"{item} — {right} (n={n:,}) {against}; not flagged ({_q_text(row['q_value'])})."


def auditor_text(who: str, row: dict[str, object], *, min_audits: int, fdr: float) -> str:
    """One sentence per QA auditor from an `auditor_severity` row; `who` names them as the page does
    ("Auditor QA11", or a pseudonym while presenting)."""
    audits = int(_num(row["comparable_audits"]))
    if audits == 0:
        return f"{who}: no colleague audited the same market, policy and week, so nothing to compare with."
    if not row["enough_data"]:
        return (f"{who}: {count(audits, 'audit')} on work colleagues also audited, fewer than "
                f"{min_audits:,}: too few to judge.")
    difference = _num(row["difference"])
    ci = ci_points(row["difference_low"], row["difference_high"])
    if row["flagged"]:
        more = difference > 0
        return (f"{who} fails {abs(difference) * 100:.1f} points {'more' if more else 'less'} often than "
                f"colleagues on the same work ({ci}, {audits:,} audits); quality scores from their audits read "
                f"{'low' if more else 'high'}.")
    return (f"{who}: {points(difference)} against colleagues on the same work ({ci}); not flagged at a "
            f"{fdr:.0%} false-discovery rate ({_q_text(row['q_value'])}).")


def kappa_text(kappa: Interval, pairs: int) -> str:
    """'κ = 0.82 (95% CI 0.75 to 0.90) over 340 decisions: almost perfect'."""
    if not kappa.measured:
        return "no decision was audited by two auditors" if pairs == 0 else "not measurable on these decisions"
    return (f"κ = {signed(kappa.estimate)} ({coefficient_interval(kappa)}) over {count(pairs, 'decision')}: "
            f"{agreement_band(kappa.estimate)}")
