"""Drawing helpers every page uses: data values as inert text, charts with their downloads, tables.

Streamlit renders Markdown (links, images, `:red[...]` directives, `$...$` maths) in headings, captions,
metric labels, alerts, help texts, tab and expander labels: a name such as `![x](http://host/x.png)` would
become an image the browser fetches. Every value that comes from the data passes through `esc` before it
reaches one of them (table cells and chart data are text already).
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

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


def chart(figure: alt.TopLevelMixin, key: str, *, name: str = "chart", on_select: Any = "ignore",
          downloads: bool = True) -> Any:
    """Draw a chart with PNG and SVG downloads beside it (its text larger while presenting, for a shared
    screen). Returns the selection event when `on_select`."""
    if presenter.is_on():
        figure = charts.presenting(figure)
    event = st.altair_chart(figure, key=key, on_select=on_select, width="stretch")
    if downloads:
        left, right, _ = st.columns([1, 1, 6])
        left.download_button("PNG", data=lambda: charts.png(figure), file_name=f"{name}.png",
                             mime="image/png", key=f"{key}_png", on_click="ignore")
        right.download_button("SVG", data=lambda: charts.svg(figure), file_name=f"{name}.svg",
                              mime="image/svg+xml", key=f"{key}_svg", on_click="ignore")
    return event


def table(frame: pd.DataFrame, key: str, *, width: Any = "stretch", **options: Any) -> Any:
    """A table, full width, without its index. (Streamlit's own CSV download is switched off in
    .streamlit/config.toml: downloads go through ui.downloads, which logs them and neutralises formulas.)"""
    return st.dataframe(frame, hide_index=True, width=width, key=key, **options)
