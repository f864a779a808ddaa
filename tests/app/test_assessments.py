"""Tests and certification page: pass rates with intervals, the omnibus test in words, gains, and two
groups compared. AppTest on a real DuckDB file."""

from __future__ import annotations

from tests.app.conftest import (
    assert_clean,
    frame_with,
    ids_shown,
    names_shown,
    needs_sample,
    open_page,
    presenting,
)

PAGE = "views/assessments.py"


@needs_sample
def test_certification_rates_gains_and_a_comparison(sample_app):
    at = open_page(sample_app, PAGE)
    assert_clean(at)
    table = frame_with(at, "passed at the first attempt")
    assert len(table) >= 2 and table["passed at the first attempt"].str.contains("95% CI").all()
    assert any("Across all cohorts at once" in m.value and "chi-square" in m.value for m in at.markdown)
    labels = [m.label for m in at.metric]
    assert "Score gain, pre-test to post-test" in labels and "Normalised change per trainee, averaged" in labels
    assert any("Hedges' g" in m.value and "Welch" in m.value for m in at.markdown)
    at.radio(key="assessment_groups").set_value("market").run()
    assert_clean(at)
    assert "Market" in frame_with(at, "passed at the first attempt").columns


@needs_sample
def test_tests_page_names_no_one_while_presenting(make_app, sample_db):
    at = presenting(make_app, sample_db, PAGE)
    assert_clean(at)
    assert names_shown(at) == [] and ids_shown(at) == []
