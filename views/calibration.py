"""Calibration: how far raters agreed in a session, who drifted from the expert answer, and which items split
the room (the agenda for the next meeting)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_sources.label_order import save_order, saved_order
from metrics import calibration as cal
from metrics import tables, words
from metrics.filters import Filters
from ui import auth, charts, downloads, filters, presenter, show
from ui.cache import clear_caches, con, measure

LEVEL_HELP = ("Nominal: labels are names, any disagreement counts the same. Ordinal: labels are ordered (a "
              "severity scale, scorecard points), a near miss counts less than a far one. Interval: scores, "
              "differences between them count by their size.")

AGENDA_CONFIG = {"Entropy (bits)": st.column_config.NumberColumn(format="%.2f")}


def label_order_section(f: Filters) -> tuple[str, ...] | None:
    """The saved order of the labels (making them ordinal), shown and editable in an expander."""
    order = measure(saved_order)
    level = measure(cal.label_level, f, order)
    with st.expander(f"Labels: {level.level} · {show.esc(level.reason)}", expanded=False):
        st.caption(LEVEL_HELP)
        if level.level == "interval":
            return order
        picked = st.multiselect("The labels' order, lowest first (pick them in order)",
                                [str(c) for c in level.categories] if not order else list(order),
                                default=list(order) if order else None, key="label_order")
        left, right = st.columns(2)
        if left.button("Save this order", key="save_label_order", disabled=not picked) and picked:
            save_order(con(), list(picked))
            clear_caches()
            st.rerun()
        if order and right.button("Forget the saved order", key="forget_label_order"):
            save_order(con(), None)
            clear_caches()
            st.rerun()
    return order


def session_list(f: Filters, order: tuple[str, ...] | None) -> pd.DataFrame:
    with st.spinner("Measuring agreement in every session"):
        sessions = measure(cal.sessions, f, order=order)
    undated = int(sessions["date"].isna().sum())
    if undated:
        st.caption(f"{words.count(undated, 'undated session')} listed whatever the dates in the sidebar.")
    # A session with a handful of raters is about a handful of people: left out while presenting.
    kept = presenter.keep(sessions, "raters")
    if kept.hidden:
        st.caption(f"Presenter mode: {kept.hidden} session(s) with fewer than {presenter.MIN_GROUP} raters are "
                   "not shown.")
    return kept.frame


def pick_session(sessions: pd.DataFrame) -> tuple[str, str]:
    labels = {row.session_id: f"{'undated' if pd.isna(row.date) else f'{row.date:%Y-%m-%d}'} · {row.policy} · "
                              f"{row.market} · {row.session_id}" for row in sessions.itertuples()}
    session_id = st.selectbox("Session", list(labels), index=len(labels) - 1, format_func=labels.get, key="session",
                              bind="query-params")
    return session_id, labels[session_id]


def figures(sa: cal.SessionAgreement, label: str) -> None:
    st.subheader(f"Agreement in {show.esc(label)}")
    cols = st.columns(5)
    cols[0].metric(f"Agreement beyond chance (α, {sa.level.level})", words.signed(sa.alpha.estimate),
                   help=f"Krippendorff's alpha at the {sa.level.level} level ({sa.level.reason}) on all items, "
                        "missing ratings allowed; interval from a bootstrap over items.")
    cols[0].caption(words.coefficient_interval(sa.alpha))
    cols[1].metric("Fleiss' κ (nominal)", words.signed(sa.fleiss.estimate),
                   help="Fleiss' kappa treats every label as a name, whatever their order; on the items rated by "
                        "the usual number of raters.")
    cols[1].caption(f"{words.coefficient_interval(sa.fleiss)} · {sa.fleiss_items} items × {sa.fleiss_raters} raters")
    cols[2].metric("Percent agreement", words.pct(sa.percent_agreement, 0),
                   help="Share of agreeing rater pairs per item, averaged over items. Not corrected for chance.")
    cols[2].caption("agreeing rater pairs, per item")
    cols[3].metric("Items", f"{sa.n_items}")
    cols[3].caption("rated in this session")
    cols[4].metric("Raters", f"{sa.n_raters}")
    cols[4].caption("reference ratings excluded")
    if not sa.alpha.measured:
        return
    low_band, high_band = words.agreement_band(sa.alpha.low), words.agreement_band(sa.alpha.high)
    spread = (f" The interval runs from {low_band} to {high_band}, so read the label loosely."
              if low_band != high_band else "")
    st.markdown(
        f"Agreement was **{words.agreement_band(sa.alpha.estimate)}** ({sa.level.level} α = "
        f"{words.signed(sa.alpha.estimate)}, {words.coefficient_interval(sa.alpha)}, {sa.n_items} items, "
        f"{sa.n_raters} raters), on Landis & Koch's "
        "scale: a rough guide, not a standard. Krippendorff suggests α ≥ 0.80 for conclusions that rely on the "
        f"labels and 0.667 as the lowest for tentative ones.{spread}"
    )


def raters_section(sa: cal.SessionAgreement, session_id: str) -> None:
    st.subheader("Each rater against the expert answer")
    raters = presenter.mask(sa.raters)
    if raters.empty or raters["agreement_with_reference"].isna().all():
        st.info("This session has no reference (expert) answers, so raters cannot be compared with one.")
        return
    every_item_judged = bool(sa.disagreements["reference_label"].notna().all())
    bars = tables.rater_bars(raters, with_interval=every_item_judged)
    show.chart(charts.rater_agreement, bars, with_interval=every_item_judged, key="rater_agreement",
               name=f"raters_{session_id}")
    st.caption("Bars: share of the rater's items that match the expert answer, with the count"
               + (" and a 95% Wilson interval." if every_item_judged else
                  "; some items have no expert answer, so no interval is drawn."))
    weighted = sa.level.level != "nominal"
    show.table(tables.rater_kappa_table(raters, weighted=weighted), key="rater_kappa_table")
    st.caption("Agreement with the expert beyond chance: Cohen's kappa" + (
        " weighted linearly (the labels are ordered, so a near miss counts partly)" if weighted else "")
        + ", with its 95% interval from the large-sample standard error (Fleiss, Cohen & Everitt 1969).")


def pairs_section(session_id: str, order: tuple[str, ...] | None) -> None:
    st.subheader("Rater against rater")
    pairs = presenter.mask(measure(cal.pairwise_agreement, session_id, order=order).rename(
        columns={"first": "rater_id", "second": "other_rater"}))
    if presenter.is_on():
        pairs["other_rater"] = [presenter.pseudonym(r, "Rater") for r in pairs["other_rater"]]
    if pairs.empty:
        st.info("Fewer than two raters in this session.")
        return
    show.table(tables.pairs_table(pairs), key="pairs_table")
    st.caption("Cohen's kappa for each pair of raters on the items both labelled, with its 95% interval: where "
               "two raters read the policy differently, the meeting can start there.")


def agenda_section(sa: cal.SessionAgreement, session_id: str) -> None:
    st.subheader("Items that split the room")
    agenda = sa.disagreements
    if agenda.empty:
        st.info("No rated items in this session.")
        return
    split = int((agenda["distinct_labels"] > 1).sum())
    st.caption(f"{split} of {len(agenda)} items got more than one label. Most disagreement first (entropy of the "
               "labels, in bits): the agenda for the next meeting.")
    shown = tables.agenda_table(agenda)
    show.table(shown, key="agenda_table", column_config=AGENDA_CONFIG)
    downloads.csv_button(shown, file_name=f"agenda_{session_id}.csv", key="agenda_csv",
                         label="Download the agenda (CSV)", what=f"calibration agenda {session_id}")


def grid_section(sa: cal.SessionAgreement, session_id: str) -> None:
    st.subheader("Who said what")
    grid = presenter.mask(sa.grid)
    if grid.empty:
        st.info("No ratings to show.")
        return
    grid = grid.assign(differs=grid["matches_reference"].eq(False).fillna(False).astype(bool))
    show.chart(charts.rating_grid, grid, key="rating_grid", name=f"grid_{session_id}")
    st.caption("Colour: the label given. ✕: differs from the expert answer.")


def over_time_section(f: Filters, sessions: pd.DataFrame, session_id: str, order: tuple[str, ...] | None) -> None:
    st.subheader("Agreement over time, per policy")
    with st.spinner("Measuring agreement per policy"):
        by_policy = presenter.keep(measure(cal.agreement_by_policy, f, order=order), "raters").frame
    if by_policy.empty:
        st.info("No per-policy agreement to show under these filters.")
        return
    chosen_policy = str(sessions.loc[sessions["session_id"] == session_id, "policy"].iloc[0])
    trend = by_policy.assign(this_policy=by_policy["policy"] == chosen_policy,
                             chosen=by_policy["session_id"] == session_id)
    low = trend[trend["alpha"] < 0.667]
    point = (f"{words.count(low['session_id'].nunique(), 'session')} below 0.667 on some policy" if len(low)
             else "Every session at or above 0.667")
    show.chart(charts.agreement_over_time, trend, title=point, key="agreement_over_time",
               name="agreement_by_policy")
    st.caption(f"Each point is one session's α on one policy's items, with its 95% bootstrap interval; "
               f"{show.esc(chosen_policy)} (this session's policy) is highlighted. Dashed: 0.667 and 0.80.")


def main() -> None:
    st.title("Calibration")
    st.caption(
        "Raters label the same items; the expert answer (the reference) is what each rater is compared with and "
        "never counts in the agreement figures. Dates, markets and policies in the sidebar apply; cohorts and "
        "projects do not."
    )
    f = filters.current()
    order = label_order_section(f) if auth.user().can("trainee_data") else measure(saved_order)
    sessions = session_list(f, order)
    if sessions.empty:
        st.info("No calibration session matches these filters. Widen the dates, markets or policies in the sidebar, "
                "or import calibration exports on the Data page.")
        return
    session_id, label = pick_session(sessions)
    with st.spinner("Reading the session"):
        sa = measure(cal.session_agreement, session_id, order=order)
    figures(sa, label)
    raters_section(sa, session_id)
    pairs_section(session_id, order)
    agenda_section(sa, session_id)
    grid_section(sa, session_id)
    over_time_section(f, sessions, session_id, order)


main()
