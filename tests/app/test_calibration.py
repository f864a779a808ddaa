"""Calibration page, driven with AppTest against a real DuckDB file loaded with the sample data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from data_sources import sample
from sample_data import planted
from tests.app.conftest import assert_clean, frame_with, leaks, needs_sample, open_page, roster, shown_text

PAGE = "views/calibration.py"


def rater_ids() -> set[str]:
    return set(pd.read_csv(sample.EXPORTS / "calibration.csv", dtype=str)["rater_id"].dropna())


def alpha(at: AppTest) -> float:
    value = next(m.value for m in at.metric if m.label.startswith("Agreement beyond chance"))
    return float(value.replace("−", "-"))


def session_ids(at: AppTest) -> list[str]:
    """The sessions offered, from their labels ("date · policy · market · session_id")."""
    return [label.rsplit(" · ", 1)[-1] for label in at.selectbox(key="session").options]


def choose(at: AppTest, session_id: str) -> AppTest:
    at.selectbox(key="session").set_value(session_id).run()
    assert_clean(at)
    return at


@needs_sample
def test_calibration_page_shows_agreement_with_intervals_and_a_reading(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    assert all(label.count(" · ") == 3 for label in at.selectbox(key="session").options)
    labels = {m.label for m in at.metric}
    # Plain words first, the level of measurement named beside the figure, the method in the help.
    assert {"Agreement beyond chance (α, nominal)", "Fleiss' κ (nominal)", "Percent agreement", "Items",
            "Raters"} <= labels
    assert "Krippendorff's alpha at the nominal level" in next(m for m in at.metric if "α" in m.label).proto.help
    assert any(c.value.startswith("95% CI") for c in at.caption)
    assert any("Landis & Koch" in m.value and "rough guide" in m.value for m in at.markdown)
    agenda = frame_with(at, "Entropy (bits)")
    assert agenda["Entropy (bits)"].is_monotonic_decreasing
    assert "agenda_csv" in {b.key for b in at.get("download_button")}
    assert len(at.get("vega_lite_chart")) == 3  # raters vs expert, the rating grid, agreement over time


@needs_sample
def test_the_poor_session_has_the_lowest_alpha(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    options = session_ids(at)
    assert planted.POOR_CALIBRATION_SESSION in options
    alphas = {s: alpha(choose(at, s)) for s in options}
    assert min(alphas, key=alphas.__getitem__) == planted.POOR_CALIBRATION_SESSION
    choose(at, planted.POOR_CALIBRATION_SESSION)
    reading = next(m.value for m in at.markdown if "Landis & Koch" in m.value)
    assert "Agreement was **poor" in reading or "Agreement was **slight" in reading
    assert planted.POOR_CALIBRATION_POLICY in at.subheader[0].value
    agenda = frame_with(at, "Labels used")
    assert (agenda["Labels used"] > 1).mean() > 0.5  # most items split the room


@needs_sample
def test_without_presenter_mode_raters_are_named_by_id(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    assert leaks(at, rater_ids())  # the check below would catch them


def test_calibration_page_on_an_empty_database_says_so(empty_app: AppTest) -> None:
    at = open_page(empty_app, PAGE)
    assert any("No calibration session" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_filters_that_select_nothing_give_a_sentence(make_app, sample_db: Path) -> None:
    markets = set(pd.read_csv(sample.EXPORTS / "calibration.csv", dtype=str)["market"].dropna())
    unused = next(m for m in planted.MARKETS if m not in markets)
    at = open_page(make_app(sample_db, markets=unused), PAGE)
    assert any("No calibration session matches these filters" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_presenter_mode_shows_no_names_or_rater_ids(make_app, sample_db: Path) -> None:
    at = open_page(make_app(sample_db, present="1"), PAGE)
    choose(at, planted.POOR_CALIBRATION_SESSION)
    people = roster()
    secrets = rater_ids() | set(people["trainee_id"]) | set(people["name"]) | set(people["trainer"].dropna())
    assert not leaks(at, secrets)
    assert len(at.get("vega_lite_chart")) == 3
    assert any("Rater " in s for s in [shown_text(at)])  # raters appear as pseudonyms instead
