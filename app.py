"""Uplift: the entry point. Page registry, shared sidebar filters and the presenter switch."""

from __future__ import annotations

import logging

import streamlit as st

from ui import auth, filters, presenter, state

st.set_page_config(page_title="Uplift", page_icon=":material/trending_up:", layout="wide")

# Pages appear here only once they are built.
PAGES = {
    "": [st.Page("views/home.py", title="Home", icon=":material/home:", default=True)],
    "Managers": [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview"),
    ],
    "Trainers": [
        st.Page("views/training.py", title="Training impact", icon=":material/school:", url_path="training"),
        st.Page("views/trainee.py", title="Trainee explorer", icon=":material/person_search:", url_path="trainee"),
        st.Page("views/learning.py", title="Learning curves", icon=":material/show_chart:", url_path="learning"),
        st.Page("views/weak_spots.py", title="Weak spots", icon=":material/grid_on:", url_path="weak-spots"),
    ],
    "Calibration": [
        st.Page("views/calibration.py", title="Calibration", icon=":material/balance:", url_path="calibration"),
    ],
    "Analysts": [st.Page("views/data.py", title="Data", icon=":material/upload_file:", url_path="data")],
}


def main() -> None:
    who = auth.user()  # a sign-in screen and a stop when sign-in is configured and nobody is signed in
    page = st.navigation(auth.allowed_pages(PAGES, who))
    state.store()  # a clear message and a stop if the database cannot be opened
    auth.sidebar_badge(who)
    # Viewers see aggregates only: presenter mode is always on for them.
    presenter.switch(forced=not who.can("trainee_data"))
    presenter.style()
    try:
        filters.sidebar(who.markets)
        page.run()
    except Exception as exc:  # the last guard: a sentence for people, the details in the server log
        state.stop_if_broken(exc)  # a damaged database or a full disk: say so, with the way back
        logging.getLogger("uplift").exception("page %s failed", page.title)
        st.error(
            "Something went wrong while drawing this page. The data is safe; try another filter or reload. "
            "The details are in the server log."
        )


main()
