"""Trainee explorer: pick a trainee, the profile's charts and tables, the coaching list and its filters,
and presenter mode. AppTest on a real DuckDB file."""

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

PAGE = "views/trainee.py"


def _id_of(at, label: str) -> str:
    # Labels are "name (id)" when not presenting.
    return label.rsplit("(", 1)[-1].rstrip(")")


@needs_sample
def test_coaching_list_ranks_trainees_with_intervals(sample_app):
    at = open_page(sample_app, PAGE)
    assert_clean(at)
    assert any("Pick a trainee" in i.value for i in at.info)
    table = frame_with(at, "shrunk rate")
    assert len(table) > 0 and table["needs coaching"].all()
    assert table["shrunk rate"].is_monotonic_increasing
    assert table["95% interval"].str.contains("–").all()
    assert any("need coaching" in m.value for m in at.markdown)
    assert "coaching_csv" in {b.key for b in at.get("download_button")}


@needs_sample
def test_picking_a_trainee_shows_the_profile(sample_app):
    at = open_page(sample_app, PAGE)
    trainee = _id_of(at, frame_with(at, "shrunk rate")["trainee"].iloc[0])
    at.selectbox(key="trainee").set_value(trainee).run()
    assert_clean(at)
    assert any(trainee in s.value for s in at.subheader)
    strengths = frame_with(at, "gap to market")
    assert strengths["observed"].str.contains("95% CI").all()
    assert len(at.get("vega_lite_chart")) >= 3  # trend, strengths, coaching list
    assert any("attempts at" in m.value for m in at.markdown) or any("No tests" in i.value for i in at.info)


@needs_sample
def test_fewer_trainees_are_ranked_with_a_higher_minimum(sample_app):
    at = open_page(sample_app, PAGE)
    at.toggle(key="coaching_only").set_value(False).run()
    everyone = len(frame_with(at, "shrunk rate"))
    at.slider(key="min_reviews").set_value(150).run()
    assert_clean(at)
    assert len(frame_with(at, "shrunk rate")) < everyone
    at.slider(key="min_reviews").set_value(500).run()
    assert_clean(at)
    assert any("No trainee has at least 500 reviews" in i.value for i in at.info)


def test_trainee_page_on_an_empty_database_says_so(empty_app):
    at = open_page(empty_app, PAGE)
    assert_clean(at)
    assert any("No trainees match" in i.value for i in at.info)


@needs_sample
def test_trainee_page_with_filters_that_select_nothing_says_so(sample_app):
    at = open_page(sample_app, PAGE, select_nothing=True)
    assert_clean(at)
    at.selectbox(key="trainee").set_value("T0001").run()
    assert_clean(at)
    assert any("No reviews for this trainee" in i.value for i in at.info)
    assert any("No trainee has at least" in i.value for i in at.info)


@needs_sample
def test_trainee_page_names_no_one_while_presenting(make_app, sample_db):
    at = presenting(make_app, sample_db, PAGE)
    assert_clean(at)
    assert frame_with(at, "shrunk rate")["trainee"].str.startswith("Trainee ").all()
    picker = at.selectbox(key="trainee")
    assert all(o.startswith("Trainee ") for o in picker.options)
    at.selectbox(key="trainee").set_value("T0001").run()
    assert_clean(at)
    assert any("hidden while presenting" in c.value for c in at.caption)
    assert names_shown(at) == [] and ids_shown(at) == []


@needs_sample
def test_trainee_page_shows_names_when_not_presenting(sample_app):
    at = open_page(sample_app, PAGE)
    at.selectbox(key="trainee").set_value("T0001").run()
    assert_clean(at)
    assert names_shown(at), "the presenter check would otherwise prove nothing"
