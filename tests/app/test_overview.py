"""Overview page: the weekly tiles, p-chart, the week's trainings, weak spots and coaching count, driven
with AppTest against a real DuckDB file. `shown_text` and `roster` are shared with the other page tests."""

from __future__ import annotations

import datetime as dt
import re

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


@needs_sample
def test_overview_tiles_say_whether_a_change_is_beyond_control_limits(sample_app):
    at = open_page(sample_app, "views/overview.py")
    assert_clean(at)
    assert [m.label for m in at.metric] == [
        "Quality", "Accuracy", "Assessment pass rate", "Active trainees", "Trainings delivered"]  # fmt: skip
    for tile in at.metric[:3]:
        assert "95% CI" in tile.proto.help and "n=" in tile.proto.help
    verdicts = [c.value.split(" · ")[0] for c in at.caption[1:4]]
    assert set(verdicts) <= {"within normal variation", "beyond control limits", "no baseline yet", "too few to judge"}, verdicts
    assert all("n=" in c.value for c in at.caption[1:4])
    assert at.get("vega_lite_chart"), "the p-chart is drawn"
    assert any("need coaching" in m.value for m in at.markdown)
    assert at.get("page_link")
    assert {b.key for b in at.get("download_button")} >= {"overview_report", "overview_tables"}


@needs_sample
def test_week_picker_shows_that_weeks_trainings(sample_app):
    at = open_page(sample_app, "views/overview.py")
    week = planted.REFRESHER_DATE - dt.timedelta(days=planted.REFRESHER_DATE.weekday())
    assert at.selectbox(key="week").value != week, "the newest week is the default"
    at.selectbox(key="week").set_value(week).run()
    assert_clean(at)
    sessions = frame_with(at, "effect")
    refresher = sessions[sessions["title"].str.contains(planted.REFRESHER_POLICY)]
    assert len(refresher) == 1 and int(refresher["attendees"].iloc[0]) == planted.REFRESHER_ATTENDEES
    effect = refresher["effect"].iloc[0]
    low = float(re.search(r"95% CI ([+-][\d.]+) to", effect).group(1))  # the interval excludes zero
    assert low > 0 and "of quality" in effect, effect
    assert all(e.startswith("not enough data: ") or "95% CI" in e or "hidden" in e for e in sessions["effect"])
    assert int(at.metric[4].value) >= 1


def test_overview_on_an_empty_database_says_so(empty_app):
    at = open_page(empty_app, "views/overview.py")
    assert_clean(at)
    assert any("No reviews match" in i.value for i in at.info)


@needs_sample
def test_overview_with_filters_that_select_nothing_says_so(sample_app):
    at = open_page(sample_app, "views/overview.py", select_nothing=True)
    assert_clean(at)
    assert any("No reviews match" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")





@needs_sample
def test_overview_names_no_one_while_presenting(make_app, sample_db):
    at = presenting(make_app, sample_db, "views/overview.py")
    assert_clean(at)
    assert names_shown(at) == [] and ids_shown(at) == []
