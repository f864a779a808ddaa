"""Measure results as the tables people read: the same words and numbers on a page, in the weekly report
and in a CSV download. Pure pandas over the measures' frames; pages only draw what these return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from metrics import words
from metrics.assessments import ScoreComparison
from metrics.curves import ModelFit
from metrics.inference import ChiSquare
from metrics.learning import AllCohorts, CohortFit
from metrics.stats import Interval, wilson_arrays
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


WEAK_SPOT_SUMMARY_COLUMNS = ["market", "policy", "rate", "other markets", "gap (shrunk)", "avoidable errors",
                             "q value"]


def top_weak_spots(weak: pd.DataFrame, top: int = TOP_WEAK_SPOTS) -> pd.DataFrame:
    """The first `top` flagged cells of `weak_spots`, as words and numbers (the rate column is named for the
    measure: quality or accuracy)."""
    flagged = weak[weak["flagged"].astype(bool)].head(top) if not weak.empty else weak
    if flagged.empty:
        return pd.DataFrame(columns=WEAK_SPOT_SUMMARY_COLUMNS)
    measure = words.MEASURE_NAMES.get(str(flagged["source"].iloc[0]), "rate")
    return pd.DataFrame({
        "market": flagged["market"], "policy": flagged["policy"], measure: _rate_texts(flagged),
        "other markets": [words.pct(x) for x in flagged["policy_level"]],
        "gap (shrunk)": [words.points(x) for x in flagged["gap"]],
        "avoidable errors": flagged["avoidable_errors"].round().astype("int64"),
        "q value": [words.p_text(q).removeprefix("p ").removeprefix("= ") for q in flagged["q_value"]],
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

SHAPES = {"exponential": "exponential rise", "power": "power law", "exp_from_zero": "exponential rise from zero",
          "power_origin": "power law through the origin"}


def _parameter(fit: ModelFit | None, name: str, percent: bool) -> str:
    """'93.5% (95% CI 92.1–94.9%)', '8.5 (95% CI 6.9 to 10.4)', 'on its bound' or a dash."""
    if fit is None or name not in fit.params:
        return words.DASH
    value = fit.params[name]
    if name in fit.on_bound:
        return f"{words.pct(value) if percent else f'{value:.2f}'} (on the edge of its range: no interval)"
    iv = fit.intervals.get(name)
    if percent:  # a share cannot leave [0, 1], whatever the covariance's symmetric interval says
        return words.pct(value) if iv is None or not iv.bounded else \
            f"{words.pct(value)} (95% CI {words.pct(max(iv.low, 0.0))}–{words.pct(min(iv.high, 1.0))})"
    if iv is None or not iv.bounded:
        return f"{value:.2f}"
    return f"{value:.1f} (95% CI {iv.low:.1f} to {iv.high:.1f})"


def fit_table(fits: list[CohortFit]) -> pd.DataFrame:
    """Each cohort's chosen curve in words, its parameters with intervals, and every shape's AIC."""
    rows = []
    for f in fits:
        chosen = f.chosen
        model = chosen.model if chosen else None
        rows.append({
            "Cohort": f.cohort, "Weeks fitted": f.fit.n_points,
            "Chosen shape": SHAPES[model] if model else "too few weeks to fit",
            # A power law through the origin has no plateau: it keeps rising.
            "Plateau": "none: it keeps rising" if model == "power_origin" else _parameter(chosen, "a", percent=True),
            "Weeks to close 63% of the gap": _parameter(chosen, "tau", percent=False),
            "Power-law rate k": _parameter(chosen, "k", percent=False),
            **{f"AIC {SHAPES[m.model]}": round(m.aic, 1) if pd.notna(m.aic) else None for m in f.fit.fits},
            "Note": f.fit.caution,
        })
    return pd.DataFrame(rows)


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
    out = disagreements.assign(majority_share=[words.pct(x, 0) for x in disagreements["majority_share"]])
    return out.rename(columns=AGENDA_NAMES)


def rater_bars(raters: pd.DataFrame, *, with_interval: bool) -> pd.DataFrame:
    """Each rater's matches with the expert, with a Wilson interval only when every item had an expert
    answer (otherwise the share is not out of `items`)."""
    matches = (raters["agreement_with_reference"] * raters["items"]).round()
    low, high = wilson_arrays(matches.to_numpy(), raters["items"].to_numpy())
    return raters.assign(matches=matches, low=low if with_interval else np.nan,
                         high=high if with_interval else np.nan)


def weak_spot_verdict(weak: pd.DataFrame, measure: str, min_reviewed: int) -> str:
    """What the weak-spot search found, in words that never read silence as good news: how many cells
    were tested, and how many flagged; or why none could be tested."""
    if weak.empty:
        return f"No {measure} data for these filters, so no market x policy cell could be tested."
    tested = int(weak["testable"].sum())
    flagged = int(weak["flagged"].sum())
    if tested == 0:
        return (f"Of the {words.count(len(weak), 'cell')}, none has {min_reviewed} {measure} reviews and another market "
                "to compare with, so nothing could be tested yet.")
    if flagged == 0:
        return f"No cell is flagged among the {words.count(tested, 'cell')} tested on {measure}."
    return f"{words.count(flagged, 'cell')} flagged among the {tested:,} tested on {measure}."


def rater_kappa_table(raters: pd.DataFrame, *, weighted: bool) -> pd.DataFrame:
    """Each rater against the expert: share matching and Cohen's kappa with its interval, in words."""
    name = "kappa with the expert" + (" (weighted)" if weighted else "")
    return pd.DataFrame({
        "rater": raters["rater_id"], "items": raters["items"],
        "matching the expert": [words.pct(x, 0) for x in raters["agreement_with_reference"]],
        name: [f"{words.signed(k)} ({words.coefficient_interval(Interval(k, lo, hi))})" if not pd.isna(k) else
               words.DASH for k, lo, hi in zip(raters["kappa_with_reference"], raters["kappa_low"],
                                               raters["kappa_high"], strict=True)],
    })


def pairs_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Rater-against-rater kappa (metrics.calibration.pairwise_agreement, raters named as shown), the pairs
    that agree least first."""
    pairs = pairs.sort_values("kappa", na_position="last", kind="stable")
    return pd.DataFrame({
        "rater": pairs["rater_id"], "other rater": pairs["other_rater"], "items both labelled": pairs["n"],
        "kappa": [f"{words.signed(k)} ({words.coefficient_interval(Interval(k, lo, hi))})" if not pd.isna(k) else
                  f"{words.DASH} ({reason})" for k, lo, hi, reason in
                  zip(pairs["kappa"], pairs["low"], pairs["high"], pairs["reason"], strict=True)],
    }).reset_index(drop=True)


# ----------------------------------------------------------------------------- Tests and certification

def certification_table(rates: pd.DataFrame, times: pd.DataFrame, group_name: str) -> pd.DataFrame:
    """One certification's groups: first-attempt and overall pass rates, attempts to pass, weeks to certify."""
    weeks = times.set_index("group")
    return pd.DataFrame({
        group_name: rates["group"], "trainees": rates["trainees"],
        "passed at the first attempt": _rate_texts(rates, "first_attempt_", "trainees"),
        "passed in the end": _rate_texts(rates, "", "trainees"),
        "attempts to pass (95% CI)": [words.value_interval(round(m, 2), round(lo, 2), round(hi, 2))
                                      if not pd.isna(m) else words.DASH for m, lo, hi in
                                      zip(rates["attempts_to_pass"], rates["attempts_low"], rates["attempts_high"],
                                          strict=True)],
        "weeks from start to certified (95% CI)": [
            words.value_interval(*(round(float(weeks.loc[g, c]), 1) for c in ("median_weeks", "median_low", "median_high")))
            if g in weeks.index and not pd.isna(weeks.loc[g, "median_weeks"]) else "fewer than half certified yet"
            for g in rates["group"]],
    }).reset_index(drop=True)


def omnibus_words(test: ChiSquare, what: str, groups: str) -> str:
    """Whether k groups (`groups`: their plural noun) differ at all, in words, before anyone compares two."""
    if pd.isna(test.p_value):
        return f"Whether the {groups}' {what} differ cannot be tested: {test.reason}."
    verdict = (f"the {groups}' {what} differ more than chance would explain"
               if test.p_value < 0.05 else f"no clear difference between the {groups}' {what}")
    caution = f" ({test.caution})" if test.caution else ""
    return f"Across all {groups} at once: {verdict} (chi-square test, {test.cite()}){caution}."


def score_comparison_words(cmp: ScoreComparison) -> str:
    """'c2 scored 7.3 points higher than c1 on X (95% CI ...; Welch t(8.1) = ..., p = ...); Hedges' g = ...'."""
    t, g = cmp.test, cmp.size.g_s
    if not t.difference.measured or pd.isna(t.p_value):
        return f"{cmp.second} against {cmp.first} on {cmp.assessment} cannot be compared: {t.reason or cmp.size.reason}."
    direction = "higher" if t.difference.estimate >= 0 else "lower"
    verdict = "a real difference" if t.difference.excludes_zero else "no clear difference"
    return (f"{cmp.second} scored {abs(t.difference.estimate):.1f} points {direction} than {cmp.first} on "
            f"{cmp.assessment} (first attempts; 95% CI {t.difference.low:+.1f} to {t.difference.high:+.1f}; "
            f"Welch's {t.cite()}): {verdict}. Standardised difference: Hedges' g = {words.signed(g.estimate)} "
            f"({words.coefficient_interval(g)}); n = {t.n_first} and {t.n_second}.")


def all_cohorts_words(test: AllCohorts) -> str:
    """The omnibus log-rank test across every cohort, in words, before two are compared."""
    if pd.isna(test.p_value):
        return f"Whether the cohorts' pace differs cannot be tested: {test.reason}."
    verdict = ("the cohorts reach proficiency at different paces" if test.p_value < 0.05
               else "no clear difference in pace across the cohorts")
    return (f"Across all {test.cohorts} cohorts at once: {verdict} (log-rank test, chi2({test.df}) = {test.chi2:.2f}, "
            f"{words.p_text(test.p_value)}, {test.trainees:,} trainees). Compare two only with this in mind.")


def curve_point(fits: list[CohortFit], cohort: str, target: float) -> str:
    """The learning chart's point in words: where the picked cohort levels off, against the target."""
    fit = next((f for f in fits if f.cohort == cohort), None)
    if fit is None or fit.chosen is None:
        return f"Cohort {cohort}: too few weeks to fit a curve yet"
    if fit.chosen.model == "power_origin":
        return f"Cohort {cohort}: still rising, no plateau in sight yet"
    plateau = fit.chosen.params["a"]
    reach = "above" if plateau >= target else "below"
    return f"Cohort {cohort} levels off near {words.pct(plateau, 0)}, {reach} the {words.pct(target, 0)} target"


def weak_spot_point(spots: pd.DataFrame, measure: str) -> str:
    """The weak-spot map's point in words: how many cells are flagged and which is worst."""
    flagged = spots[spots["flagged"]]
    if flagged.empty:
        return f"No cell flagged on {measure} among the {words.count(int(spots['testable'].sum()), 'cell')} tested"
    worst = flagged.iloc[0]
    return (f"{words.count(len(flagged), 'cell')} flagged on {measure}; most errors to save: {worst['market']} × "
            f"{worst['policy']}")

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
