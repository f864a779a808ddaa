"""Training effects on small generated stores, through the pages: the estimate follows a declared audience and
nothing is said about how attendees were chosen when the data does not record it; the measure follows the data
(QA audits only, golden set only) and says when one has none; and one session's headline reads the same on
Training impact, the Overview's week table, the weekly report and the trainee's profile."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_sources.contract import AUDIENCES
from data_sources.store import open_store
from metrics.filters import Filters
from metrics.selection import AUDIENCE_NAMES
from metrics.training import training_effect
from outgoing.weekly_report import summarise_week, weekly_report_html
from tests.app.conftest import assert_clean, frame_with, open_page, shown_text
from tests.app.effect_stores import ATTENDEES, SESSION, TRAINING_ID, effect_store

PAGE = "views/training.py"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Each store built once per module, on first use."""
    built: dict[tuple[object, ...], Path] = {}
    folder = tmp_path_factory.mktemp("effect_stores")

    def get(audience: str | None = None, sources: tuple[str, ...] = ("qa_audit", "golden_set")) -> Path:
        key = (audience, sources)
        if key not in built:
            built[key] = effect_store(folder / f"{audience or 'none'}_{'_'.join(sources)}.duckdb", audience=audience,
                                      sources=sources)
        return built[key]

    return get


def texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "info", "warning") for e in getattr(at, kind)]


def headline_of(db: Path, **design: object) -> str:
    from metrics.training import EffectDesign

    store = open_store(db)
    try:
        return training_effect(store.cursor(), [TRAINING_ID], Filters(), EffectDesign(**design)).headline.text  # type: ignore[arg-type]
    finally:
        store.close()


@pytest.mark.parametrize("audience", [*AUDIENCES, None])
def test_the_estimate_follows_the_declared_audience_and_nothing_is_asserted_without_one(make_app, stores, audience):
    at = open_page(make_app(stores(audience)), PAGE)
    assert at.multiselect(key="trainings").value == [TRAINING_ID]  # the one session it can measure
    said = texts(at)
    assert any(headline_of(stores(audience)) in t for t in said)
    everything = shown_text(at)
    if audience is None:
        assert any(t.startswith("Not recorded in the data") for t in said)
        assert "The data does not say how attendees were chosen" in everything
        assert not any(name in everything for name in AUDIENCE_NAMES.values() if name != "volunteers")
    else:
        assert f"Recorded in the data: attendees were {AUDIENCE_NAMES[audience]}" in everything
        assert "The data says" in everything
    adjusted = audience == "low_scorers"
    did_card, ancova_card = [c.value for c in at.caption if c.value.startswith("95% CI")][:2]
    assert ancova_card.endswith("the headline") == adjusted and did_card.endswith("the headline") != adjusted, (
        "the ANCOVA card is marked as the headline exactly when attendees were chosen for low scores")
    assert ("chosen for low scores" in everything) == adjusted
    assert len(at.get("vega_lite_chart")) >= 3  # event study, timeline, attendees


def test_qa_audits_only_reads_quality_and_accuracy_says_it_has_no_data(make_app, stores):
    at = open_page(make_app(stores(None, ("qa_audit",))), PAGE)
    assert_clean(at)
    assert any("points of quality" in t for t in texts(at))
    assert any("quality (QA audits): there are no golden-set reviews of these attendees" in c.value for c in at.caption)
    at.radio(key="effect_source").set_value("golden_set").run()
    assert_clean(at)
    said = texts(at)
    assert any("not enough data: accuracy has no data here" in t for t in said)
    assert not any("points of" in t for t in said)


def test_golden_set_only_reads_accuracy_and_never_says_0_attendees_without_saying_why(make_app, stores):
    at = open_page(make_app(stores(None, ("golden_set",))), PAGE)
    assert_clean(at)
    assert any("points of accuracy" in t for t in texts(at))
    assert at.radio(key="effect_source").value == "auto"
    at.radio(key="effect_source").set_value("qa_audit").run()
    assert_clean(at)
    said = texts(at)
    assert any("not enough data: quality has no data here" in t for t in said)
    zero = [t for t in said if re.search(r"\b0 (attendees|of )", t)]
    assert all("has no data" in t for t in zero), zero


def test_one_sessions_headline_reads_the_same_on_every_surface(make_app, stores):
    db = stores(None)
    expected = headline_of(db)
    assert "points of" in expected and "95% CI" in expected

    impact = open_page(make_app(db), PAGE)
    assert any(expected in t for t in texts(impact))

    overview = open_page(make_app(db), "views/overview.py")
    overview.selectbox(key="week").set_value(SESSION).run()
    assert_clean(overview)
    week = frame_with(overview, "effect")
    assert week.loc[week["title"] == "Hate Speech refresher", "effect"].tolist() == [expected]

    store = open_store(db)
    try:
        con = store.cursor()
        summary = summarise_week(con, Filters(), SESSION)  # what the report and the Overview are made from
        assert summary is not None
        page = weekly_report_html(summary, p_chart_svg=None)
    finally:
        store.close()
    assert html.escape(expected, quote=True) in page

    profile = open_page(make_app(db), "views/trainee.py")
    profile.selectbox(key="trainee").set_value("P00").run()  # an attendee
    assert_clean(profile)
    assert frame_with(profile, "session's effect")["session's effect"].tolist() == [expected]
    assert int(frame_with(profile, "session's effect")["attendees"].iloc[0]) == ATTENDEES
