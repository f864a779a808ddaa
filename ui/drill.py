"""Drill-through: from a figure to the rows it was counted from, in a dialog, with a CSV download under the
same role and presenter rules as every other table."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from metrics import words
from metrics.filters import Filters
from metrics.rows import decisions_behind
from ui import auth, downloads, presenter, show
from ui.cache import measure


def rows_button(label: str, f: Filters, *, key: str, what: str, trainee_id: str | None = None,
                week: dt.date | None = None) -> None:
    """A button that opens the decisions behind a figure. Trainee-level rows are for people who may see
    them (not viewers)."""
    if not auth.user().can("trainee_data"):
        return
    if st.button(label, key=key, icon=":material/table_rows:"):
        _rows_dialog(f, trainee_id, week, what, key)


@st.dialog("The rows behind this figure", width="large")
def _rows_dialog(f: Filters, trainee_id: str | None, week: dt.date | None, what: str, key: str) -> None:
    rows = measure(decisions_behind, f, trainee_id=trainee_id, week=week)
    st.markdown(show.esc(what))
    if presenter.too_few(rows.people):
        st.info(presenter.hidden_note("figure"))
        return
    parts = [f"{words.count(rows.total, 'decision')} from {words.count(rows.people, 'person', 'people')}"]
    if rows.shown < rows.total:
        parts.append(f"the newest {rows.shown:,} shown here (the download has them too)")
    if rows.counted:
        parts.append(f"plus {words.count(rows.counted, 'review')} that came as counts, with no rows to list")
    if rows.in_folder:
        parts.append(f"plus {words.count(rows.in_folder, 'review')} summed up in the rollup folder in use, whose "
                     "raw rows stay in its input files")
    st.caption("; ".join(parts) + ".")
    if rows.frame.empty:
        st.info("No item-level decisions behind this figure.")
        return
    show.table(presenter.mask(rows.frame), key=f"{key}_rows")
    downloads.csv_button(rows.frame, file_name=f"{key}_rows.csv", key=f"{key}_rows_csv", what=f"rows: {what}")
