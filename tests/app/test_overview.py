"""Overview page: the weekly tiles, p-chart, the week's trainings, weak spots and coaching count, driven
with AppTest against a real DuckDB file. `shown_text` and `roster` are shared with the other page tests."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from data_sources import sample
from sample_data import planted
from tests.app.conftest import assert_clean, frame_with

needs_sample = pytest.mark.skipif(
    not (Path(sample.EXPORTS) / "decisions.csv").exists(), reason="sample_data/exports not generated yet"
)


def open_page(at: AppTest, page: str, *, select_nothing: bool = False) -> AppTest:
    """Run the app, go to `page`, and optionally set the sidebar's dates to select nothing."""
    at.run()
    at.switch_page(page).run()
    assert at.sidebar.children, "the page ran without app.py"
    if select_nothing:
        first, last = at.date_input(key="from").min, at.date_input(key="to").max
        at.date_input(key="from").set_value(last)  # 'From' after 'To': the sidebar selects nothing
        at.date_input(key="to").set_value(first)
        at.run()
    return at


def roster() -> pd.DataFrame:
    """The sample roster as exported (read from the CSV, not through the app)."""
    return pd.read_csv(Path(sample.EXPORTS) / "trainees.csv", dtype=str)


def _nodes(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def shown_text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text: every element's message (labels, bodies, help,
    options), every dataframe's cells and every chart's spec and data."""
    parts: list[str] = []
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            proto = getattr(node, "proto", None)
            if proto is None:
                continue
            parts.append(text_format.MessageToString(proto, as_utf8=True))
            if getattr(node, "type", "") == "arrow_data_frame":
                parts.append(node.value.to_csv())  # type: ignore[attr-defined]
            for dataset in getattr(proto, "datasets", []):  # chart data travels as Arrow beside the spec
                parts.append(pa.ipc.open_stream(dataset.data.data).read_all().to_pandas().to_csv())
    return "\n".join(parts)


def names_shown(at: AppTest) -> list[str]:
    text = shown_text(at)
    return [n for n in roster()["name"].dropna() if n in text]


def ids_shown(at: AppTest) -> list[str]:
    text = shown_text(at)
    return [t for t in roster()["trainee_id"] if re.search(rf"\b{re.escape(t)}\b", text)]


@needs_sample
def test_overview_tiles_say_whether_a_change_is_beyond_control_limits(sample_app):
    at = open_page(sample_app, "views/overview.py")
    assert_clean(at)
    assert [m.label for m in at.metric] == [
        "Quality", "Accuracy", "Assessment pass rate", "Active trainees", "Trainings delivered"]  # fmt: skip
    for tile in at.metric[:3]:
        assert "95% CI" in tile.proto.help and "n=" in tile.proto.help
    verdicts = [c.value.split(" · ")[0] for c in at.caption[1:4]]
    assert set(verdicts) <= {"within normal variation", "beyond control limits", "no baseline yet"}, verdicts
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
    assert all(e == "not enough data yet" or "95% CI" in e or "hidden" in e for e in sessions["effect"])
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


def presenting(make_app, sample_db: Path, page: str) -> AppTest:
    """`page` with presenter mode switched on by the URL, as a shared link would."""
    at = open_page(make_app(sample_db, present="1"), page)
    assert at.toggle(key="present").value
    return at


@needs_sample
def test_overview_names_no_one_while_presenting(make_app, sample_db):
    at = presenting(make_app, sample_db, "views/overview.py")
    assert_clean(at)
    assert names_shown(at) == [] and ids_shown(at) == []
