"""How were a training's attendees chosen, and which effect estimate does that call for?

Two estimates of what a session did, from the same trainees, disagree when attendees started at a different
level from the comparison group (Lord's paradox), and which is right depends on how attendees were chosen:
- against colleagues who did not attend (difference-in-differences, DiD) assumes the two groups would have
  moved in parallel: right when attendees were assigned by team, market or roster, drawn at random, or when
  everyone attended, even if the groups differ in level;
- adjusted for where each trainee started (ANCOVA: after-rate on before-rate) assumes that, at the same
  starting score, who attended is as good as random: right when attendees were picked on a recent, noisy
  score, whose rebound (regression to the mean) the DiD would credit to the session.
When one holds, the other errs on a known side, so together they bracket the effect (Angrist & Pischke 2009,
Mostly Harmless Econometrics, section 5.4.1; Ding & Li 2019, Political Analysis 27(4)).

A declared `audience` (data_sources.contract.AUDIENCE_WORDS) decides. Without one, the trainees' earlier
weeks are the evidence (`pre_trend`): attendees whose scores fell just before the session, against the
comparison group, while their own earlier weeks did not, were picked on a bad spell (Ashenfelter 1978's
dip); groups that moved together before it support the DiD; attendees already gaining on the others (as
volunteers often are) make any estimate too generous. When the evidence cannot tell and the two estimates
differ by more than chance, both are the answer (`choose_estimator`).

Pure numpy/pandas on per-unit counts (one row per trainee: reviews and correct answers in the earlier,
before and after windows), so that benchmarks/validate_effects.py runs it without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from metrics import words
from metrics.stats import Interval, bootstrap_interval

Audience = Literal["everyone", "assigned", "low_scorers", "volunteers", "random"]
Estimator = Literal["did", "ancova", "bracket"]
Pattern = Literal["parallel", "dip", "rise", "unclear", "unchecked"]
Basis = Literal["declared", "evidence", "agreement", "undetermined"]

# The accepted values (data_sources.contract.AUDIENCES) in words, as "attendees were ...".
AUDIENCE_NAMES: dict[str, str] = {
    "everyone": "everyone (the session was for all)",
    "assigned": "assigned by team, market or roster",
    "low_scorers": "chosen for low scores",
    "volunteers": "volunteers",
    "random": "drawn at random",
}
# How each estimate reads, plain words first and the method's name second.
HOW = {
    "did": "against colleagues who did not attend (difference-in-differences)",
    "ancova": "against colleagues who started at the same level (ANCOVA)",
    "bracket": "both ways, as it depends on how attendees were chosen: against colleagues who started at the "
               "same level (ANCOVA) and against those who did not attend (difference-in-differences)",
}
NOT_DECLARED = "The data does not say how attendees were chosen."


def declared_audience(values: list[str | None]) -> tuple[Audience | None, str]:
    """The audience the chosen sessions declare, and a note when they do not agree. One value shared by
    every session counts; none, some missing, or several different read as not declared."""
    known = {v for v in values if v}
    if len(known) == 1 and None not in values and "" not in values:
        value = known.pop()
        if value in AUDIENCE_NAMES:
            return value, ""  # type: ignore[return-value]  # checked against the vocabulary just above
    if len(known) > 1:
        return None, f"The chosen sessions record different audiences ({', '.join(sorted(known))}): read as unknown."
    if known:
        return None, "Only some of the chosen sessions record how attendees were chosen: read as unknown."
    return None, ""


@dataclass(frozen=True)
class PreTrend:
    """Attendees against the comparison group over the window before the usual before-window ("earlier").

    `placebo`: attendees' change from the earlier window to the before-window minus the comparison group's
    (pooled rates, trainees with >= min_reviews reviews in the earlier window): zero when the groups moved
    together. `dip_fit`: placebo + (DiD - ANCOVA): zero when the gap just before the session was a passing
    dip that regression to the mean undoes, as the adjusted estimate assumes. Both are percentile bootstrap
    intervals from the effect's own resamples of trainees. `pattern`: which of these the data rules out
    (see `pre_trend`)."""

    pattern: Pattern
    attendees: int  # with enough reviews in the earlier window
    comparison: int
    placebo: Interval
    dip_fit: Interval
    note: str  # why the check could not run, when it could not

    @classmethod
    def unchecked(cls, attendees: int, comparison: int, note: str) -> PreTrend:
        return cls("unchecked", attendees, comparison, Interval.missing(), Interval.missing(), note)


def _pooled_change(frame: pd.DataFrame, mask: np.ndarray, weights: np.ndarray, first: str, second: str
                   ) -> tuple[float, np.ndarray]:
    """Pooled rate in window `second` minus window `first` over the masked rows of `frame`, and the same for
    each bootstrap resample (`weights`: resamples x rows, how often each row is drawn)."""
    cols = [f"{first}_correct", f"{first}_reviews", f"{second}_correct", f"{second}_reviews"]
    counts = frame[cols].to_numpy(float) * mask[:, None]
    whole = counts.sum(axis=0)
    sums = weights @ counts
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = whole[2] / whole[3] - whole[0] / whole[1] if whole[1] > 0 and whole[3] > 0 else np.nan
        return float(estimate), np.asarray(sums[:, 2] / sums[:, 3] - sums[:, 0] / sums[:, 1], float)


def pre_trend(
    attendees: pd.DataFrame, comparison: pd.DataFrame, *, weights_a: np.ndarray, weights_c: np.ndarray,
    did_minus_ancova: float, did_minus_ancova_boot: np.ndarray, min_reviews: int, min_trainees: int,
) -> PreTrend:
    """What the earlier weeks say about how attendees were chosen (columns early_/pre_ reviews and correct;
    `weights_a`, `weights_c` the effect's bootstrap resamples of each group's rows, as draw counts).

    Pattern, from the two 95% intervals: placebo excludes zero -> "dip" (below zero: attendees fell just
    before the session, Ashenfelter's dip) or "rise" (above: they were already gaining); otherwise, dip_fit
    excludes zero -> "parallel" (they moved together, and a dip large enough to explain the estimates'
    difference is ruled out); otherwise "unclear" (the earlier weeks fit both readings). Fewer than
    `min_trainees` trainees in either group with `min_reviews` reviews in the earlier window: "unchecked"."""
    mask_a = (attendees["early_reviews"].to_numpy() >= min_reviews).astype(float)
    mask_c = (comparison["early_reviews"].to_numpy() >= min_reviews).astype(float)
    n_a, n_c = int(mask_a.sum()), int(mask_c.sum())
    if n_a < min_trainees or n_c < min_trainees:
        return PreTrend.unchecked(n_a, n_c, (
            f"{words.count(n_a, 'attendee')} and {words.count(n_c, 'comparison trainee')} have {min_reviews} or "
            f"more reviews in the weeks before the before-window (needs {min_trainees} of each)"))
    change_a, boot_a = _pooled_change(attendees, mask_a, weights_a, "early", "pre")
    change_c, boot_c = _pooled_change(comparison, mask_c, weights_c, "early", "pre")
    placebo = bootstrap_interval(change_a - change_c, boot_a - boot_c)
    dip_fit = bootstrap_interval(placebo.estimate + did_minus_ancova, boot_a - boot_c + did_minus_ancova_boot)
    pattern: Pattern
    if placebo.excludes_zero:
        pattern = "dip" if placebo.estimate < 0 else "rise"
    else:
        pattern = "parallel" if dip_fit.excludes_zero else "unclear"
    return PreTrend(pattern, n_a, n_c, placebo, dip_fit, "")


def pre_trend_words(check: PreTrend) -> str:
    """What the earlier weeks show, in a sentence."""
    if check.pattern == "unchecked":
        return f"The earlier weeks cannot be checked: {check.note}."
    gap = f"{words.points(check.placebo.estimate)} ({words.ci_points(check.placebo.low, check.placebo.high)})"
    who = f"{check.attendees:,} attendees and {check.comparison:,} comparison trainees with reviews in the weeks before"
    return {
        "dip": f"Just before the session, attendees fell against the comparison group by {gap}, a drop their own "
               f"earlier weeks do not show ({who}).",
        "rise": f"Before the session, attendees were already gaining on the comparison group: {gap} ({who}).",
        "parallel": f"Before the session, attendees and the comparison group moved together: the gap changed by "
                    f"{gap} ({who}).",
        "unclear": f"Before the session, the gap between attendees and the comparison group changed by {gap}: too "
                   f"uncertain to tell a passing dip from a lasting difference ({who}).",
    }[check.pattern]


@dataclass(frozen=True)
class EstimatorChoice:
    """Which estimate leads, on what basis, why (plain words), and what the reader should keep in mind."""

    estimator: Estimator
    audience: Audience | None
    basis: Basis
    why: str
    caveats: tuple[str, ...]
    show_alternative: bool  # the other estimate belongs beside the headline (they disagree, nothing declared)


_DECLARED_WHY = {
    "low_scorers": "The data says attendees were chosen for low scores, so part of their rise would have come "
                   "anyway (regression to the mean): they are compared with colleagues who started at the same level.",
    "random": "The data says attendees were drawn at random, so colleagues who did not attend show what would "
              "have happened without the session.",
    "assigned": "The data says attendees were assigned by team, market or roster, not picked on their scores, so "
                "colleagues who did not attend show what would have happened, even where the groups' levels differ.",
    "everyone": "The data says the session was for everyone; colleagues who did not attend show what would have "
                "happened without it.",
    "volunteers": "The data says attendees volunteered; they are compared with colleagues who did not attend. "
                  "People who opt in are often already improving, and if they were, this overstates the effect.",
}


def _contradiction(audience: Audience, check: PreTrend) -> tuple[str, ...]:
    """A caveat when the earlier weeks do not fit the declared audience."""
    if audience == "low_scorers" and check.pattern in ("parallel", "rise"):
        return (f"The earlier weeks do not look like a choice on a bad spell: {pre_trend_words(check)}",)
    if audience in ("random", "assigned", "everyone") and check.pattern == "dip":
        return (f"The earlier weeks look like a choice on low recent scores, not {AUDIENCE_NAMES[audience]}: "
                f"{pre_trend_words(check)} Check how attendees were chosen.",)
    if check.pattern == "rise":
        return (_overstated(check),)
    return ()


def _overstated(check: PreTrend) -> str:
    """The caveat of a rise before the session: the windows are equally long, so a rise that simply went on
    would add about as much again after it."""
    return (f"Attendees were already gaining {words.points(check.placebo.estimate)} a window on the comparison "
            "group before the session: if that simply went on, the effect is overstated by about as much.")


def choose_estimator(audience: Audience | None, check: PreTrend, disagreement: Interval) -> EstimatorChoice:
    """The estimate to lead with. `disagreement` is DiD - ANCOVA with its bootstrap interval: the two
    disagree when it excludes zero.

    Declared: low_scorers -> ANCOVA; everyone, assigned, random -> DiD; volunteers -> DiD with the caveat
    that volunteers may already be improving. Not declared: a dip -> ANCOVA; a rise -> DiD with that caveat;
    parallel -> DiD; unclear or unchecked -> DiD when the two agree, else both ("bracket")."""
    disagree = disagreement.excludes_zero
    if audience is not None:
        estimator: Estimator = "ancova" if audience == "low_scorers" else "did"
        return EstimatorChoice(estimator, audience, "declared", _DECLARED_WHY[audience],
                               _contradiction(audience, check), show_alternative=False)
    evidence = pre_trend_words(check)
    if check.pattern == "dip":
        why = (f"{NOT_DECLARED} {evidence} That is the mark of attendees picked on a bad spell (Ashenfelter's dip), "
               "so part of their rebound would have come anyway: they are compared with colleagues who started at "
               "the same level.")
        return EstimatorChoice("ancova", None, "evidence", why, (), show_alternative=disagree)
    if check.pattern == "rise":
        why = (f"{NOT_DECLARED} {evidence} As with volunteers, part of what follows the session would have "
               "happened anyway: read the effect as an upper end.")
        return EstimatorChoice("did", None, "evidence", why, (_overstated(check),), show_alternative=disagree)
    if check.pattern == "parallel":
        why = (f"{NOT_DECLARED} {evidence} So colleagues who did not attend show what would have happened, even "
               "where the groups' levels differ.")
        return EstimatorChoice("did", None, "evidence", why, (), show_alternative=disagree)
    if not disagree:
        why = (f"{NOT_DECLARED} {evidence} The two ways of reading the effect (against non-attendees, and "
               "adjusted for where each trainee started) agree, so it matters little here.")
        return EstimatorChoice("did", None, "agreement", why, (), show_alternative=False)
    why = (f"{NOT_DECLARED} {evidence} If attendees were picked on their recent scores, the estimate adjusted for "
           "where each started is right; if they were assigned by team or at random, the comparison with "
           "non-attendees is. The effect is most likely between the two. Recording how attendees were chosen (the "
           "trainings' audience column) settles it.")
    return EstimatorChoice("bracket", None, "undetermined", why, (), show_alternative=True)


# --------------------------------------------------------------------------------------------- event study

EVENT_STUDY_COLUMNS = ["offset", "gap", "low", "high", "attendee_rate", "comparison_rate", "attendee_reviews",
                       "comparison_reviews"]


def event_study(
    weekly: pd.DataFrame, units: pd.DataFrame, *, min_reviews: int, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Attendees' pooled rate minus the comparison group's, week by week around the session, with a 95%
    percentile bootstrap interval over trainees (each trainee's weeks resampled together).

    `weekly`: trainee_id, offset (weeks since the session: 0 = its first seven days), reviewed, correct.
    `units`: trainee_id, group ('attended' / 'comparison'): the trainees the effect counts. A week where
    either group has fewer than `min_reviews` reviews is left out. Columns: EVENT_STUDY_COLUMNS."""
    weekly = weekly[weekly["trainee_id"].isin(units["trainee_id"])]
    if weekly.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in EVENT_STUDY_COLUMNS})
    offsets = np.sort(weekly["offset"].unique())
    column = np.searchsorted(offsets, weekly["offset"].to_numpy())
    rng = np.random.default_rng(seed)
    parts = {}
    for group in ("attended", "comparison"):
        ids = units.loc[units["group"] == group, "trainee_id"].to_numpy()
        row = pd.Index(ids).get_indexer(weekly["trainee_id"])
        mine = row >= 0
        reviewed, correct = np.zeros((len(ids), len(offsets))), np.zeros((len(ids), len(offsets)))
        np.add.at(reviewed, (row[mine], column[mine]), weekly["reviewed"].to_numpy(float)[mine])
        np.add.at(correct, (row[mine], column[mine]), weekly["correct"].to_numpy(float)[mine])
        n = len(ids)
        weights = rng.multinomial(n, np.full(n, 1 / n), size=n_boot) if n else np.zeros((n_boot, 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            parts[group] = (reviewed.sum(axis=0), correct.sum(axis=0) / reviewed.sum(axis=0),
                            (weights @ correct) / (weights @ reviewed))
    (n_a, rate_a, boot_a), (n_c, rate_c, boot_c) = parts["attended"], parts["comparison"]
    rows = []
    for j, offset in enumerate(offsets):
        if n_a[j] < min_reviews or n_c[j] < min_reviews:
            continue
        gap = bootstrap_interval(float(rate_a[j] - rate_c[j]), boot_a[:, j] - boot_c[:, j])
        rows.append({"offset": int(offset), "gap": gap.estimate, "low": gap.low, "high": gap.high,
                     "attendee_rate": float(rate_a[j]), "comparison_rate": float(rate_c[j]),
                     "attendee_reviews": int(n_a[j]), "comparison_reviews": int(n_c[j])})
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in EVENT_STUDY_COLUMNS})
    return pd.DataFrame(rows, columns=EVENT_STUDY_COLUMNS)
