"""Uplift: the entry point. Page registry, shared sidebar filters and the presenter switch."""

from __future__ import annotations

import logging

import streamlit as st

from ui import auth, cache, filters, pages, presenter

st.set_page_config(page_title="Uplift", page_icon=":material/trending_up:", layout="wide")


def main() -> None:
    cache.start_run()
    who = auth.user()  # a sign-in screen and a stop when sign-in is configured and nobody is signed in
    page = st.navigation(pages.navigation(who))
    cache.store()  # a clear message and a stop if the database cannot be opened
    auth.sidebar_badge(who)
    # Viewers see aggregates only: presenter mode is always on for them.
    presenter.switch(forced=not who.can("trainee_data"))
    presenter.style()
    try:
        filters.sidebar(who)
        page.run()
    except Exception as exc:  # the last guard: a sentence for people, the details in the server log
        cache.stop_if_broken(exc)  # a damaged database or a full disk: say so, with the way back
        logging.getLogger("uplift").exception("page %s failed", page.title)
        st.error(
            "Something went wrong while drawing this page. The data is safe; try another filter or reload. "
            "The details are in the server log."
        )


main()
