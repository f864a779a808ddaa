"""Learning curves page, driven with AppTest against a real DuckDB file loaded with the sample data."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from sample_data import planted
from tests.app.conftest import assert_clean, frame_with, leaks, needs_sample, open_page, roster
from ui import presenter

PAGE = "views/learning.py"

















@needs_sample
def test_learning_page_draws_curves_fits_and_time_to_proficiency(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    fits = frame_with(at, "Chosen shape")
    assert set(planted.COHORTS) <= set(fits["Cohort"])
    assert {"AIC exponential rise", "AIC power law", "Weeks to close 63% of the gap", "Plateau"} <= set(fits.columns)
    # Every estimate with its interval, or the reason it has none.
    fitted = fits[fits["Chosen shape"] != "too few weeks to fit"]
    assert len(fitted) >= 6 and fitted["Plateau"].str.contains("95% CI|edge of its range|keeps rising").all()
    proficiency = frame_with(at, "Kaplan-Meier median weeks (95% CI)")
    assert (proficiency["Reached"] <= proficiency["Trainees"]).all()
    assert len(at.get("vega_lite_chart")) >= 2
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any('"strokeDash"' in json.dumps(s) for s in specs)  # the fitted lines are dashed
    assert any("log-rank" in m.value for m in at.markdown)
    assert any(m.value.startswith("Across all") and "chi2(" in m.value for m in at.markdown)  # the omnibus first


@needs_sample
def test_a_lower_target_is_reached_by_more_trainees_sooner(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    assert at.slider(key="target").value == pytest.approx(0.90)
    assert at.number_input(key="min_reviews").value == 20
    before = frame_with(at, "Reached").set_index("Cohort")
    at.slider(key="target").set_value(0.80).run()
    assert_clean(at)
    after = frame_with(at, "Reached").set_index("Cohort")
    assert (after["Reached"] >= before["Reached"]).all() and after["Reached"].sum() > before["Reached"].sum()
    assert any("reaches 80%" in c.value for c in at.caption)


@needs_sample
def test_comparing_the_fast_cohort_with_the_launch_class_says_which_is_sooner(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    at.selectbox(key="compare_a").set_value(planted.FAST_COHORT)
    at.selectbox(key="compare_b").set_value(planted.COHORTS[0]).run()
    assert_clean(at)
    verdict = next(m.value for m in at.markdown if "log-rank" in m.value and not m.value.startswith("Across all"))
    assert "unlikely to be chance" in verdict and f"{planted.FAST_COHORT} reached proficiency sooner" in verdict


def test_learning_page_on_an_empty_database_says_so(empty_app: AppTest) -> None:
    at = open_page(empty_app, PAGE)
    assert any("no learning curve" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_filters_that_select_nothing_give_a_sentence(make_app, sample_db: Path) -> None:
    # The newest cohort started in October: before October it has no decisions at all.
    at = open_page(make_app(sample_db, cohorts=planted.COHORTS[-1], to="2026-09-30"), PAGE)
    assert any("No decisions" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_presenter_mode_shows_no_names_or_ids(make_app, sample_db: Path) -> None:
    at = open_page(make_app(sample_db, present="1"), PAGE)
    people = roster()
    assert not leaks(at, set(people["name"]) | set(people["trainer"].dropna()) | set(people["trainee_id"]))
    assert len(at.get("vega_lite_chart")) >= 2


@needs_sample
def test_presenter_mode_leaves_out_cohorts_smaller_than_the_minimum_group(make_app, sample_db: Path) -> None:
    # A market where some cohorts are a handful of people and others are not.
    sizes = roster().groupby(["market", "cohort"]).size().groupby(level="market").agg(["min", "max"])
    market = sizes[(sizes["min"] < presenter.MIN_GROUP) & (sizes["max"] >= 2 * presenter.MIN_GROUP)].index[0]
    at = open_page(make_app(sample_db, present="1", markets=market), PAGE)
    assert any(c.value.startswith("Presenter mode:") and "not shown" in c.value for c in at.caption)
    proficiency = frame_with(at, "Reached")
    assert (proficiency["Trainees"] >= presenter.MIN_GROUP).all()
    shown = set(proficiency["Cohort"])
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            table = pa.ipc.open_stream(io.BytesIO(dataset.data.data)).read_all()
            if "cohort" in table.column_names:
                assert set(table.column("cohort").to_pylist()) <= shown
