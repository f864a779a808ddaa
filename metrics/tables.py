"""Measure results as the tables people read: the same words and numbers on a page, in the weekly report
and in a CSV download. Pure pandas over the measures' frames; pages only draw what these return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from metrics import words
from metrics.stats import Interval, wilson_arrays
from metrics.weekly import WeeklyImpact

TOP_WEAK_SPOTS = 5
SOURCE_NAMES = {"qa_audit": "quality", "golden_set": "accuracy"}


def _rate_texts(frame: pd.DataFrame, prefix: str = "", n: str = "reviewed") -> list[str]:
    return [words.rate_text(r, lo, hi, k) for r, lo, hi, k in
            zip(frame[f"{prefix}rate"], frame[f"{prefix}low"], frame[f"{prefix}high"], frame[n], strict=True)]


def _ranges(low: pd.Series, high: pd.Series) -> list[str]:
    return [f"{words.pct(lo, 0)}–{words.pct(hi, 0)}" for lo, hi in zip(low, high, strict=True)]


# ------------------------------------------------------------------------------------------ Overview

def tiles_frame(impact: WeeklyImpact) -> pd.DataFrame:
    """One row per tile, with its counts, interval, change and verdict."""
    rows = [{
        "figure": t.name, "value": words.tile_value(t), "n": t.n, "low": t.value.low, "high": t.value.high,
        "last_week": t.previous, "change": t.change, "verdict": words.tile_verdict(t),
        "center": t.limits.center if t.limits else np.nan, "lcl": t.limits.lower if t.limits else np.nan,
        "ucl": t.limits.upper if t.limits else np.nan, "p_value": t.p_value,
    } for t in impact.tiles]  # fmt: skip
    return pd.DataFrame(rows)


def effect_text(row: Mapping[str, object]) -> str:
    """The measured effect of one session from a `week_training_effects` row, in a trainer's words."""
    if not bool(row.get("enough_data")):
        return "not enough data yet"
    interval = Interval(float(row["estimate"]), float(row["low"]), float(row["high"]))  # type: ignore[arg-type]
    text = words.interval_points(interval)
    measure = SOURCE_NAMES.get(str(row.get("source")))
    if measure:
        text = text.replace(" points", f" points of {measure}", 1)
    text += (f" against non-attendees (n={int(row['n_attendees']):,} attended, "  # type: ignore[call-overload]
             f"{int(row['n_comparison']):,} compared)")  # type: ignore[call-overload]
    if not bool(row.get("window_closed")):
        text += "; the after-window is still open, so this may move"
    return text


WEEK_SESSION_COLUMNS = ["date", "title", "kind", "policy", "attendees", "effect", "caveats"]


def week_sessions(impact: WeeklyImpact, effects: pd.DataFrame | None) -> pd.DataFrame:
    """The week's sessions with their attendance and measured effect so far."""
    table = impact.trainings.copy()
    if table.empty:
        return pd.DataFrame(columns=WEEK_SESSION_COLUMNS)
    measured = effects.set_index("training_id") if effects is not None and not effects.empty else None
    texts, caveats = [], []
    for row in table.to_dict("records"):
        if measured is None or row["training_id"] not in measured.index:
            texts.append("not measured")
            caveats.append("")
            continue
        effect = measured.loc[row["training_id"]].to_dict()
        texts.append(effect_text(effect))
        caveats.append(str(effect.get("warnings") or ""))
    table["effect"], table["caveats"] = texts, caveats
    table["date"] = pd.to_datetime(table["date"]).dt.date
    return table[WEEK_SESSION_COLUMNS]


WEAK_SPOT_SUMMARY_COLUMNS = ["market", "policy", "accuracy", "other markets", "gap (shrunk)", "avoidable errors",
                             "q value"]


def top_weak_spots(weak: pd.DataFrame, top: int = TOP_WEAK_SPOTS) -> pd.DataFrame:
    """The first `top` flagged cells of `weak_spots`, as words and numbers."""
    flagged = weak[weak["flagged"].astype(bool)].head(top) if not weak.empty else weak
    if flagged.empty:
        return pd.DataFrame(columns=WEAK_SPOT_SUMMARY_COLUMNS)
    return pd.DataFrame({
        "market": flagged["market"], "policy": flagged["policy"], "accuracy": _rate_texts(flagged),
        "other markets": [words.pct(x) for x in flagged["policy_level"]],
        "gap (shrunk)": [words.points(x) for x in flagged["gap"]],
        "avoidable errors": flagged["avoidable_errors"].round().astype("int64"),
        "q value": flagged["q_value"].round(4),
    }).reset_index(drop=True)  # fmt: skip


# ---------------------------------------------------------------------------------------- Weak spots

def weak_spot_status(frame: pd.DataFrame) -> list[str]:
    return ["Flagged" if f else ("Not enough data" if not e else "Not flagged")
            for f, e in zip(frame["flagged"], frame["enough_data"], strict=True)]


def weak_spot_table(frame: pd.DataFrame, *, ranked: bool) -> pd.DataFrame:
    """Cells of `weak_spots` as the page lists them; `ranked` numbers them in the frame's order."""
    out = pd.DataFrame({
        "Market": frame["market"], "Policy": frame["policy"], "Status": weak_spot_status(frame),
        "Reviews (n)": frame["reviewed"], "Rate": frame["rate"], "95% CI": _ranges(frame["low"], frame["high"]),
        "Shrunk rate": frame["shrunk_rate"], "95% credible": _ranges(frame["shrunk_low"], frame["shrunk_high"]),
        "Policy elsewhere": frame["policy_level"], "Gap (shrunk)": frame["gap"], "q-value": frame["q_value"],
        "Avoidable errors": frame["avoidable_errors"],
    })
    if ranked:
        out.insert(0, "Rank", range(1, len(out) + 1))
    return out


def confusions_table(confusions: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Expected → given": confusions["expected_label"].astype(str) + " → " + confusions["given_label"].astype(str),
        "Errors": confusions["n"], "Share": confusions["share"],
    })


# ---------------------------------------------------------------------------------- Trainee explorer

def strengths_table(strengths: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "policy": strengths["policy"],
        "observed": _rate_texts(strengths),
        "shrunk": [f"{words.pct(r)} ({words.pct(lo)}–{words.pct(hi)})" for r, lo, hi in
                   zip(strengths["shrunk_rate"], strengths["shrunk_low"], strengths["shrunk_high"], strict=True)],
        "market": [words.pct(x) for x in strengths["market_rate"]],
        "gap to market": [words.points(x) for x in strengths["gap"]],
    })  # fmt: skip


def trainee_trainings_table(sessions: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.to_datetime(sessions["date"]).dt.date, "title": sessions["title"], "kind": sessions["kind"],
        "policy": sessions["policy"], "attended": sessions["attended"], "rating": sessions["rating"],
        "before": _rate_texts(sessions, "pre_", "pre_reviews"), "after": _rate_texts(sessions, "post_", "post_reviews"),
        "change": [words.points(x) for x in sessions["change"]],
    })  # fmt: skip


def coaching_table(shown: pd.DataFrame, who: Sequence[str]) -> pd.DataFrame:
    """The coaching list as the page shows it, `who` the way each trainee is named."""
    return pd.DataFrame({
        "trainee": list(who), "market": shown["market"], "cohort": shown["cohort"], "reviews": shown["reviewed"],
        "shrunk rate": shown["shrunk_rate"], "95% interval": _ranges(shown["shrunk_low"], shown["shrunk_high"]),
        "observed": [words.pct(x) for x in shown["rate"]], "market rate": [words.pct(x) for x in shown["group_rate"]],
        "needs coaching": shown["needs_coaching"], "weakest policy": shown["weakest_policy"],
        "gap there": [words.points(x) for x in shown["weakest_policy_gap"]],
    })  # fmt: skip


def coaching_dots(shown: pd.DataFrame, who: Sequence[str], top: int) -> pd.DataFrame:
    head = shown.head(top)
    return pd.DataFrame({"trainee": list(who)[:top], "market": head["market"], "rate": head["shrunk_rate"],
                         "low": head["shrunk_low"], "high": head["shrunk_high"], "reviews": head["reviewed"]})


# ----------------------------------------------------------------------------------- Training impact

PASS_NAMES = {"pre_test": "Pre-test", "post_test": "Post-test"}


def pass_rates_table(pass_rates: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "test": pass_rates["test"].map(PASS_NAMES), "attempts": pass_rates["attempts"],
        "passed": pass_rates["passed"], "pass rate": _rate_texts(pass_rates, n="attempts"),
    })


def attendee_slopes(per_trainee: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Attendees' before and after rates, named by `names` (never by id), for the slope chart."""
    attendees = per_trainee[per_trainee["group"] == "attended"]
    return attendees[["pre_rate", "post_rate", "pre_reviews", "post_reviews"]].assign(who=list(names))


# ----------------------------------------------------------------------------------- Learning curves

def fit_table(fits: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Cohort": fits["cohort"], "Weeks fitted": fits["points"],
        "Chosen model": fits["chosen"].fillna("too few weeks to fit"),
        "Plateau (exp.)": fits["exp_a"], "Week-0 level (exp.)": fits["exp_b"],
        "Time constant, weeks (exp.)": fits["exp_tau"], "Plateau (power)": fits["pow_a"],
        "Rate k (power)": fits["pow_k"], "AIC exponential": fits["exp_aic"], "AIC power": fits["pow_aic"],
    })


def proficiency_table(proficiency: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Cohort": proficiency["cohort"], "Trainees": proficiency["trainees"], "Reached": proficiency["reached"],
        "Median weeks, those who reached it (95% CI)": [
            words.value_interval(m, lo, hi) for m, lo, hi in
            zip(proficiency["median_weeks"], proficiency["median_low"], proficiency["median_high"], strict=True)],
        "Kaplan-Meier median weeks (95% CI)": [
            words.value_interval(m, lo, hi) if not pd.isna(m) else "fewer than half there yet" for m, lo, hi in
            zip(proficiency["km_median"], proficiency["km_low"], proficiency["km_high"], strict=True)],
    })  # fmt: skip


# --------------------------------------------------------------------------------------- Calibration

AGENDA_NAMES = {
    "item_id": "Item", "ratings": "Ratings", "distinct_labels": "Labels used", "majority_label": "Most given",
    "majority_share": "Share most given", "reference_label": "Expert answer", "entropy": "Entropy (bits)",
}


def agenda_table(disagreements: pd.DataFrame) -> pd.DataFrame:
    return disagreements.rename(columns=AGENDA_NAMES)


def rater_bars(raters: pd.DataFrame, *, with_interval: bool) -> pd.DataFrame:
    """Each rater's matches with the expert, with a Wilson interval only when every item had an expert
    answer (otherwise the share is not out of `items`)."""
    matches = (raters["agreement_with_reference"] * raters["items"]).round()
    low, high = wilson_arrays(matches.to_numpy(), raters["items"].to_numpy())
    return raters.assign(matches=matches, low=low if with_interval else np.nan,
                         high=high if with_interval else np.nan)


# ------------------------------------------------------------------------------------- Item health

ITEM_STATUS = {"mislabelled": "Probably mislabelled or ambiguous", "too_easy": "Too easy to tell anyone apart",
               "judged": "Not flagged", "thin": "Too few attempts"}


def item_status(frame: pd.DataFrame) -> list[str]:
    return [ITEM_STATUS["mislabelled"] if m else ITEM_STATUS["too_easy"] if e else
            ITEM_STATUS["judged"] if j else ITEM_STATUS["thin"]
            for m, e, j in zip(frame["mislabelled"], frame["too_easy"], frame["enough_data"], strict=True)]


def item_table(frame: pd.DataFrame, *, ranked: bool, lines: Sequence[str] | None = None) -> pd.DataFrame:
    """Items of `item_health` as the page lists them (numbers stay numbers; the page formats them);
    `ranked` numbers them in the frame's order, `lines` adds what to do about each."""
    out = pd.DataFrame({
        "Item": frame["item_id"], "Policy": frame["policy"], "Status": item_status(frame), "Key": frame["key"],
        "Attempts": frame["attempts"], "Moderators": frame["moderators"], "Share right": frame["rate"],
        "95% CI": _ranges(frame["low"], frame["high"]), "Shrunk": frame["shrunk_rate"],
        "95% credible": _ranges(frame["shrunk_low"], frame["shrunk_high"]),
        "Policy's other items": frame["policy_level"], "Discrimination (r)": frame["discrimination"],
        "Top 27% right": frame["upper_rate"], "Bottom 27% right": frame["lower_rate"],
        "Most common wrong answer": frame["distractor"], "Its share": frame["distractor_share"],
        "q-value": frame["q_value"],
    })  # fmt: skip
    if ranked:
        out.insert(0, "Rank", range(1, len(out) + 1))
    if lines is not None:
        out["What to do"] = list(lines)
    return out.reset_index(drop=True)


def item_dots(frame: pd.DataFrame) -> pd.DataFrame:
    """Items of `item_health` for the item charts: item, policy, key, status, attempts, rate, low, high,
    level (the policy's other items), discrimination."""
    return pd.DataFrame({
        "item": frame["item_id"], "policy": frame["policy"], "key": frame["key"], "status": item_status(frame),
        "attempts": frame["attempts"], "rate": frame["rate"], "low": frame["low"], "high": frame["high"],
        "level": frame["policy_level"], "discrimination": frame["discrimination"],
    }).reset_index(drop=True)  # fmt: skip


# ------------------------------------------------------------------------------------- QA auditors

def auditor_status(frame: pd.DataFrame) -> list[str]:
    return ["Stricter than colleagues" if f and d > 0 else "More lenient than colleagues" if f else
            "Not flagged" if e else "Too few audits to judge"
            for f, d, e in zip(frame["flagged"], frame["difference"], frame["enough_data"], strict=True)]


def auditor_table(frame: pd.DataFrame, who: Sequence[str]) -> pd.DataFrame:
    """`auditor_severity` rows as the page lists them, `who` the way each auditor is named."""
    return pd.DataFrame({
        "Auditor": list(who), "Status": auditor_status(frame), "Moderators audited": frame["moderators"],
        "Audits": frame["audits"], "Fail rate": frame["fail_rate"], "95% CI": _ranges(frame["fail_low"], frame["fail_high"]),
        "Comparable audits": frame["comparable_audits"], "Colleagues": frame["colleagues"],
        "Colleagues' rate on the same work": frame["expected_rate"],
        "Difference": [words.points(x) for x in frame["difference"]],
        "95% CI of the difference": [words.ci_points(lo, hi) for lo, hi in
                                     zip(frame["difference_low"], frame["difference_high"], strict=True)],
        "Severity (shrunk)": frame["severity"], "q-value": frame["q_value"],
    }).reset_index(drop=True)  # fmt: skip


def severity_dots(frame: pd.DataFrame, who: Sequence[str]) -> pd.DataFrame:
    """The judged auditors for the severity chart: who, difference with its interval, status."""
    return pd.DataFrame({"who": list(who), "difference": frame["difference"], "low": frame["difference_low"],
                         "high": frame["difference_high"], "audits": frame["comparable_audits"],
                         "status": auditor_status(frame)}).reset_index(drop=True)


def agreement_table(frame: pd.DataFrame, who: Sequence[str]) -> pd.DataFrame:
    """Per-auditor agreement with colleagues (an `AuditorAgreement.by_auditor` frame)."""
    return pd.DataFrame({
        "Auditor": list(who), "Decisions shared": frame["shared"], "Moderators": frame["moderators"],
        "Same verdict": frame["agreement"], "Cohen's κ": frame["kappa"], "95% CI": [
            words.coefficient_interval(Interval(k, lo, hi)) for k, lo, hi in
            zip(frame["kappa"], frame["low"], frame["high"], strict=True)],
    }).reset_index(drop=True)  # fmt: skip


def kappa_dots(frame: pd.DataFrame, who: Sequence[str]) -> pd.DataFrame:
    """Per-auditor kappa with its interval for the agreement chart, lowest first."""
    dots = pd.DataFrame({"who": list(who), "kappa": frame["kappa"], "low": frame["low"], "high": frame["high"],
                         "shared": frame["shared"], "agreement": frame["agreement"]})
    return dots.sort_values(["kappa", "who"], na_position="last", kind="stable").reset_index(drop=True)
