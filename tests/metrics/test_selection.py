"""The evidence on how attendees were chosen (metrics.selection) and the one headline (metrics.headline), on
tiny hand-built per-unit frames: which estimate leads, on what basis, and the words that say it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metrics.headline import headline, verdict
from metrics.selection import (
    PreTrend,
    choose_estimator,
    declared_audience,
    event_study,
    pre_trend,
    pre_trend_words,
)
from metrics.stats import Interval

N_BOOT = 400


def units(early: list[tuple[int, int]], pre: list[tuple[int, int]]) -> pd.DataFrame:
    """One row per trainee from (correct, reviews) in the earlier and the before window."""
    return pd.DataFrame({"early_correct": [c for c, _ in early], "early_reviews": [n for _, n in early],
                         "pre_correct": [c for c, _ in pre], "pre_reviews": [n for _, n in pre]})


def weights(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=N_BOOT).astype(float)


def check(a: pd.DataFrame, c: pd.DataFrame, gap: float, gap_sd: float = 0.01, min_trainees: int = 10) -> PreTrend:
    boot = np.random.default_rng(9).normal(gap, gap_sd, N_BOOT)
    return pre_trend(a, c, weights_a=weights(len(a), 1), weights_c=weights(len(c), 2), did_minus_ancova=gap,
                     did_minus_ancova_boot=boot, min_reviews=5, min_trainees=min_trainees)


def spread(rate_early: float, rate_pre: float, n: int = 20, reviews: int = 40) -> pd.DataFrame:
    """n trainees around the given rates (alternating one answer up and down, so that resamples vary)."""
    wobble = [(-1) ** i for i in range(n)]
    return units([(round(rate_early * reviews) + w, reviews) for w in wobble],
                 [(round(rate_pre * reviews) + w, reviews) for w in wobble])


def test_a_dip_just_before_the_session_that_earlier_weeks_do_not_show_reads_as_selection_on_a_bad_spell():
    result = check(spread(0.80, 0.60), spread(0.80, 0.80), gap=0.15)
    assert result.pattern == "dip"
    assert result.placebo.estimate == pytest.approx(-0.20) and result.placebo.high < 0
    assert (result.attendees, result.comparison) == (20, 20)
    assert "fell against the comparison group by -20.0 points" in pre_trend_words(result)


def test_a_stable_gap_reads_as_parallel_when_a_dip_that_big_is_ruled_out():
    result = check(spread(0.70, 0.70), spread(0.85, 0.85), gap=0.05)
    assert result.pattern == "parallel"
    assert result.placebo.estimate == pytest.approx(0.0) and result.dip_fit.low > 0
    assert "moved together" in pre_trend_words(result)


def test_attendees_already_gaining_read_as_a_rise():
    assert check(spread(0.70, 0.80), spread(0.80, 0.80), gap=0.0).pattern == "rise"


def test_a_small_gap_change_that_fits_both_readings_is_unclear():
    # The placebo includes zero and so does placebo + (DiD - ANCOVA): the earlier weeks cannot tell.
    result = check(spread(0.80, 0.79), spread(0.80, 0.80), gap=0.01, gap_sd=0.03)
    assert result.pattern == "unclear" and not result.placebo.excludes_zero and not result.dip_fit.excludes_zero


def test_without_enough_earlier_reviews_the_check_says_it_cannot_run():
    a = spread(0.80, 0.60)
    a["early_reviews"] = [4] * 15 + [40] * 5  # only 5 attendees with 5 or more earlier reviews
    result = check(a, spread(0.8, 0.8), gap=0.15)
    assert result.pattern == "unchecked" and result.attendees == 5 and result.comparison == 20
    assert math.isnan(result.placebo.estimate)
    assert "5 attendees and 20 comparison trainees have 5 or more reviews" in pre_trend_words(result)


DISAGREE = Interval(0.12, 0.08, 0.17)
AGREE = Interval(-0.01, -0.04, 0.01)


def pattern(name: str) -> PreTrend:
    placebo = {"dip": Interval(-0.1, -0.15, -0.05), "rise": Interval(0.06, 0.02, 0.1)}.get(name, Interval(0, -0.02, 0.02))
    fit = Interval(0.1, 0.05, 0.15) if name == "parallel" else Interval(0.0, -0.05, 0.05)
    if name == "unchecked":
        return PreTrend.unchecked(2, 30, "only 2 attendees and 30 comparison trainees have 5 or more reviews")
    return PreTrend(name, 20, 40, placebo, fit, "")  # type: ignore[arg-type]


@pytest.mark.parametrize(("audience", "evidence", "disagreement", "estimator", "basis", "alternative"), [
    ("low_scorers", "unchecked", DISAGREE, "ancova", "declared", False),
    ("random", "unchecked", DISAGREE, "did", "declared", False),
    ("assigned", "dip", DISAGREE, "did", "declared", False),
    ("everyone", "parallel", AGREE, "did", "declared", False),
    ("volunteers", "unchecked", AGREE, "did", "declared", False),
    (None, "dip", DISAGREE, "ancova", "evidence", True),
    (None, "rise", AGREE, "did", "evidence", False),
    (None, "parallel", DISAGREE, "did", "evidence", True),
    (None, "unclear", AGREE, "did", "agreement", False),
    (None, "unchecked", AGREE, "did", "agreement", False),
    (None, "unclear", DISAGREE, "bracket", "undetermined", True),
    (None, "unchecked", DISAGREE, "bracket", "undetermined", True),
])
def test_choose_estimator(audience, evidence, disagreement, estimator, basis, alternative):
    choice = choose_estimator(audience, pattern(evidence), disagreement)
    assert (choice.estimator, choice.basis, choice.show_alternative) == (estimator, basis, alternative)
    if audience is None:
        assert choice.why.startswith("The data does not say how attendees were chosen.")
        assert "chosen for low scores" not in choice.why
    else:
        assert choice.why.startswith("The data says ")


def test_a_declared_audience_the_earlier_weeks_contradict_gets_a_caveat():
    choice = choose_estimator("assigned", pattern("dip"), DISAGREE)
    assert choice.estimator == "did"
    assert any("look like a choice on low recent scores, not assigned by team" in c for c in choice.caveats)
    assert choose_estimator("assigned", pattern("parallel"), DISAGREE).caveats == ()
    assert any("overstated" in c for c in choose_estimator("volunteers", pattern("rise"), AGREE).caveats)


@pytest.mark.parametrize(("values", "audience", "note"), [
    (["low_scorers"], "low_scorers", ""),
    (["random", "random"], "random", ""),
    ([None], None, ""),
    (["random", None], None, "Only some"),
    (["random", "low_scorers"], None, "different audiences (low_scorers, random)"),
])
def test_declared_audience_of_several_sessions(values, audience, note):
    found, said = declared_audience(values)
    assert found == audience and (note in said if note else said == "")


# ------------------------------------------------------------------------------------------ headline

DID = Interval(0.118, 0.065, 0.169)
ANCOVA = Interval(-0.008, -0.047, 0.028)


def make(estimator: str, *, enough: bool = True, mde: float = 0.076):
    choice = None
    if enough:
        check_ = pattern("unchecked")
        audience = {"ancova": "low_scorers", "did": "random"}.get(estimator)
        choice = choose_estimator(audience, check_, DISAGREE)  # type: ignore[arg-type]
    return headline(measure="quality", measure_reason="quality (QA audits), as chosen", enough_data=enough,
                    not_enough="only 4 of 30 attendees have 5 or more quality reviews both before and after "
                               "(needs 10)", choice=choice, did=DID, ancova=ANCOVA, n_attendees=30,
                    n_comparison=64, reviews=3874, mde=mde, caveats=("The after-window runs past the latest data.",))


def test_headline_words_for_each_estimate():
    did = make("did")
    assert did.text == "+11.8 points of quality (95% CI +6.5 to +16.9): a real change"
    assert did.how == "against colleagues who did not attend (difference-in-differences)"
    assert did.short == "+11.8 points" and did.n_text == "30 attendees, 64 compared, 3,874 reviews"
    ancova = make("ancova")
    assert ancova.text == ("-0.8 points of quality (95% CI -4.7 to +2.8): no clear effect; this design could only "
                           "detect changes of about ±7.6 points")
    assert ancova.how.startswith("against colleagues who started at the same level")
    assert ancova.caveats == ("The after-window runs past the latest data.",)


def test_a_bracket_shows_both_estimates_and_the_span_of_their_intervals():
    both = make("bracket")
    assert both.estimator == "bracket" and both.alternative is None
    assert both.interval == Interval((DID.estimate + ANCOVA.estimate) / 2, ANCOVA.low, DID.high)
    assert both.text == ("between -0.8 and +11.8 points of quality (95% CI -4.7 to +16.9): unclear until it is known "
                         "how attendees were chosen")
    assert both.short == "-0.8 to +11.8 points"


def test_without_enough_data_the_headline_says_why_and_shows_no_figure():
    none = make("did", enough=False)
    assert not none.enough_data and none.estimator == "none" and math.isnan(none.interval.estimate)
    assert none.text == ("not enough data: only 4 of 30 attendees have 5 or more quality reviews both before and "
                         "after (needs 10)")
    assert none.short == "not enough data"


def test_verdicts():
    assert verdict(Interval(0.05, 0.01, 0.09), "did", None, 0.04) == "a real change"
    assert verdict(Interval(0.01, -0.02, 0.04), "did", None, math.nan) == "no clear effect"
    same_side = (Interval(0.03, 0.01, 0.05), Interval(0.1, 0.06, 0.14))
    assert verdict(Interval(0.065, 0.01, 0.14), "bracket", same_side, 0.04) == "a real change"
    neither = (Interval(-0.01, -0.03, 0.01), Interval(0.01, -0.01, 0.03))
    assert verdict(Interval(0.0, -0.03, 0.03), "bracket", neither, 0.05).startswith("no clear effect; this design")


# --------------------------------------------------------------------------------------- event study

def test_event_study_gap_per_week_with_its_interval():
    # Two attendees and three comparison trainees, three weeks: attendees 10 points below before, level after.
    rows = []
    for t, group, rates in (("a1", "attended", (0.7, 0.7, 0.9)), ("a2", "attended", (0.7, 0.7, 0.9)),
                            ("c1", "comparison", (0.8, 0.8, 0.9)), ("c2", "comparison", (0.8, 0.8, 0.9)),
                            ("c3", "comparison", (0.8, 0.8, 0.9))):
        for offset, rate in zip((-2, -1, 0), rates, strict=True):
            rows.append({"trainee_id": t, "group": group, "offset": offset, "reviewed": 10, "correct": round(rate * 10)})
    weekly = pd.DataFrame(rows)
    people = weekly[["trainee_id", "group"]].drop_duplicates()
    out = event_study(weekly.drop(columns="group"), people, min_reviews=5, n_boot=200)
    assert out["offset"].tolist() == [-2, -1, 0]
    assert out["gap"].tolist() == pytest.approx([-0.1, -0.1, 0.0])
    assert (out["low"] <= out["gap"] + 1e-12).all() and (out["gap"] <= out["high"] + 1e-12).all()
    assert out["attendee_reviews"].tolist() == [20, 20, 20] and out["comparison_reviews"].tolist() == [30, 30, 30]
    thin = event_study(weekly.drop(columns="group"), people, min_reviews=25, n_boot=50)
    assert thin.empty  # attendees have 20 reviews a week: under the bar, no week is drawn
    assert event_study(weekly.iloc[0:0].drop(columns="group"), people, min_reviews=5).empty
