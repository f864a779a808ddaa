"""Data values shown in Streamlit's Markdown-rendering elements stay text."""

from __future__ import annotations

import math

import pytest

from ui.show import esc


@pytest.mark.parametrize("hostile", [
    "![x](http://host/x.png)", "[text](http://evil)", ":red[alarm]", "$x^2$", "**bold**", "<b>x</b>",
    "# heading", "- item", "1. item", "`code`", ":material/home:", "www.evil.com", "me@evil.com", "a | b",
])
def test_every_markdown_construct_is_escaped(hostile: str) -> None:
    text = esc(hostile)
    # No special character is left unescaped: each is preceded by a backslash.
    for i, ch in enumerate(text):
        if ch in "[]*`$<>|@" and (i == 0 or text[i - 1] != "\\"):
            pytest.fail(f"{ch!r} left unescaped in {text!r}")
    assert text.replace("\\", "") == hostile


def test_plain_words_pass_unchanged_and_lines_are_joined() -> None:
    assert esc("Bullying & Harassment") == "Bullying & Harassment"
    assert esc("ภาษาไทย Tiếng Việt") == "ภาษาไทย Tiếng Việt"
    assert esc("two\nlines") == "two lines"
    assert esc(None) == "" and esc(math.nan) == ""


def _drawn_both_ways() -> None:
    """A page drawing one chart through show.chart and, beside it, the same chart through st.altair_chart."""
    import pandas as pd
    import streamlit as st

    from ui import charts, show

    weeks = pd.date_range("2026-07-06", periods=3, freq="W-MON")
    trend = pd.DataFrame({"week": weeks, "rate": [0.7, 0.8, 0.75], "low": [0.6, 0.7, 0.65], "high": [0.8, 0.9, 0.85],
                          "reviewed": [40, 50, 45]})
    marked = pd.DataFrame({"date": [weeks[1]], "kind": ["policy_update"], "title": ["Slur list v3"],
                           "policy": ["Hate Speech"], "market": [None]})
    spots = pd.DataFrame({"market": ["TH", "VN"], "policy": ["Spam", "Spam"], "reviewed": [40, 50],
                          "correct": [30, 45], "rate": [0.75, 0.9], "low": [0.6, 0.8], "high": [0.85, 0.95],
                          "policy_level": [0.9, 0.75], "shrunk_rate": [0.77, 0.88], "shrunk_low": [0.6, 0.8],
                          "shrunk_high": [0.85, 0.95], "gap": [-0.13, 0.13], "q_value": [0.04, 0.04],
                          "enough_data": [True, True], "testable": [True, True], "flagged": [True, False]})
    def as_shown(chart: object) -> object:
        return charts.presenting(chart) if st.session_state.get("present") else chart  # type: ignore[arg-type]

    show.chart(charts.cell_trend, trend, 0.8, events=marked, title="Point", key="a")
    st.altair_chart(as_shown(charts.titled(charts.with_events(charts.cell_trend(trend, 0.8), marked), "Point")),
                    key="b", width="stretch")
    show.chart(charts.weak_spot_heatmap, spots, 30, key="c", on_select="rerun", downloads=False)
    st.altair_chart(as_shown(charts.weak_spot_heatmap(spots, 30)), key="d", on_select="rerun", width="stretch")


def _sent(element: object) -> tuple[str, list[tuple[str, bytes]], list[int]]:
    proto = element.proto  # type: ignore[attr-defined]
    return proto.spec, [(d.name, d.data.data) for d in proto.datasets], list(proto.selection_mode)


@pytest.mark.parametrize("presenting", [False, True])
def test_a_chart_is_sent_exactly_as_st_altair_chart_sends_it(presenting: bool) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_drawn_both_ways)
    at.session_state["present"] = presenting
    for _ in range(2):  # drawn from the cache the second time
        at.run(timeout=30)
        assert not at.exception
        ours, altair, selectable, selectable_altair = at.get("vega_lite_chart")
        assert _sent(ours) == _sent(altair)
        assert _sent(selectable) == _sent(selectable_altair) and _sent(selectable)[2]
        assert ('"labelFontSize": 17' in _sent(ours)[0]) is presenting


def test_a_rerun_draws_the_chart_without_building_it_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ui import charts

    built: list[int] = []
    original = charts.cell_trend

    def counted(*args: object, **kwargs: object) -> object:
        built.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(charts, "cell_trend", counted)
    st.cache_data.clear()
    at = AppTest.from_function(_drawn_both_ways)
    at.run(timeout=30)
    first = len(built)  # show.chart's build and st.altair_chart's
    at.run(timeout=30)
    assert first == 2 and len(built) == 3  # the second run built only st.altair_chart's
