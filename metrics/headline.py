"""The one headline of a training's effect: the figure every surface shows (Training impact, the Overview's
week table, the weekly report, a trainee's trainings), built once from a TrainingEffect's parts so that they
all say the same number, interval and words."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from metrics import words
from metrics.selection import HOW, Basis, EstimatorChoice
from metrics.stats import Interval

HeadlineEstimator = Literal["did", "ancova", "bracket", "none"]


@dataclass(frozen=True)
class EffectHeadline:
    """What a session did to its attendees' work, as the figure to lead with.

    `interval` is in proportion points (0.03 = 3 points) at 95%: the chosen estimate's; for "bracket" (the
    two estimates disagree and nothing says which is right) it runs from the lower end of the two intervals
    to the higher, around the midpoint of the two estimates, and `low_estimate`/`high_estimate` are the two.
    `mde`: the smallest effect this design would detect with 80% power (metrics.inference), in points.
    `how`: the estimate in plain words, then the method's name; `why`: why it is the one to read."""

    measure: str  # "quality" or "accuracy"
    measure_reason: str
    enough_data: bool
    estimator: HeadlineEstimator
    basis: Basis | None
    interval: Interval
    low_estimate: float
    high_estimate: float
    alternative: Interval | None  # the other estimate, shown beside when the two disagree
    n_attendees: int
    n_comparison: int
    reviews: int
    how: str
    why: str
    verdict: str
    mde: float
    caveats: tuple[str, ...]

    @property
    def figure(self) -> str:
        """'+6.7 points of quality (95% CI +2.9 to +10.0)'; 'between −0.8 and +11.8 points of quality (95% CI
        −4.7 to +16.9)'; 'not enough data'."""
        if not self.enough_data:
            return "not enough data"
        ci = words.ci_points(self.interval.low, self.interval.high, self.interval.level)
        if self.estimator == "bracket":
            low, high = words.points(self.low_estimate), words.points(self.high_estimate)
            return f"between {low.removesuffix(' points')} and {high} of {self.measure} ({ci})"
        return f"{words.points(self.interval.estimate)} of {self.measure} ({ci})"

    @property
    def text(self) -> str:
        """The figure and its verdict: the words every surface shows ('not enough data: <why>' without)."""
        return f"{self.figure}: {self.verdict}"

    @property
    def short(self) -> str:
        """The figure without its interval, for a tile."""
        if not self.enough_data:
            return "not enough data"
        if self.estimator == "bracket":
            return f"{words.points(self.low_estimate).removesuffix(' points')} to {words.points(self.high_estimate)}"
        return words.points(self.interval.estimate)

    @property
    def n_text(self) -> str:
        return (f"{words.count(self.n_attendees, 'attendee')}, {self.n_comparison:,} compared, "
                f"{words.count(self.reviews, 'review')}")


def verdict(interval: Interval, estimator: HeadlineEstimator, bounds: tuple[Interval, Interval] | None,
            mde: float) -> str:
    """'a real change', 'no clear effect; this design could only detect changes of about ±X points', or for
    a bracket whose two ends disagree on that, 'unclear until it is known how attendees were chosen'."""
    if estimator == "bracket" and bounds is not None:
        real = [b.excludes_zero for b in bounds]
        if all(real) and (bounds[0].estimate > 0) == (bounds[1].estimate > 0):
            return "a real change"
        if any(real):
            return "unclear until it is known how attendees were chosen"
    elif interval.excludes_zero:
        return "a real change"
    if math.isfinite(mde):
        return f"no clear effect; this design could only detect changes of about ±{abs(mde) * 100:.1f} points"
    return "no clear effect"


def headline(
    *, measure: str, measure_reason: str, enough_data: bool, not_enough: str, choice: EstimatorChoice | None,
    did: Interval, ancova: Interval, n_attendees: int, n_comparison: int, reviews: int, mde: float,
    caveats: tuple[str, ...],
) -> EffectHeadline:
    """The headline from the estimates and the choice between them (metrics.selection.choose_estimator).
    Without enough data (or no choice) `not_enough` (a clause: why) is the verdict, and there is no figure."""
    if not enough_data or choice is None:
        return EffectHeadline(measure, measure_reason, False, "none", None, Interval.missing(), math.nan, math.nan,
                              None, n_attendees, n_comparison, reviews, "", "", not_enough, mde, caveats)
    bounds: tuple[Interval, Interval] | None = None
    alternative: Interval | None = None
    if choice.estimator == "bracket":
        bounds = (ancova, did) if ancova.estimate <= did.estimate else (did, ancova)
        interval = Interval((did.estimate + ancova.estimate) / 2, min(did.low, ancova.low),
                            max(did.high, ancova.high), did.level)
        low_estimate, high_estimate = bounds[0].estimate, bounds[1].estimate
    else:
        interval, other = (ancova, did) if choice.estimator == "ancova" else (did, ancova)
        low_estimate = high_estimate = interval.estimate
        alternative = other if choice.show_alternative else None
    why = choice.why
    if alternative is not None:
        other_how = HOW["did" if choice.estimator == "ancova" else "ancova"]
        why += (f" Read {other_how}, it would be {words.interval_points(alternative)}: the two disagree, so both "
                "are shown.")
    return EffectHeadline(
        measure, measure_reason, True, choice.estimator, choice.basis, interval, low_estimate, high_estimate,
        alternative, n_attendees, n_comparison, reviews, HOW[choice.estimator], why,
        verdict(interval, choice.estimator, bounds, mde), mde, (*choice.caveats, *caveats),
    )
