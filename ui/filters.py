"""The shared sidebar filters. They live in the URL's query parameters, so a link reproduces a view."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from access.roles import User
from metrics.filters import Filters, within_markets
from metrics.options import FilterOptions, filter_options
from ui import auth
from ui.cache import measure


def options() -> FilterOptions:
    return measure(filter_options)


def sidebar(who: User) -> Filters:
    """Draw the filters and return the value every measure takes. A trainer limited to some markets is
    offered only those, and sees only those when none is picked."""
    opts = options()
    allowed_markets = who.markets
    st.sidebar.subheader("Filters")
    if opts.first_date and opts.last_date:
        follow_the_data(opts.first_date, opts.last_date)
        start = st.sidebar.date_input("From", value=opts.first_date, min_value=opts.first_date,
                                      max_value=opts.last_date, key="from", bind="query-params", format="YYYY-MM-DD")
        end = st.sidebar.date_input("To", value=opts.last_date, min_value=opts.first_date,
                                    max_value=opts.last_date, key="to", bind="query-params", format="YYYY-MM-DD")
        if start and end and start > end:
            st.sidebar.warning("'From' is after 'To': showing nothing until the range is fixed.")
    market_options = [m for m in opts.markets if not allowed_markets or m in allowed_markets]
    st.sidebar.multiselect("Markets", market_options, key="markets", bind="query-params",
                           placeholder="All my markets" if allowed_markets else "All markets")
    st.sidebar.multiselect("Policies", opts.policies, key="policies", bind="query-params",
                           placeholder="All policies")
    st.sidebar.multiselect("Cohorts", opts.cohorts, key="cohorts", bind="query-params",
                           placeholder="All cohorts")
    if len(opts.projects) > 1:
        st.sidebar.multiselect("Projects", opts.projects, key="projects", bind="query-params",
                               placeholder="All projects")
    return current(who)


def follow_the_data(first: dt.date, last: dt.date) -> None:
    """When an import or undo moves the data's first or last day, dates still at the old ends move with it
    (a range the person narrowed stays), so new data shows on every page without a new browser tab."""
    ss = st.session_state
    previous = ss.get("data_range")
    if previous == (first, last):
        return
    if previous is not None:
        old_first, old_last = previous
        for key, old, new in (("from", old_first, first), ("to", old_last, last)):
            value = ss.get(key)
            if value == old or (isinstance(value, dt.date) and not first <= value <= last):
                ss[key] = new
    ss["data_range"] = (first, last)


def current(who: User | None = None) -> Filters:
    """The filters as the sidebar widgets hold them on this run (app.py draws them before the page),
    limited to the markets `who` (by default the signed-in person) may see."""
    ss = st.session_state

    def day(key: str) -> dt.date | None:
        value = ss.get(key)
        return value if isinstance(value, dt.date) else None

    def many(key: str) -> tuple[str, ...]:
        return tuple(ss.get(key) or ())

    picked = Filters(start=day("from"), end=day("to"), markets=many("markets"), policies=many("policies"),
                     cohorts=many("cohorts"), projects=many("projects"))
    return within_markets(picked, (who or auth.user()).markets)


def visible_markets() -> tuple[str, ...]:
    """The markets the signed-in person may see (empty: all): what a market is compared with."""
    return auth.user().markets
