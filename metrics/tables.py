"""Measure results as the tables people read: the same words and numbers on a page, in the weekly report
and in a CSV download. Pure pandas over the measures' frames; pages only draw what these return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from metrics import words
from metrics.stats import wilson_arrays
from metrics.weekly import WeeklyImpact

if TYPE_CHECKING:  # the effects are built elsewhere; only their type is needed here
    from metrics.training import TrainingEffect

TOP_WEAK_SPOTS = 5


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


WEEK_SESSION_COLUMNS = ["date", "title", "kind", "policy", "attendees", "effect", "measured", "n"]
WEEK_EFFECT_WORDS = {"effect": "effect", "measured": "how", "n": "n"}  # table column <- week_training_effects
WEEK_EFFECT_COLUMNS = list(WEEK_EFFECT_WORDS)  # what presenter mode hides for a small session
WEEK_SESSIONS_SHOWN = ["date", "title", "policy", "attendees", "effect"]  # on the page; how and n go under it


def week_sessions(impact: WeeklyImpact, effects: pd.DataFrame | None) -> pd.DataFrame:
    """The week's sessions with their attendance and the headline of their measured effect so far (the
    same words as on Training impact); the caveats go under the table (`week_caveats`)."""
    table = impact.trainings.copy()
    if table.empty:
        return pd.DataFrame(columns=WEEK_SESSION_COLUMNS)
    measured = effects.set_index("training_id") if effects is not None and not effects.empty else None
    for column, source in WEEK_EFFECT_WORDS.items():
        table[column] = [str(measured.loc[t, source]) if measured is not None and t in measured.index
                         else ("not measured" if column == "effect" else "") for t in table["training_id"]]
    table["date"] = pd.to_datetime(table["date"]).dt.date
    table["policy"] = table["policy"].fillna("all policies")
    return table[WEEK_SESSION_COLUMNS]


def week_caveats(impact: WeeklyImpact, effects: pd.DataFrame | None, shown: pd.DataFrame, *,
                 how: bool = False) -> list[str]:
    """'<title>: <caveat>' for each caveat of the week's measured sessions whose effect `shown` (the
    `week_sessions` table as drawn, row for row) shows in full; with `how`, first '<title>: read <how>; <n>.'
    for each of them (for a table drawn without those columns)."""
    if effects is None or effects.empty or shown.empty:
        return []
    measured = effects.set_index("training_id")
    out = []
    for training_id, title, effect in zip(impact.trainings["training_id"], impact.trainings["title"], shown["effect"],
                                          strict=True):
        row = measured.loc[training_id] if training_id in measured.index else None
        # Only for an effect shown in full: a caveat of "not enough data" or of a hidden effect is noise.
        if row is None or not bool(row["enough_data"]) or row["effect"] != effect:
            continue
        out += [f"{title}: read {row['how']}; {row['n']}."] if how else []
        out += [f"{title}: {c}" for c in str(row["caveats"] or "").split("; ") if c]
    return list(dict.fromkeys(out))


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


def trainee_trainings_table(by_source: Mapping[str, pd.DataFrame], effects: Mapping[str, TrainingEffect]) -> pd.DataFrame:
    """A trainee's sessions (`trainee_trainings` per source, same rows) with their own before and after on
    the measure each session's effect reads, and that effect's headline (the words of Training impact)."""
    sessions = next(iter(by_source.values()))
    rows = []
    for i, training_id in enumerate(sessions["training_id"]):
        effect = effects[training_id]
        own = by_source[effect.source].iloc[i]
        assert own["training_id"] == training_id, "trainee_trainings gives the same rows for every source"
        rows.append({
            "date": pd.Timestamp(own["date"]).date(), "title": own["title"], "kind": own["kind"],
            "policy": own["policy"], "attended": own["attended"], "rating": own["rating"],
            "measure": effect.headline.measure,
            "before": words.rate_text(own["pre_rate"], own["pre_low"], own["pre_high"], own["pre_reviews"]),
            "after": words.rate_text(own["post_rate"], own["post_low"], own["post_high"], own["post_reviews"]),
            "change": words.points(own["change"]), "session's effect": effect.headline.text,
            "attendees": effect.attendees_listed,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=TRAINEE_TRAININGS_TABLE)


TRAINEE_TRAININGS_TABLE = ["date", "title", "kind", "policy", "attended", "rating", "measure", "before", "after",
                            "change", "session's effect", "attendees"]


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
