"""Uplift: the entry point. Page registry, shared sidebar filters and the presenter switch."""

from __future__ import annotations

import logging

import streamlit as st

from ui import filters, presenter, state

st.set_page_config(page_title="Uplift", page_icon=":material/trending_up:", layout="wide")

# Pages appear here only once they are built.
PAGES = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Trainers": [
        st.Page("pages/learning.py", title="Learning curves", icon=":material/show_chart:", url_path="learning"),
        st.Page("pages/weak_spots.py", title="Weak spots", icon=":material/grid_on:", url_path="weak-spots"),
    ],
    "Analysts": [st.Page("pages/data.py", title="Data", icon=":material/upload_file:", url_path="data")],
}


def main() -> None:
    page = st.navigation(PAGES)
    state.store()  # a clear message and a stop if the database cannot be opened
    presenter.switch()
    presenter.style()
    filters.sidebar()
    try:
        page.run()
    except Exception:  # the last guard: a sentence for people, the details in the server log
        logging.getLogger("uplift").exception("page %s failed", page.title)
        st.error(
            "Something went wrong while drawing this page. The data is safe; try another filter or reload. "
            "The details are in the server log."
        )


main()
