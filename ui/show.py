"""Drawing helpers every page uses: data values as inert text, charts with their downloads, tables.

Streamlit renders Markdown (links, images, `:red[...]` directives, `$...$` maths) in headings, captions,
metric labels, alerts, help texts, tab and expander labels: a name such as `![x](http://host/x.png)` would
become an image the browser fetches. Every value that comes from the data passes through `esc` before it
reaches one of them (table cells and chart data are text already).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from streamlit.elements import vega_charts

from ui import charts, presenter

# Characters that start Markdown emphasis, code, links and images, GitHub tables, HTML, maths and
# strikethrough; a colon before a word or a bracket starts an emoji shortcode (`:smile:`), a material icon
# (`:material/home:`) or a Streamlit directive (`:red[...]`).
# `@` and `www.` would become links through GitHub's autolinks.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$@]|:(?=[\w\[/])|(?<=www)\.)", re.IGNORECASE)
# A value at the start of a line could also open a heading, a list, a heading underline or a quote.
_LINE_START = re.compile(r"^(\s*)(#|[-+=>]|\d+[.)])")


def esc(value: object) -> str:
    """`value` as text that Streamlit's Markdown shows exactly as it is: special characters
    backslash-escaped (CommonMark escapes any ASCII punctuation), line breaks as spaces. None -> ''."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    text = re.sub(r"[\r\n]+", " ", str(value))
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


@dataclass(frozen=True)
class Figure:
    """A chart to draw, as its builder (a `ui.charts` function) and the builder's arguments: drawn from
    these rather than from a built Altair chart so that the chart need not be built again on a rerun."""

    build: Callable[..., alt.TopLevelMixin]
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]
    events: pd.DataFrame | None  # trainings and policy updates marked on a time chart (charts.with_events)
    title: str | None  # the chart's point (charts.titled)
    presenting: bool  # larger type for a shared screen (charts.presenting)

    def chart(self) -> alt.TopLevelMixin:
        figure = self.build(*self.args, **dict(self.kwargs))
        if self.events is not None:
            figure = charts.with_events(figure, self.events)
        figure = charts.titled(figure, self.title)
        return charts.presenting(figure) if self.presenting else figure


@st.cache_data(max_entries=256, show_spinner=False)
def _spec(_figure: Figure, builder: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...],
          events: pd.DataFrame | None, title: str | None, presenting: bool) -> dict[str, Any]:
    # Building an Altair chart (its encodings are validated against the Vega-Lite schema one by one) and
    # turning it into a spec took 100-300 ms of the server's one busy core per chart and per run
    # (benchmarks/page_profile.md), though the spec depends only on these arguments (the figure's hashed
    # values; `_figure` itself is not hashed). Streamlit's own conversion, so the spec, its Arrow datasets and
    # the chart's selections are exactly what st.altair_chart would send.
    return vega_charts._convert_altair_to_vega_lite_spec(_figure.chart())


def chart(build: Callable[..., alt.TopLevelMixin], *args: Any, key: str, name: str = "chart",
          on_select: Any = "ignore", downloads: bool = True, events: pd.DataFrame | None = None,
          title: str | None = None, **kwargs: Any) -> Any:
    """Draw `build(*args, **kwargs)` (a `ui.charts` builder) with PNG and SVG downloads beside it; with
    `events` marked (charts.with_events), `title` as its point (charts.titled), its text larger while
    presenting, for a shared screen. Returns the selection event when `on_select`."""
    figure = Figure(build, args, tuple(sorted(kwargs.items())), events, title, presenter.is_on())
    spec = _spec(figure, f"{build.__module__}.{build.__qualname__}", figure.args, figure.kwargs, events, title,
                 figure.presenting)
    event = st.vega_lite_chart(spec=spec, key=key, on_select=on_select, width="stretch")
    if downloads:
        left, right, _ = st.columns([1, 1, 6])
        left.download_button("PNG", data=lambda: charts.png(figure.chart()), file_name=f"{name}.png",
                             mime="image/png", key=f"{key}_png", on_click="ignore")
        right.download_button("SVG", data=lambda: charts.svg(figure.chart()), file_name=f"{name}.svg",
                              mime="image/svg+xml", key=f"{key}_svg", on_click="ignore")
    return event


def table(frame: pd.DataFrame, key: str, *, width: Any = "stretch", **options: Any) -> Any:
    """A table, full width, without its index. (Streamlit's own CSV download is switched off in
    .streamlit/config.toml: downloads go through ui.downloads, which logs them and neutralises formulas.)"""
    return st.dataframe(frame, hide_index=True, width=width, key=key, **options)
