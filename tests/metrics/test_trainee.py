"""Trainee profile and coaching list on hand-built stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from data_sources.store import Store, open_store
from metrics.filters import Filters
from metrics.trainee import (
    coaching_list,
    policy_strengths,
    trainee_assessments,
    trainee_list,
    trainee_trainings,
    trainee_trend,
)
from tests.metrics.test_training import insert

START = dt.date(2026, 1, 5)


def row(trainee: str, market: str, day: int, reviewed: int, correct: int, policy: str = "Spam",
        source: str = "golden_set") -> dict[str, object]:
    return {"trainee_id": trainee, "date": START + dt.timedelta(days=day), "policy": policy, "source": source,
            "market": market, "project": None, "reviewed": reviewed, "correct": correct}


@pytest.fixture
def store() -> Iterator[Store]:
    """TH: ten steady trainees at 88-92% (100 reviews each on Spam and on Hate Speech), 'Bad' at 60% on
    Hate Speech, 'Unlucky' with 3 reviews all wrong. VN: five at 70%, so 70% there is ordinary."""
    s = open_store(":memory:")
    con = s.cursor()
    th = [f"T{i}" for i in range(10)]
    vn = [f"V{i}" for i in range(5)]
    insert(con, "trainees",
           [{"trainee_id": p, "market": "TH", "cohort": "c1", "start_date": START, "name": f"Name {p}"}
            for p in [*th, "Bad", "Unlucky"]]
           + [{"trainee_id": p, "market": "VN", "cohort": "c1", "start_date": START} for p in vn])
    rows = []
    for i, p in enumerate(th):
        for week in range(4):
            rows.append(row(p, "TH", 7 * week, 25, 22 + i % 3))
            rows.append(row(p, "TH", 7 * week + 1, 25, 22 + (i + 1) % 3, policy="Hate Speech"))
    for week in range(4):
        rows.append(row("Bad", "TH", 7 * week, 25, 22))
        rows.append(row("Bad", "TH", 7 * week + 1, 25, 15, policy="Hate Speech"))
    rows.append(row("Unlucky", "TH", 3, 3, 0))
    for p in vn:
        for week in range(4):
            rows.append(row(p, "VN", 7 * week, 25, 17 + week % 2))
    insert(con, "decision_daily", rows)
    insert(con, "trainings", [{"training_id": "T1", "date": START + dt.timedelta(days=14), "kind": "coaching",
                               "title": "HS coaching", "policy": "Hate Speech"}])
    insert(con, "attendance", [{"training_id": "T1", "trainee_id": "Bad", "attended": True}])
    insert(con, "feedback", [{"training_id": "T1", "trainee_id": "Bad", "rating": 2}])
    insert(con, "assessments", [{"trainee_id": "Bad", "date": START, "assessment": "HS quiz", "score": 7.0,
                                 "max_score": 10.0, "pass_mark": 80.0, "attempt": 1, "kind": "quiz"}])
    yield s
    s.close()


def test_three_wrong_reviews_put_no_one_on_the_coaching_list(store: Store) -> None:
    coach = coaching_list(store.cursor(), Filters(), min_reviewed=50)
    assert "Unlucky" not in set(coach["trainee_id"])
    assert list(coach["shrunk_rate"]) == sorted(coach["shrunk_rate"])  # lowest shrunk rate first
    flagged = set(coach.loc[coach["needs_coaching"], "trainee_id"])
    assert flagged == {"Bad"}  # VN's 70% is lower, but ordinary for VN
    bad = coach.set_index("trainee_id").loc["Bad"]
    assert bad["reviewed"] == 200 and bad["rate"] == pytest.approx(148 / 200)
    assert bad["weakest_policy"] == "Hate Speech" and bad["weakest_policy_gap"] < -0.1
    assert bad["low"] < bad["rate"] < bad["high"]
    assert bad["shrunk_low"] < bad["shrunk_rate"] < bad["shrunk_high"] < bad["group_rate"]


def test_coaching_threshold_and_market_cohort_level(store: Store) -> None:
    coach = coaching_list(store.cursor(), Filters(), threshold=0.8).set_index("trainee_id")
    assert coach.loc[[f"V{i}" for i in range(5)], "needs_coaching"].all()
    by_cohort = coaching_list(store.cursor(), Filters(), level="market_cohort")
    assert set(by_cohort.loc[by_cohort["needs_coaching"], "trainee_id"]) == {"Bad"}


def test_shrinkage_pulls_a_small_count_towards_the_market(store: Store) -> None:
    s = policy_strengths(store.cursor(), "Unlucky", Filters()).set_index("policy")
    spam = s.loc["Spam"]
    assert spam["reviewed"] == 3 and spam["rate"] == 0
    assert 0.5 < spam["shrunk_rate"] < spam["market_rate"]  # 3 reviews say little: mostly the market
    assert spam["shrunk_low"] < spam["shrunk_rate"] < spam["shrunk_high"]
    bad = policy_strengths(store.cursor(), "Bad", Filters())
    assert list(bad["policy"]) == ["Hate Speech", "Spam"]  # weakest first
    assert bad.iloc[0]["gap"] < -0.1 and bad.iloc[0]["shrunk_high"] < bad.iloc[0]["market_rate"]


def test_trainee_list_and_trend(store: Store) -> None:
    roster = trainee_list(store.cursor(), Filters(markets=("TH",)))
    assert len(roster) == 12 and roster.set_index("trainee_id").loc["Bad", "reviewed"] == 200
    trend = trainee_trend(store.cursor(), "Bad", Filters())
    assert list(trend["tenure_week"]) == [0, 1, 2, 3]
    assert trend.iloc[0]["week"] == pd_date(START) and trend.iloc[0]["rate"] == pytest.approx(37 / 50)
    # cohort-mates in every market (filter a market to narrow): 10 TH + 5 VN; Unlucky's 3 reviews < 10
    assert (trend["cohort_trainees"] == 15).all()
    assert (trend["cohort_p25"] <= trend["cohort_median"]).all() and (trend["cohort_median"] > 0.85).all()
    th_only = trainee_trend(store.cursor(), "Bad", Filters(markets=("TH",)))
    assert (th_only["cohort_trainees"] == 10).all() and (th_only["cohort_p25"] > 0.85).all()


def pd_date(d: dt.date) -> pd.Timestamp:
    return pd.Timestamp(d)


def test_trainee_trainings_and_assessments(store: Store) -> None:
    tr = trainee_trainings(store.cursor(), "Bad").iloc[0]
    assert tr["training_id"] == "T1" and tr["attended"] and tr["rating"] == 2
    assert tr["pre_reviews"] == 50 and tr["pre_rate"] == pytest.approx(0.6)
    assert tr["post_reviews"] == 50 and tr["change"] == pytest.approx(0.0)
    tests = trainee_assessments(store.cursor(), "Bad").iloc[0]
    assert tests["pct"] == pytest.approx(70.0) and not tests["passed"]


def test_trainee_views_of_an_empty_store(empty_store: Store) -> None:
    con = empty_store.cursor()
    assert trainee_list(con, Filters()).empty
    assert trainee_trend(con, "x", Filters()).empty
    assert policy_strengths(con, "x", Filters()).empty
    assert trainee_trainings(con, "x").empty
    assert trainee_assessments(con, "x").empty
    assert coaching_list(con, Filters()).empty


def test_the_coaching_list_over_all_dates_reads_the_totals_rollup_with_the_same_answer(store: Store) -> None:
    con = store.cursor()
    first, last = con.execute("SELECT min(date), max(date) FROM decision_daily").fetchone()  # type: ignore[misc]
    everything = coaching_list(con, Filters(), min_reviewed=1)
    assert not everything.empty
    pd.testing.assert_frame_equal(coaching_list(con, Filters(start=first, end=last), min_reviewed=1), everything)
    # Read from decision_daily instead: a day of data after `last` (for no one on the roster) makes the
    # range no longer "all dates", and adds nothing inside it.
    con.execute("DELETE FROM decision_totals")
    insert(con, "decision_daily", [{"trainee_id": "nobody", "date": last + dt.timedelta(days=1), "policy": "Spam",
                                    "source": "golden_set", "market": "TH", "project": None, "reviewed": 5,
                                    "correct": 1}])
    con.execute("DELETE FROM decision_totals")
    pd.testing.assert_frame_equal(coaching_list(con, Filters(start=first, end=last), min_reviewed=1), everything)
