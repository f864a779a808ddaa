"""Calibration: how far raters agreed in a session, who drifted from the expert answer, and which items split
the room (the agenda for the next meeting)."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from metrics import calibration as cal
from metrics.stats import wilson_arrays
from ui import charts, downloads, presenter
from ui.filters import current
from ui.state import measure

# Landis & Koch (1977): labels for kappa-like statistics. Their cut-offs were never meant as a standard.
BANDS = ((0.0, "poor (no better than chance)"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"),
         (0.80, "substantial"), (math.inf, "almost perfect"))

st.title("Calibration")
st.caption(
    "Raters label the same items; the expert answer (the reference) is what each rater is compared with and "
    "never counts in the agreement figures. Dates, markets and policies in the sidebar apply; cohorts and projects "
    "do not."
)

filters = current()
with st.spinner("Measuring agreement in every session"):
    sessions = measure(cal.sessions, filters)

if presenter.is_on():
    # A session with a handful of raters is about a handful of people: left out while presenting.
    small = sessions["raters"] < presenter.MIN_GROUP
    if small.any():
        st.caption(f"Presenter mode: {int(small.sum())} session(s) with fewer than {presenter.MIN_GROUP} raters are "
                   "not shown.")
    sessions = sessions[~small]

if sessions.empty:
    st.info("No calibration session matches these filters. Widen the dates, markets or policies in the sidebar, or "
            "import calibration exports on the Data page.")
    st.stop()


def band(value: float) -> str:
    if math.isnan(value):
        return "not measurable"
    return next(label for upper, label in BANDS if value <= upper)


def fmt(value: float, digits: int = 2) -> str:
    return "—" if math.isnan(value) else f"{value:.{digits}f}".replace("-", "−")


def interval(low: float, high: float) -> str:
    return "no interval" if math.isnan(low) or math.isnan(high) else f"95% CI {fmt(low)} to {fmt(high)}"


labels = {
    row.session_id: f"{row.date:%Y-%m-%d} · {row.policy} · {row.market} · {row.session_id}"
    for row in sessions.itertuples()
}
session_id = st.selectbox("Session", list(labels), index=len(labels) - 1, format_func=labels.get, key="session")

with st.spinner("Reading the session"):
    sa = measure(cal.session_agreement, session_id)

# ------------------------------------------------------------------------------------------ figures
st.subheader(f"Agreement in {labels[session_id]}")
cols = st.columns(5)
cols[0].metric("Krippendorff's α", fmt(sa.alpha), help="Nominal alpha on all items, missing ratings allowed; "
               "interval from a bootstrap over items.")
cols[0].caption(interval(sa.alpha_low, sa.alpha_high))
cols[1].metric("Fleiss' κ", fmt(sa.fleiss_kappa), help="On the items rated by the usual number of raters.")
cols[1].caption(f"{interval(sa.fleiss_low, sa.fleiss_high)} · {sa.fleiss_items} items × {sa.fleiss_raters} raters")
cols[2].metric("Percent agreement", "—" if math.isnan(sa.percent_agreement) else f"{sa.percent_agreement:.0%}",
               help="Share of agreeing rater pairs per item, averaged over items. Not corrected for chance.")
cols[2].caption("agreeing rater pairs, per item")
cols[3].metric("Items", f"{sa.n_items}")
cols[3].caption("rated in this session")
cols[4].metric("Raters", f"{sa.n_raters}")
cols[4].caption("reference ratings excluded")

if not math.isnan(sa.alpha):
    low_band, high_band = band(sa.alpha_low), band(sa.alpha_high)
    spread = (f" The interval runs from {low_band} to {high_band}, so read the label loosely."
              if low_band != high_band else "")
    st.markdown(
        f"Agreement was **{band(sa.alpha)}** (α = {fmt(sa.alpha)}, {interval(sa.alpha_low, sa.alpha_high)}, "
        f"{sa.n_items} items, {sa.n_raters} raters), on Landis & Koch's scale: a rough guide, not a standard. "
        f"Krippendorff suggests α ≥ 0.80 for conclusions that rely on the labels and 0.667 as the lowest for "
        f"tentative ones.{spread}"
    )

# ------------------------------------------------------------------------------ raters vs reference
st.subheader("Each rater against the expert answer")
raters = presenter.mask(sa.raters)
if raters.empty or raters["agreement_with_reference"].isna().all():
    st.info("This session has no reference (expert) answers, so raters cannot be compared with one.")
else:
    every_item_judged = bool(sa.disagreements["reference_label"].notna().all())
    matches = (raters["agreement_with_reference"] * raters["items"]).round()
    low, high = wilson_arrays(matches.to_numpy(), raters["items"].to_numpy())
    bars = raters.assign(matches=matches, low=low if every_item_judged else math.nan,
                         high=high if every_item_judged else math.nan)
    # One sort for every layer (a "-x" sort conflicts between the bar and the interval layers).
    y = alt.Y("rater_id:N", title=None,
              sort=alt.EncodingSortField("agreement_with_reference", op="max", order="descending"))
    rater_tooltip = [
        alt.Tooltip("rater_id:N", title="Rater"),
        alt.Tooltip("agreement_with_reference:Q", title="Agrees with the expert", format=".0%"),
        alt.Tooltip("matches:Q", title="Items matching"), alt.Tooltip("items:Q", title="Items rated"),
        alt.Tooltip("low:Q", title="95% low", format=".0%"), alt.Tooltip("high:Q", title="95% high", format=".0%"),
        alt.Tooltip("cohen_kappa_with_reference:Q", title="Cohen's κ with the expert", format=".2f"),
    ]
    bar = alt.Chart(bars).mark_bar(color=charts.PALETTE[0], opacity=0.8).encode(
        x=alt.X("agreement_with_reference:Q", title="Share of items matching the expert",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y=y, tooltip=rater_tooltip,
    )
    layers = [bar]
    if every_item_judged:
        layers.append(alt.Chart(bars).mark_errorbar(color="#000000").encode(
            x=alt.X("low:Q", title=""), x2="high:Q", y=y, tooltip=rater_tooltip))
    text = alt.Chart(bars).transform_calculate(count="datum.matches + ' of ' + datum.items").mark_text(
        align="left", dx=6, color="#ffffff", fontWeight="bold"
    ).encode(x=alt.datum(0), y=y, text="count:N")
    layers.append(text)
    charts.show(alt.layer(*layers).properties(height=90 + 32 * len(bars)), key="rater_agreement",
                name=f"raters_{session_id}")
    st.caption("Bars: share of the rater's items that match the expert answer, with the count"
               + (" and a 95% Wilson interval." if every_item_judged else
                  "; some items have no expert answer, so no interval is drawn."))

# ------------------------------------------------------------------------------------------ agenda
st.subheader("Items that split the room")
agenda = sa.disagreements
if agenda.empty:
    st.info("No rated items in this session.")
else:
    split = int((agenda["distinct_labels"] > 1).sum())
    st.caption(f"{split} of {len(agenda)} items got more than one label. Most disagreement first (entropy of the "
               "labels, in bits): the agenda for the next meeting.")
    shown = agenda.rename(columns={
        "item_id": "Item", "ratings": "Ratings", "distinct_labels": "Labels used", "majority_label": "Most given",
        "majority_share": "Share most given", "reference_label": "Expert answer", "entropy": "Entropy (bits)",
    })
    st.dataframe(shown, hide_index=True, width="stretch", key="agenda_table", column_config={
        "Share most given": st.column_config.NumberColumn(format="percent"),
        "Entropy (bits)": st.column_config.NumberColumn(format="%.2f"),
    })
    downloads.csv_button(shown, file_name=f"agenda_{session_id}.csv", key="agenda_csv",
                         label="Download the agenda (CSV)", what=f"calibration agenda {session_id}")

# -------------------------------------------------------------------------------------------- grid
st.subheader("Who said what")
grid = presenter.mask(sa.grid)
if grid.empty:
    st.info("No ratings to show.")
else:
    grid = grid.assign(differs=grid["matches_reference"].eq(False).fillna(False).astype(bool))
    g_base = alt.Chart(grid).encode(
        x=alt.X("item_id:N", title="Item", sort=sorted(grid["item_id"].unique()), axis=alt.Axis(labelAngle=-60)),
        y=alt.Y("rater_id:N", title=None),
    )
    g_tooltip = [alt.Tooltip("rater_id:N", title="Rater"), alt.Tooltip("item_id:N", title="Item"),
                 alt.Tooltip("label:N", title="Label"), alt.Tooltip("differs:N", title="Differs from the expert")]
    cells = g_base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("label:N", title="Label", scale=alt.Scale(range=charts.PALETTE)), tooltip=g_tooltip)
    crosses = g_base.transform_filter("datum.differs").mark_text(text="✕", fontSize=13, color="#000000").encode(
        tooltip=g_tooltip)
    # Autosize "fit" counts axis labels and the legend in the height: leave room for them.
    charts.show(alt.layer(cells, crosses).properties(height=230 + 30 * grid["rater_id"].nunique()),
                key="rating_grid", name=f"grid_{session_id}")
    st.caption("Colour: the label given. ✕: differs from the expert answer.")

# ------------------------------------------------------------------------------------ over time
st.subheader("Agreement over time, per policy")
with st.spinner("Measuring agreement per policy"):
    by_policy = measure(cal.agreement_by_policy, filters)
if presenter.is_on():
    by_policy = by_policy[by_policy["raters"] >= presenter.MIN_GROUP]
if by_policy.empty:
    st.info("No per-policy agreement to show under these filters.")
else:
    chosen_policy = str(sessions.loc[sessions["session_id"] == session_id, "policy"].iloc[0])
    trend = by_policy.assign(this_policy=by_policy["policy"] == chosen_policy)
    t_tooltip = [
        alt.Tooltip("policy:N", title="Policy"), alt.Tooltip("date:T", title="Session date"),
        alt.Tooltip("session_id:N", title="Session"), alt.Tooltip("alpha:Q", title="α", format=".2f"),
        alt.Tooltip("alpha_low:Q", title="95% low", format=".2f"),
        alt.Tooltip("alpha_high:Q", title="95% high", format=".2f"),
        alt.Tooltip("items:Q", title="Items"), alt.Tooltip("raters:Q", title="Raters"),
    ]
    highlight = alt.when("datum.this_policy").then(alt.value(charts.PALETTE[5])).otherwise(alt.value("#9e9e9e"))
    t_base = alt.Chart(trend).encode(x=alt.X("date:T", title="Session date", scale=alt.Scale(padding=16)))
    lines = t_base.mark_line(opacity=0.6).encode(y="alpha:Q", detail="policy:N", color=highlight)
    errors = t_base.mark_rule(strokeWidth=2).encode(y=alt.Y("alpha_low:Q", title="Krippendorff's α"),
                                                    y2="alpha_high:Q", color=highlight, tooltip=t_tooltip)
    points = t_base.mark_point(filled=True, size=70).encode(y="alpha:Q", color=highlight, tooltip=t_tooltip)
    guide = alt.Chart(pd.DataFrame({"alpha": [0.667, 0.8]})).mark_rule(strokeDash=[4, 3], color="#555555").encode(
        y="alpha:Q")
    charts.show(alt.layer(guide, lines, errors, points).properties(height=380), key="agreement_over_time",
                name="agreement_by_policy")
    st.caption(f"Each point is one session's α on one policy's items, with its 95% bootstrap interval; "
               f"{chosen_policy} (this session's policy) is highlighted. Dashed: 0.667 and 0.80.")
