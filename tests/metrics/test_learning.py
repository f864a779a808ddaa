"""Learning curves and time to proficiency on hand-built stores, and on the sample data's cohorts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_sources.store import Store, open_store
from metrics.curves import exp_rise
from metrics.filters import Filters
from metrics.learning import (
    Proficiency,
    compare_cohorts,
    fit_curves,
    fitted,
    learning_curves,
    proficiency_curve,
    time_to_proficiency,
)
from tests.metrics.test_training import insert

START = dt.date(2026, 1, 5)


def week_rows(trainee: str, week: int, reviewed: int, correct: int) -> dict[str, object]:
    # On the last day (day 6) of the tenure week: still that week, not the next.
    return {"trainee_id": trainee, "date": START + dt.timedelta(days=7 * week + 6), "policy": "Spam",
            "source": "golden_set", "market": "TH", "project": None, "reviewed": reviewed, "correct": correct}


@pytest.fixture
def store() -> Iterator[Store]:
    """Cohort 'fast': 10 trainees at 95% from tenure week 1 (proficient in week 2 on a two-week window).
    Cohort 'slow': 7 trainees at 95% from week 5 (proficient in week 6), 3 stuck at 80% to week 9."""
    s = open_store(":memory:")
    con = s.cursor()
    people = [(f"F{i}", "fast") for i in range(10)] + [(f"S{i}", "slow") for i in range(10)]
    insert(con, "trainees", [
        {"trainee_id": p, "market": "TH", "cohort": c, "start_date": START} for p, c in people
    ])
    rows = []
    for p, c in people:
        good_from = 1 if c == "fast" else (5 if int(p[1:]) < 7 else 99)
        for week in range(10):
            rows.append(week_rows(p, week, 20, 19 if week >= good_from else 16))
    insert(con, "decision_daily", rows)
    yield s
    s.close()


def test_learning_curve_bins_days_into_tenure_weeks(store: Store) -> None:
    curves = learning_curves(store.cursor(), Filters(), max_weeks=8)
    fast = curves[curves["cohort"] == "fast"].set_index("week")
    assert list(fast.index) == list(range(8))
    assert fast.loc[0, "reviewed"] == 200 and fast.loc[0, "rate"] == pytest.approx(0.8)
    assert fast.loc[1, "rate"] == pytest.approx(0.95) and fast.loc[1, "trainees"] == 10
    assert (fast["low"] < fast["rate"]).all() and (fast["rate"] < fast["high"]).all()


def test_time_to_proficiency_counts_the_censored(store: Store) -> None:
    ttp = time_to_proficiency(store.cursor(), Filters(), n_boot=200).set_index("cohort")
    assert ttp.loc["fast", "reached"] == 10 and ttp.loc["fast", "median_weeks"] == 2
    assert ttp.loc["fast", "km_median"] == 2
    assert ttp.loc["slow", "trainees"] == 10 and ttp.loc["slow", "reached"] == 7
    assert ttp.loc["slow", "median_weeks"] == 6 and ttp.loc["slow", "km_median"] == 6
    assert ttp.loc["slow", "median_low"] <= 6 <= ttp.loc["slow", "median_high"]


def test_trainees_who_started_before_the_data_are_left_out(store: Store) -> None:
    con = store.cursor()
    insert(con, "trainees", [{"trainee_id": "Old", "market": "TH", "cohort": "old", "start_date": START - dt.timedelta(days=60)}])
    insert(con, "decision_daily", [week_rows("Old", w, 20, 20) for w in range(4)])
    ttp = time_to_proficiency(con, Filters(), n_boot=50)
    assert "old" not in set(ttp["cohort"])  # its first weeks are unseen: week 8 would look like week 0
    assert ttp.set_index("cohort").loc["fast", "trainees"] == 10


def test_proficiency_needs_enough_reviews(store: Store) -> None:
    ttp = time_to_proficiency(store.cursor(), Filters(), rule=Proficiency(min_reviews=41), n_boot=50)
    assert (ttp["reached"] == 0).all() and ttp["km_median"].isna().all()


def test_proficiency_curve_and_log_rank(store: Store) -> None:
    curve = proficiency_curve(store.cursor(), Filters())
    slow = curve[curve["cohort"] == "slow"].set_index("week")
    assert slow.loc[5, "share_reached"] == 0 and slow.loc[6, "share_reached"] == pytest.approx(0.7)
    assert slow.loc[6, "at_risk"] == 10 and slow.loc[9, "at_risk"] == 3
    assert slow.loc[6, "low"] < 0.7 < slow.loc[6, "high"]
    cmp = compare_cohorts(store.cursor(), "fast", "slow", Filters())
    assert cmp.enough_data and cmp.km_median_a == 2 and cmp.km_median_b == 6
    assert cmp.p_value < 0.001


def test_learning_measures_on_an_empty_store(empty_store: Store) -> None:
    con = empty_store.cursor()
    assert learning_curves(con, Filters()).empty
    assert time_to_proficiency(con, Filters()).empty
    assert proficiency_curve(con, Filters()).empty
    assert fit_curves(learning_curves(con, Filters())) == []
    assert not compare_cohorts(con, "a", "b", Filters()).enough_data


def test_fit_curves_per_cohort_and_fitted_values() -> None:
    rng = np.random.default_rng(3)
    weeks = np.arange(20)
    reviewed = np.full(20, 800)
    rate = rng.binomial(reviewed, exp_rise(weeks, 0.93, 0.72, 4.0)) / reviewed
    curves = pd.DataFrame({"cohort": "c1", "week": weeks, "reviewed": reviewed, "rate": rate})
    fits = fit_curves(curves)
    one = fits[0]
    assert one.fit.chosen == "exponential" and one.fit.n_points == 20 and one.chosen is not None
    assert one.chosen.params["a"] == pytest.approx(0.93, abs=0.01)
    tau = one.chosen.intervals["tau"]
    assert tau.estimate == pytest.approx(4.0, rel=0.25) and tau.low < 4.0 < tau.high  # with its interval
    values = fitted(fits, range(30))
    assert len(values) == 30 and (values["model"] == "exponential").all()
    assert values["fitted"].iloc[-1] == pytest.approx(0.93, abs=0.01) and not values["fitted"].isna().any()


def test_sample_fast_cohort_learns_faster(sample_con: duckdb.DuckDBPyConnection) -> None:
    from sample_data import planted

    taus = {f.cohort: f.fit.exponential.params["tau"] for f in fit_curves(learning_curves(sample_con, Filters()))}
    if planted.FAST_COHORT not in taus:
        pytest.skip("sample exports not generated yet")
    earlier = [c for c in planted.COHORTS if c < planted.FAST_COHORT and c in taus]
    fast_tau = taus[planted.FAST_COHORT]
    assert all(fast_tau < taus[c] for c in earlier)  # planted: time constant halved
    assert fast_tau == pytest.approx(planted.FAST_LEARNING_WEEKS, rel=0.4)


def test_sample_fast_cohort_reaches_proficiency_sooner(sample_con: duckdb.DuckDBPyConnection) -> None:
    from sample_data import planted

    ttp = time_to_proficiency(
        sample_con, Filters(), rule=Proficiency(target=planted.PROFICIENCY_ACCURACY,
                                               min_reviews=planted.PROFICIENCY_MIN_REVIEWS,
                                               window_weeks=planted.PROFICIENCY_WINDOW_WEEKS), n_boot=300,
    ).set_index("cohort")
    if planted.FAST_COHORT not in ttp.index:
        pytest.skip("sample exports not generated yet")
    fast = ttp.loc[planted.FAST_COHORT]
    earlier = ttp.loc[[c for c in planted.COHORTS if c < planted.FAST_COHORT and c in ttp.index]]
    assert fast["reached"] > 0
    assert (fast["median_weeks"] < earlier["median_weeks"]).all()
    assert (fast["km_median"] < earlier["km_median"]).all()
    for cohort in earlier.index:
        assert compare_cohorts(sample_con, planted.FAST_COHORT, cohort, Filters()).p_value < 0.05


def test_the_tenure_rollup_and_the_daily_rows_give_the_same_answers(store: Store) -> None:
    con = store.cursor()
    # Every row is on Spam: naming the policy changes nothing but sends the measures to decision_daily.
    for rollup, daily in [(Filters(), Filters(policies=("Spam",))),
                          (Filters(cohorts=("slow",)), Filters(cohorts=("slow",), policies=("Spam",))),
                          (Filters(start=START - dt.timedelta(days=30), end=START + dt.timedelta(days=400)),
                           Filters(start=START - dt.timedelta(days=30), policies=("Spam",)))]:
        pd.testing.assert_frame_equal(learning_curves(con, rollup), learning_curves(con, daily))
        pd.testing.assert_frame_equal(time_to_proficiency(con, rollup), time_to_proficiency(con, daily))
        pd.testing.assert_frame_equal(proficiency_curve(con, rollup), proficiency_curve(con, daily))
        assert compare_cohorts(con, "fast", "slow", rollup) == compare_cohorts(con, "fast", "slow", daily)


def test_all_cohorts_log_rank_matches_the_two_group_test_for_two_cohorts(sample_con: duckdb.DuckDBPyConnection) -> None:
    """With two cohorts the k-sample log-rank statistic is the two-sample one (Mantel-Cox), on 1 df."""
    from metrics.learning import compare_all_cohorts

    two = Filters(cohorts=("2026-03", "2026-07"))
    every = compare_all_cohorts(sample_con, two)
    pair = compare_cohorts(sample_con, "2026-03", "2026-07", two)
    if not pair.enough_data:
        pytest.skip("sample exports not generated yet")
    assert every.df == 1 and every.chi2 == pytest.approx(pair.chi2, rel=1e-6)
    assert compare_all_cohorts(sample_con, Filters()).df == 7


def test_bootstrap_medians_are_numpys_medians_of_each_resample() -> None:
    """The counted medians of `time_to_proficiency`'s bootstrap equal np.nanmedian of every resample drawn as
    one (n_boot, n) array of int64 indices from the same seed, and leave the generator where that draw does
    (the next cohort's resamples are the same): nan draws (not reached) left out, a resample of nan draws
    only nan, resample counts not a multiple of the block, weeks that are not whole numbers."""
    import warnings

    from metrics.learning import _boot_medians

    rng = np.random.default_rng(3)
    cases = [np.array([np.nan, np.nan, np.nan, 5.0]), np.array([np.nan, np.nan])]
    for n in (1, 7, 40, 300, 5000):
        values = rng.integers(0, 30, n).astype(float)
        values[rng.random(n) < 0.4] = np.nan
        cases.append(values)
    cases.append(np.where(np.isnan(cases[-2]), np.nan, cases[-2] + 0.5))  # not counts: numpy's median path
    # 300 trainees x 500 resamples and 5,000 x 40 span several blocks of draws, the last one short.
    for seed, (values, n_boot) in enumerate(zip(cases, (50, 4, 5, 33, 100, 500, 40, 500), strict=True)):
        before = np.random.default_rng(seed)
        idx = before.integers(0, len(values), size=(n_boot, len(values)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's word for a resample of nan only
            want = np.nanmedian(values[idx], axis=1)
        after = np.random.default_rng(seed)
        np.testing.assert_array_equal(_boot_medians(values, after, n_boot), want)
        assert after.integers(0, 1000, 5).tolist() == before.integers(0, 1000, 5).tolist()
    assert np.isnan(_boot_medians(cases[1], np.random.default_rng(0), 3)).all()


def test_columns_read_through_arrow_are_fetchnumpys(sample_con: duckdb.DuckDBPyConnection) -> None:
    """The proficiency durations' rows read through Arrow are the arrays `fetchnumpy` gives: same values,
    same dtypes (integers stay integers), parameters bound, and an empty result is empty arrays."""
    from metrics.learning import _numpy_columns

    sql = """SELECT (row_number() OVER (ORDER BY trainee_id) - 1)::INTEGER AS k, week, reviewed::DOUBLE AS reviewed,
                    correct::DOUBLE AS correct
             FROM decision_tenure WHERE week < ?::INTEGER ORDER BY trainee_id, week, source, market"""
    for weeks in (52, 0):
        want = sample_con.execute(sql, [weeks]).fetchnumpy()
        got = _numpy_columns(sample_con, sql, [weeks])
        assert list(got) == list(want)
        for name in want:
            assert got[name].dtype == np.asarray(want[name]).dtype
            np.testing.assert_array_equal(got[name], np.asarray(want[name]))
        assert (len(got["k"]) > 0) == (weeks > 0)
