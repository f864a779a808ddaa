"""The shared sidebar filters. They live in the URL's query parameters, so a link reproduces a view."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from metrics.filters import Filters
from metrics.options import FilterOptions, filter_options
from ui.state import measure


def options() -> FilterOptions:
    return measure(filter_options)


def sidebar() -> Filters:
    """Draw the filters and return the value every measure takes."""
    opts = options()
    st.sidebar.subheader("Filters")
    start: dt.date | None = None
    end: dt.date | None = None
    if opts.first_date and opts.last_date:
        left, right = st.sidebar.columns(2)
        start = left.date_input("From", value=opts.first_date, min_value=opts.first_date,
                                max_value=opts.last_date, key="from", bind="query-params")
        end = right.date_input("To", value=opts.last_date, min_value=opts.first_date,
                               max_value=opts.last_date, key="to", bind="query-params")
        if start and end and start > end:
            st.sidebar.warning("'From' is after 'To': showing nothing until the range is fixed.")
    markets = st.sidebar.multiselect("Markets", opts.markets, key="markets", bind="query-params",
                                     placeholder="All markets")
    policies = st.sidebar.multiselect("Policies", opts.policies, key="policies", bind="query-params",
                                      placeholder="All policies")
    cohorts = st.sidebar.multiselect("Cohorts", opts.cohorts, key="cohorts", bind="query-params",
                                     placeholder="All cohorts")
    projects: list[str] = []
    if len(opts.projects) > 1:
        projects = st.sidebar.multiselect("Projects", opts.projects, key="projects", bind="query-params",
                                          placeholder="All projects")
    return Filters(
        start=start if isinstance(start, dt.date) else None,
        end=end if isinstance(end, dt.date) else None,
        markets=tuple(markets), policies=tuple(policies), cohorts=tuple(cohorts), projects=tuple(projects),
    )


def current() -> Filters:
    """The filters as the sidebar widgets hold them on this run (app.py draws them before the page)."""
    ss = st.session_state

    def day(key: str) -> dt.date | None:
        value = ss.get(key)
        return value if isinstance(value, dt.date) else None

    def many(key: str) -> tuple[str, ...]:
        return tuple(ss.get(key) or ())

    return Filters(start=day("from"), end=day("to"), markets=many("markets"), policies=many("policies"),
                   cohorts=many("cohorts"), projects=many("projects"))
