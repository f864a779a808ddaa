"""Weak spots: market x policy cells doing worse than the same policy elsewhere, and what goes wrong there."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_sources.rollups import live_manifest
from metrics import raw_decisions, tables, words
from metrics import weak_spots as ws
from metrics.filters import Filters
from metrics.rates import lead_measure, reviews_by_source
from metrics.training import events
from ui import charts, downloads, drill, filters, presenter, show
from ui.cache import measure

SOURCES = {"golden_set": "Accuracy (golden set)", "qa_audit": "Quality (QA audit)"}
FDR_LEVELS = [0.01, 0.05, 0.10, 0.20]
PERCENT = st.column_config.NumberColumn(format="percent")
TABLE_CONFIG = {"Rate": PERCENT, "Shrunk rate": PERCENT, "Policy elsewhere": PERCENT,
                "Gap (shrunk)": st.column_config.NumberColumn(format="%+.3f"),
                "q-value": st.column_config.NumberColumn(format="%.3f"),
                "Avoidable errors": st.column_config.NumberColumn(format="%.1f")}
SHARE = {"Share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)}


def controls() -> tuple[Filters, int, float]:
    c1, c2, c3 = st.columns([2, 1, 1])
    f = filters.current()
    counts = measure(reviews_by_source, f)
    # Opens on the measure with the most reviews: a team with QA audits only sees quality at once.
    lead = measure(lead_measure, f) or "golden_set"
    # Labels stay the same whatever the data (a shared link names the measure by its label).
    source = c1.segmented_control("Measure", list(SOURCES), default=lead, required=True, key="measure_source",
                                  bind="query-params", format_func=SOURCES.get,
                                  help=" · ".join(f"{SOURCES[s]}: {words.count(counts[s], 'review')}" for s in SOURCES))
    min_reviewed = int(c2.number_input("Minimum reviews per cell", min_value=1, max_value=10_000, value=30, step=5,
                                       key="min_reviewed", bind="query-params"))
    fdr = float(c3.selectbox("False-discovery rate", FDR_LEVELS, index=1, format_func=lambda x: f"{x:.0%}",
                             key="fdr", bind="query-params", help="Benjamini-Hochberg level: of the flagged cells, at most this share "
                                             "are expected to be false alarms."))
    return f.with_(source=source or lead), min_reviewed, fdr


def _clicked(event: object) -> tuple[str, str] | None:
    """The market and policy of the clicked cell, if any."""
    try:
        points = event.selection["cell"]  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if not points:
        return None
    point = points[0]
    return (str(point["market"]), str(point["policy"])) if "market" in point and "policy" in point else None


def heatmap(spots: pd.DataFrame, min_reviewed: int) -> None:
    """The map; a click on it moves the cell pickers below to that cell."""
    st.subheader("Market × policy")
    point = tables.weak_spot_point(spots, words.MEASURE_NAMES[str(spots["source"].iloc[0])])
    event = show.chart(charts.weak_spot_heatmap, spots, min_reviewed, title=point, key="heatmap",
                       name="weak_spots", on_select="rerun")
    st.caption(f"● flagged (bold border) · grey “n<{min_reviewed}”: fewer than {min_reviewed} reviews, not judged · "
               "orange: below the policy's level in the other markets, blue: above. Click a cell for its detail, "
               "double-click to clear.")
    # The pickers also work on their own (keyboard, tests). Only a new click moves them, so a later pick in
    # the boxes is not overridden by an old click.
    markets, policies = sorted(spots["market"].unique()), sorted(spots["policy"].unique())
    clicked = _clicked(event)
    if clicked and clicked != st.session_state.get("heatmap_last_click"):
        st.session_state["heatmap_last_click"] = clicked
        if clicked[0] in markets and clicked[1] in policies:
            st.session_state["cell_market"], st.session_state["cell_policy"] = clicked
    top = spots.iloc[0]
    for key, options, default in (("cell_market", markets, top["market"]), ("cell_policy", policies, top["policy"])):
        if st.session_state.get(key) not in options:
            st.session_state[key] = default


def cell_detail(spots: pd.DataFrame, f: Filters, min_reviewed: int, fdr: float) -> None:
    st.subheader("Cell detail")
    p1, p2 = st.columns(2)
    market = p1.selectbox("Market", sorted(spots["market"].unique()), key="cell_market", bind="query-params")
    policy = p2.selectbox("Policy", sorted(spots["policy"].unique()), key="cell_policy", bind="query-params")
    row = spots[(spots["market"] == market) & (spots["policy"] == policy)]
    with st.container(border=True):
        st.markdown(f"### {show.esc(market)} × {show.esc(policy)}")
        if row.empty:
            st.info(f"No {SOURCES[f.source or 'golden_set'].lower()} decisions in {show.esc(market)} × "
                    f"{show.esc(policy)} under these filters.")
            return
        with st.spinner("Reading the cell's decisions"):
            detail = measure(ws.cell_detail, f, market, policy)
        r = row.iloc[0]
        st.code(ws.suggested_refresher(r, detail, fdr=fdr), language=None, wrap_lines=True)
        drill.rows_button(f"Show the {int(r['reviewed']):,} decisions behind this cell",
                          f.with_(markets=(market,), policies=(policy,)), key="cell_rows",
                          what=f"{market} × {policy}, {words.MEASURE_NAMES[str(f.source)]}")
        if not bool(r["enough_data"]):
            st.warning(f"Only {int(r['reviewed'])} reviews here (fewer than {min_reviewed}): too few to judge.")
        trend_col, why_col = st.columns([3, 2])
        with trend_col:
            cell_trend(detail, r, f)
        with why_col:
            cell_errors(detail)
        if measure(live_manifest) is not None and not presenter.is_on():  # raw rows stay out of presenter mode
            lake_rows(f.with_(source=detail.source), market, policy)


def lake_rows(f: Filters, market: str, policy: str) -> None:
    """With a rollup folder in use the store holds no raw rows for its decisions: they are read from the
    folder's input files when this machine can reach them (metrics/raw_decisions.py)."""
    with st.expander("Wrong decisions in this cell from the rollup folder's raw files (latest first)"):
        raw = measure(raw_decisions.wrong_decisions, f, market, policy)
        for note in raw.notes:
            st.text(note)  # names a path from the data: text, never Markdown
        if raw.rows.empty:
            st.info("No raw wrong decisions to show for this cell under these filters.")
        else:
            show.table(raw.rows, key="cell_raw_decisions")


def cell_trend(detail: ws.CellDetail, r: pd.Series, f: Filters) -> None:
    st.markdown("**Week by week**")
    if detail.trend.empty:
        st.info("No weekly figures for this cell.")
        return
    start, end = charts.weeks_spanned(detail.trend)
    marked = measure(events, f.with_(markets=(detail.market,), policies=(detail.policy,), start=start, end=end))
    show.chart(charts.cell_trend, detail.trend, r["policy_level"], events=marked, key="cell_trend",
               name=f"trend_{detail.market}_{detail.policy}")
    st.caption("Weekly rate with its 95% band; dashed grey: the policy in the other markets; coloured dashed "
               "lines: trainings and policy updates for this market and policy.")


def cell_errors(detail: ws.CellDetail) -> None:
    st.markdown("**Confusions (expected → given)**")
    if detail.confusions.empty:
        st.info("No wrong decisions with both labels recorded.")
    else:
        show.table(tables.confusions_table(detail.confusions), key="cell_confusions", column_config=SHARE)
    st.markdown("**Error types**")
    if detail.error_types.empty:
        st.info("No error types recorded for this cell's wrong decisions.")
    else:
        show.table(detail.error_types.rename(columns={"error_type": "Error type", "n": "Errors", "share": "Share"}),
                   key="cell_error_types", column_config=SHARE)


def ranked_cells(spots: pd.DataFrame, min_reviewed: int, fdr: float, measure_name: str) -> None:
    st.subheader("Ranked cells")
    judged = spots[spots["enough_data"]]
    st.caption(f"Flagged cells first, by avoidable errors (the errors saved if the cell reached its policy's level "
               f"in the other markets); then the rest by gap. Cells with fewer than {min_reviewed} reviews are listed "
               "separately, unranked.")
    if judged.empty:
        st.info(f"No cell has {min_reviewed} reviews or more under these filters: nothing can be ranked yet.")
        return
    lines = [ws.suggested_refresher(r, fdr=fdr) for _, r in judged.iterrows()]
    ranked = tables.weak_spot_table(judged, ranked=True).assign(**{"Suggested refresher": lines})
    show.table(ranked, key="ranked_cells", column_config=TABLE_CONFIG)
    downloads.csv_button(ranked, file_name="weak_spots.csv", key="weak_spots_csv", what="weak spots")
    flagged = judged["flagged"].tolist()
    flagged_lines = [line for line, f in zip(lines, flagged, strict=True) if f]
    if flagged_lines:
        st.markdown(f"**For the RCA ticket** ({len(flagged_lines)} flagged)")
        for line in flagged_lines:
            st.code(line, language=None, wrap_lines=True)
    else:
        st.info(tables.weak_spot_verdict(spots, measure_name, min_reviewed)
                + f" (false-discovery rate {fdr:.0%}).")
    with st.expander("Lines for the cells not flagged"):
        for line, f in zip(lines, flagged, strict=True):
            if not f:
                st.code(line, language=None, wrap_lines=True)


def thin_cells(spots: pd.DataFrame, min_reviewed: int) -> None:
    too_few = spots[~spots["enough_data"]]
    if too_few.empty:
        return
    st.markdown(f"**Not enough data** ({len(too_few)} cells with fewer than {min_reviewed} reviews, not ranked)")
    show.table(tables.weak_spot_table(too_few.sort_values(["market", "policy"]), ranked=False), key="too_few_cells",
               column_config=TABLE_CONFIG)


def main() -> None:
    st.title("Weak spots")
    st.caption(
        "Each market × policy cell against the same policy in the other markets. Colour is the gap after "
        "empirical-Bayes shrinkage, so a handful of reviews cannot paint a cell dark; a cell is flagged only when "
        "the difference survives the Benjamini-Hochberg false-discovery control."
    )
    f, min_reviewed, fdr = controls()
    visible = filters.visible_markets()
    with st.spinner("Comparing every market × policy cell"):
        spots = measure(ws.weak_spots, f, min_reviewed=min_reviewed, fdr=fdr, visible_markets=visible)
    if spots.empty:
        st.info(f"No {SOURCES[f.source or 'golden_set'].lower()} decisions match these filters, so there are "
                "no cells to compare. Widen the filters in the sidebar or pick the other measure.")
        return
    if len(visible) == 1:
        st.info(f"You can see one market only ({show.esc(visible[0])}): its cells cannot be compared with other "
                "markets, so none is judged. Ask an admin for more markets to compare with.")
    # While presenting, a cell's figure about fewer than 5 people would point at them.
    kept = presenter.keep(spots, "trainees")
    if kept.hidden:
        st.caption(kept.note("cell"))
    if kept.frame.empty:
        return
    heatmap(kept.frame, min_reviewed)
    cell_detail(kept.frame, f, min_reviewed, fdr)
    ranked_cells(kept.frame, min_reviewed, fdr, words.MEASURE_NAMES[str(f.source)])
    thin_cells(kept.frame, min_reviewed)


main()
