"""Tests and certification: pass rates per group with intervals, attempts to pass, time to certification,
the omnibus test before comparing groups, and two groups' scores compared."""

from __future__ import annotations

import datetime as dt

import pytest

from data_sources.store import Store
from metrics.assessments import (
    certification_pass_rates,
    compare_scores,
    pass_rate_test,
    time_to_certification,
)
from metrics.filters import Filters
from tests.metrics.test_training import insert

START = dt.date(2026, 3, 2)


def build(store: Store) -> None:
    """Cohort c1 (TH): 6 trainees; A0-A3 pass at the first attempt, A4 at the second, A5 never.
    Cohort c2 (VN): 4 trainees, all pass at the first attempt, three weeks later than c1."""
    con = store.cursor()
    people = [(f"A{i}", "TH", "c1") for i in range(6)] + [(f"B{i}", "VN", "c2") for i in range(4)]
    insert(con, "trainees", [{"trainee_id": t, "market": m, "cohort": c, "start_date": START} for t, m, c in people])
    base = {"max_score": 100.0, "pass_mark": 80.0, "kind": "certification", "assessment": "Cert"}

    def attempt(t: str, week: int, score: float, n: int) -> dict[str, object]:
        return {**base, "trainee_id": t, "date": START + dt.timedelta(weeks=week), "score": score, "attempt": n}

    rows = [attempt(f"A{i}", 2, 85 + i, 1) for i in range(4)]
    rows += [attempt("A4", 2, 70, 1), attempt("A4", 4, 82, 2), attempt("A5", 2, 60, 1), attempt("A5", 4, 65, 2)]
    rows += [attempt(f"B{i}", 5, 90 + i, 1) for i in range(4)]
    insert(con, "assessments", rows)


def test_pass_rates_per_cohort_with_attempts_to_pass(empty_store: Store) -> None:
    build(empty_store)
    rates = certification_pass_rates(empty_store.cursor(), Filters()).set_index("group")
    c1 = rates.loc["c1"]
    assert (c1.trainees, c1.passed, c1.first_attempt_passed) == (6, 5, 4)
    assert c1.first_attempt_low < 4 / 6 < c1.first_attempt_high
    assert c1.attempts_to_pass == pytest.approx(6 / 5)  # 1, 1, 1, 1, 2
    assert rates.loc["c2", "first_attempt_rate"] == 1.0
    by_market = certification_pass_rates(empty_store.cursor(), Filters(), by="market")
    assert set(by_market["group"]) == {"TH", "VN"}


def test_the_omnibus_test_runs_before_any_pairwise_look(empty_store: Store) -> None:
    build(empty_store)
    rates = certification_pass_rates(empty_store.cursor(), Filters())
    test = pass_rate_test(rates, "Cert")
    # 4 of 6 against 4 of 4: the chi-square of two proportions on 1 df, with small expected counts flagged.
    assert test.df == 1 and 0 < test.p_value < 1 and test.caution


def test_time_to_certification_counts_those_not_there_yet(empty_store: Store) -> None:
    build(empty_store)
    times = time_to_certification(empty_store.cursor(), Filters()).set_index("group")
    assert (times.loc["c1", "trainees"], times.loc["c1", "certified"]) == (6, 5)
    assert times.loc["c1", "median_weeks"] == pytest.approx(2.0)  # 4 of 6 certified in week 2
    assert times.loc["c2", "median_weeks"] == pytest.approx(5.0)


def test_two_groups_scores_compared_with_welch_and_g(empty_store: Store) -> None:
    build(empty_store)
    cmp = compare_scores(empty_store.cursor(), Filters(), "Cert", "c1", "c2")
    assert (cmp.test.n_first, cmp.test.n_second) == (6, 4)
    assert cmp.test.difference.estimate == pytest.approx(91.5 - (85 + 86 + 87 + 88 + 70 + 60) / 6)
    assert cmp.test.method.startswith("Welch") and cmp.size.g_s.estimate > 0
