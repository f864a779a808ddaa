"""Training impact page: the planted refresher shows an effect, the planted remedial session shows the
regression-to-the-mean caveat, and presenter mode names no one. AppTest on a real DuckDB file."""

from __future__ import annotations

from sample_data import planted
from tests.app.conftest import (
    assert_clean,
    frame_with,
    ids_shown,
    names_shown,
    needs_sample,
    open_page,
    presenting,
)

PAGE = "views/training.py"


def pick(at, *training_ids: str):
    at.multiselect(key="trainings").set_value(list(training_ids)).run()
    assert_clean(at)
    return at


@needs_sample
def test_training_page_opens_on_the_latest_finished_session(sample_app):
    at = open_page(sample_app, PAGE)
    assert_clean(at)
    options = at.multiselect(key="trainings").options
    assert any(planted.REFRESHER_POLICY in o and o.startswith(str(planted.REFRESHER_DATE)) for o in options)
    assert len(at.multiselect(key="trainings").value) == 1  # a result at once, not an empty page
    assert any(m.label == "Naive before/after (not a causal effect)" for m in at.metric) or at.info
    at.multiselect(key="trainings").set_value([]).run()
    assert any("Pick one or more sessions" in i.value for i in at.info)


@needs_sample
def test_refresher_effect_excludes_zero_and_is_told_apart_from_the_naive_gain(sample_app):
    at = pick(open_page(sample_app, PAGE), planted.REFRESHER_TRAINING_ID)
    assert any("the interval excludes zero" in m.value for m in at.markdown)
    labels = [m.label for m in at.metric]
    assert "Effect against people who did not attend" in labels
    assert "Naive before/after (not a causal effect)" in labels
    assert "Adjusted for starting score (ANCOVA)" in labels
    assert not any("regression to the mean" in w.value for w in at.warning)
    assert any(f"{planted.REFRESHER_ATTENDEES} attended" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) >= 2  # timeline and per-attendee slopes
    assert "Post-test" in set(frame_with(at, "pass rate")["test"])


@needs_sample
def test_remedial_session_warns_of_regression_to_the_mean(sample_app):
    at = pick(open_page(sample_app, PAGE), planted.REMEDIAL_TRAINING_ID)
    assert any("regression to the mean" in w.value for w in at.warning)
    assert any("adjusted for each trainee's starting score" in m.value for m in at.markdown)


@needs_sample
def test_a_session_with_few_attendees_says_not_enough_data(sample_app):
    at = open_page(sample_app, PAGE)
    tiny = [o for o in at.multiselect(key="trainings").options if "onboarding" in o.lower()]
    assert tiny
    at.multiselect(key="trainings").set_value([tiny[0]]).run()
    assert_clean(at)
    assert any("Not enough data" in i.value for i in at.info)
    assert not any("excludes zero" in m.value for m in at.markdown)


@needs_sample
def test_all_sessions_of_a_kind_in_the_period(sample_app):
    at = open_page(sample_app, PAGE)
    at.radio(key="pick_mode").set_value("kind").run()
    at.selectbox(key="pick_kind").set_value("refresher").run()
    assert_clean(at)
    assert any("refresher sessions" in c.value for c in at.caption)
    assert any(m.label == "Effect against people who did not attend" for m in at.metric)


@needs_sample
def test_all_sessions_on_a_policy_in_the_period(sample_app):
    at = open_page(sample_app, PAGE)
    at.radio(key="pick_mode").set_value("policy").run()
    at.selectbox(key="pick_policy").set_value(planted.REFRESHER_POLICY).run()
    assert_clean(at)
    assert any(f"on {planted.REFRESHER_POLICY}" in c.value for c in at.caption)
    assert at.metric


@needs_sample
def test_window_and_source_controls_change_the_measure(sample_app):
    at = pick(open_page(sample_app, PAGE), planted.REFRESHER_TRAINING_ID)
    at.slider(key="window_days").set_value(21).run()
    at.radio(key="effect_source").set_value("golden_set").run()
    at.radio(key="policy_scope").set_value("all").run()
    assert_clean(at)
    assert at.metric or at.info


def test_training_page_on_an_empty_database_says_so(empty_app):
    at = open_page(empty_app, PAGE)
    assert_clean(at)
    assert any("No training sessions match" in i.value for i in at.info)


@needs_sample
def test_training_page_with_filters_that_select_nothing_says_so(sample_app):
    at = open_page(sample_app, PAGE, select_nothing=True)
    assert_clean(at)
    assert any("No training sessions match" in i.value for i in at.info)


@needs_sample
def test_training_page_names_no_one_while_presenting(make_app, sample_db):
    at = pick(presenting(make_app, sample_db, PAGE), planted.REFRESHER_TRAINING_ID)
    assert names_shown(at) == [] and ids_shown(at) == []
    assert any("excludes zero" in m.value for m in at.markdown)


@needs_sample
def test_attendee_chart_names_people_when_not_presenting(sample_app):
    at = pick(open_page(sample_app, PAGE), planted.REFRESHER_TRAINING_ID)
    assert names_shown(at), "the check above would otherwise prove nothing"


@needs_sample
def test_a_small_session_shows_no_per_person_figures_while_presenting(make_app, sample_db):
    at = presenting(make_app, sample_db, PAGE)
    small = [o for o in at.multiselect(key="trainings").options if "onboarding" in o.lower()]
    at.multiselect(key="trainings").set_value([small[0]]).run()
    assert_clean(at)
    hidden = [i.value for i in at.info] + [c.value for c in at.caption]
    assert any("Hidden while presenting" in h for h in hidden)
    assert not any(m.value.endswith("/ 5") for m in at.metric), "no mean rating from a handful of people"
