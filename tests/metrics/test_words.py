"""Figures in words: the same text on every surface, no 'nan', rounded intervals, 'p < 0.001'."""

from __future__ import annotations

import math

import pytest

from metrics import words
from metrics.stats import Interval
from metrics.weekly import Tile

NAN = math.nan


def test_rates_and_changes_in_words() -> None:
    assert words.rate_text(0.8421, 0.829, 0.854, 2310) == "84.2% (95% CI 82.9–85.4%, n=2,310)"
    assert words.rate_text(NAN, NAN, NAN, 0) == "no reviews"
    assert words.rate_text(0.5, NAN, NAN, 2) == "50.0% (n=2)"
    assert words.interval_points(Interval(0.031, 0.012, 0.05)) == "+3.1 points (95% CI +1.2 to +5.0)"
    assert words.interval_points(Interval.missing()) == "not enough data"
    assert words.points(None) == words.pct(NAN) == "—"


@pytest.mark.parametrize(("p", "text"), [(0.0004, "p < 0.001"), (0.0123, "p = 0.012"), (NAN, ""), (None, "")])
def test_p_values_never_read_as_zero(p: float | None, text: str) -> None:
    assert words.p_text(p) == text


def test_counts_are_singular_or_plural() -> None:
    assert words.count(1, "row") == "1 row" and words.count(2310, "row") == "2,310 rows"
    assert words.count(1, "person", "people") == "1 person" and words.count(3, "person", "people") == "3 people"


def test_coefficients_use_a_true_minus_and_bands() -> None:
    assert words.signed(-0.05) == "−0.05" and words.signed(NAN) == "—"
    assert words.coefficient_interval(Interval(0.4, -0.1, 0.6)) == "95% CI −0.10 to 0.60"
    assert words.agreement_band(0.5) == "moderate" and words.agreement_band(NAN) == "not measurable"
    assert words.value_interval(4, 3, NAN) == "4 (3–not reached)" and words.value_interval(NAN, 1, 2) == "—"


def test_tile_words() -> None:
    rate = Tile("Quality", True, Interval(0.8, 0.78, 0.82), 100, 0.75, 0.05, 0.0004, None, False)
    assert words.tile_verdict(rate) == "within normal variation" and words.tile_delta(rate) == "+5.0 points"
    assert "p < 0.001" in words.tile_detail(rate) and "n=100" in words.tile_detail(rate)
    count = Tile("Trainings delivered", False, Interval(1.0, NAN, NAN), 1, 3.0, -2.0, NAN, None, None)
    assert words.tile_delta(count) == "-2" and words.tile_value(count) == "1"
