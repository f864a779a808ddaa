"""One Altair theme for every chart: a colour-blind-safe palette, type legible when screen-shared, and
PNG/SVG downloads made only when asked for."""

from __future__ import annotations

from typing import Any

import altair as alt
import streamlit as st

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
DIVERGING = "blueorange"  # for gaps around a level: blue above, orange below
ATTENDED, COMPARISON = PALETTE[0], PALETTE[1]


@alt.theme.register("uplift", enable=True)
def uplift_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": "Source Sans Pro, sans-serif",
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": 13, "titleFontSize": 14, "gridOpacity": 0.5},
            "legend": {"labelFontSize": 13, "titleFontSize": 13, "orient": "bottom"},
            "title": {"fontSize": 16, "anchor": "start"},
            "view": {"stroke": None},
        }
    }


def _export(chart: alt.TopLevelMixin, fmt: str) -> bytes | str:
    import vl_convert as vlc

    spec = chart.to_json()
    if fmt == "svg":
        return str(vlc.vegalite_to_svg(spec))
    return bytes(vlc.vegalite_to_png(spec, scale=2))


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as a self-contained SVG (no network), for reports."""
    return str(_export(chart, "svg"))


def show(chart: alt.TopLevelMixin, key: str, *, name: str = "chart", on_select: Any = "ignore",
         downloads: bool = True) -> Any:
    """Draw a chart with PNG and SVG downloads beside it. Returns the selection event when `on_select`."""
    event = st.altair_chart(chart, key=key, on_select=on_select, width="stretch")
    if downloads:
        left, right, _ = st.columns([1, 1, 6])
        left.download_button("PNG", data=lambda: _export(chart, "png"), file_name=f"{name}.png",
                             mime="image/png", key=f"{key}_png", on_click="ignore")
        right.download_button("SVG", data=lambda: _export(chart, "svg"), file_name=f"{name}.svg",
                              mime="image/svg+xml", key=f"{key}_svg", on_click="ignore")
    return event
