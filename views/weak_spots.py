"""Weak spots: market x policy cells doing worse than the same policy elsewhere, and what goes wrong there."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from metrics import raw_decisions
from metrics import weak_spots as ws
from ui import charts, downloads, presenter
from ui.filters import current
from ui.state import measure

SOURCES = {"golden_set": "Accuracy (golden set)", "qa_audit": "Quality (QA audit)"}
FDR_LEVELS = [0.01, 0.05, 0.10, 0.20]

st.title("Weak spots")
st.caption(
    "Each market × policy cell against the same policy in the other markets. Colour is the gap after "
    "empirical-Bayes shrinkage, so a handful of reviews cannot paint a cell dark; a cell is flagged only when "
    "the difference survives the Benjamini-Hochberg false-discovery control."
)

c1, c2, c3 = st.columns([2, 1, 1])
source = c1.segmented_control("Measure", list(SOURCES), format_func=SOURCES.get, default="golden_set",
                              required=True, key="measure_source")
min_reviewed = int(c2.number_input("Minimum reviews per cell", min_value=1, max_value=10_000, value=30, step=5,
                                   key="min_reviewed"))
fdr = float(c3.selectbox("False-discovery rate", FDR_LEVELS, index=1, format_func=lambda x: f"{x:.0%}", key="fdr",
                         help="Benjamini-Hochberg level: of the flagged cells, at most this share are expected "
                              "to be false alarms."))
filters = current().with_(source=source or "golden_set")

with st.spinner("Comparing every market × policy cell"):
    spots = measure(ws.weak_spots, filters, min_reviewed=min_reviewed, fdr=fdr)

if spots.empty:
    st.info(f"No {SOURCES[filters.source or 'golden_set'].lower()} decisions match these filters, so there are "
            "no cells to compare. Widen the filters in the sidebar or pick the other measure.")
    st.stop()

few = f"n<{min_reviewed}"

# ----------------------------------------------------------------------------------------- heatmap
st.subheader("Market × policy")
cell_pick = alt.selection_point(name="cell", fields=["market", "policy"], on="click", clear="dblclick")
heat_data = spots[["market", "policy", "reviewed", "correct", "rate", "low", "high", "policy_level", "shrunk_rate",
                   "shrunk_low", "shrunk_high", "gap", "q_value", "enough_data", "flagged"]]
base = alt.Chart(heat_data).encode(
    x=alt.X("policy:N", title=None, axis=alt.Axis(labelAngle=-35, labelLimit=180, labelOverlap=False)),
    y=alt.Y("market:N", title=None),
)
tooltip = [
    alt.Tooltip("market:N", title="Market"), alt.Tooltip("policy:N", title="Policy"),
    alt.Tooltip("rate:Q", title="Raw rate", format=".1%"), alt.Tooltip("low:Q", title="95% low", format=".1%"),
    alt.Tooltip("high:Q", title="95% high", format=".1%"), alt.Tooltip("reviewed:Q", title="Reviews (n)"),
    alt.Tooltip("shrunk_rate:Q", title="Shrunk rate", format=".1%"),
    alt.Tooltip("policy_level:Q", title="Policy in other markets", format=".1%"),
    alt.Tooltip("gap:Q", title="Gap (shrunk)", format="+.1%"), alt.Tooltip("q_value:Q", title="q-value", format=".3f"),
]
rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
    color=alt.when("datum.enough_data").then(
        alt.Color("gap:Q", title="Gap (shrunk)", legend=alt.Legend(format="+.0%"),
                  scale=alt.Scale(scheme=charts.DIVERGING, domainMid=0, reverse=True))
    ).otherwise(alt.value("#d9d9d9")),
    opacity=alt.when(cell_pick).then(alt.value(1.0)).otherwise(alt.value(0.45)),
    tooltip=tooltip,
).add_params(cell_pick)
flag_border = base.transform_filter("datum.flagged").mark_rect(filled=False, stroke="#000000", strokeWidth=3)
marks = base.transform_calculate(
    mark=f"datum.flagged ? '●' : (datum.enough_data ? '' : '{few}')"
).mark_text(fontSize=14, fontWeight="bold", color="#000000").encode(text="mark:N", tooltip=tooltip)
# Autosize "fit" counts the slanted policy labels and the legend in the height: leave room for them.
heatmap = alt.layer(rect, flag_border, marks).properties(height=200 + 40 * heat_data["market"].nunique())
event = charts.show(heatmap, key="heatmap", name="weak_spots", on_select="rerun")
st.caption(f"● flagged (bold border) · grey “{few}”: fewer than {min_reviewed} reviews, not judged · orange: below "
           "the policy's level in the other markets, blue: above. Click a cell for its detail, double-click to clear.")


def _clicked(evt: object) -> tuple[str, str] | None:
    """The market and policy of the clicked cell, if any."""
    try:
        points = evt.selection["cell"]  # type: ignore[attr-defined]
    except (AttributeError, KeyError, TypeError):
        return None
    if not points:
        return None
    point = points[0]
    return (str(point["market"]), str(point["policy"])) if "market" in point and "policy" in point else None


# A click on the map moves the pickers below to that cell; the pickers also work on their own (keyboard,
# tests). Only a new click moves them, so a later pick in the boxes is not overridden by an old click.
markets = sorted(spots["market"].unique())
policies = sorted(spots["policy"].unique())
clicked = _clicked(event)
if clicked and clicked != st.session_state.get("heatmap_last_click"):
    st.session_state["heatmap_last_click"] = clicked
    if clicked[0] in markets and clicked[1] in policies:
        st.session_state["cell_market"], st.session_state["cell_policy"] = clicked
top = spots.iloc[0]
for key, options, default in (("cell_market", markets, top["market"]), ("cell_policy", policies, top["policy"])):
    if st.session_state.get(key) not in options:
        st.session_state[key] = default

# ---------------------------------------------------------------------------------------- drill-down
st.subheader("Cell detail")
p1, p2 = st.columns(2)
market = p1.selectbox("Market", markets, key="cell_market")
policy = p2.selectbox("Policy", policies, key="cell_policy")

row = spots[(spots["market"] == market) & (spots["policy"] == policy)]
with st.container(border=True):
    st.markdown(f"### {market} × {policy}")
    if row.empty:
        st.info(f"No {SOURCES[filters.source or 'golden_set'].lower()} decisions in {market} × {policy} under "
                "these filters.")
    else:
        with st.spinner("Reading the cell's decisions"):
            detail = measure(ws.cell_detail, filters, market, policy)
        r = row.iloc[0]
        st.code(ws.suggested_refresher(r, detail, fdr=fdr), language=None, wrap_lines=True)
        if not bool(r["enough_data"]):
            st.warning(f"Only {int(r['reviewed'])} reviews here (fewer than {min_reviewed}): too few to judge.")
        trend_col, why_col = st.columns([3, 2])
        with trend_col:
            st.markdown("**Week by week**")
            if detail.trend.empty:
                st.info("No weekly figures for this cell.")
            else:
                t_base = alt.Chart(detail.trend).encode(x=alt.X("week:T", title="Week"))
                t_band = t_base.mark_area(opacity=0.2, color=charts.PALETTE[0]).encode(
                    y=alt.Y("low:Q", title="Rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                    y2="high:Q",
                )
                t_line = t_base.mark_line(point=True, color=charts.PALETTE[0]).encode(
                    y="rate:Q",
                    tooltip=[alt.Tooltip("week:T", title="Week of"), alt.Tooltip("rate:Q", title="Rate", format=".1%"),
                             alt.Tooltip("low:Q", title="95% low", format=".1%"),
                             alt.Tooltip("high:Q", title="95% high", format=".1%"),
                             alt.Tooltip("reviewed:Q", title="Reviews (n)")],
                )
                layers = [t_band, t_line]
                if not math.isnan(r["policy_level"]):
                    level = pd.DataFrame({"level": [r["policy_level"]]})
                    layers.append(alt.Chart(level).mark_rule(strokeDash=[4, 3], color=charts.PALETTE[1]).encode(
                        y="level:Q", tooltip=[alt.Tooltip("level:Q", title="Policy in other markets", format=".1%")]))
                charts.show(alt.layer(*layers).properties(height=320), key="cell_trend",
                            name=f"trend_{market}_{policy}")
                st.caption("Weekly rate with its 95% band; dashed: the policy in the other markets.")
        with why_col:
            st.markdown("**Confusions (expected → given)**")
            if detail.confusions.empty:
                st.info("No wrong decisions with both labels recorded.")
            else:
                st.dataframe(
                    pd.DataFrame({"Expected → given": detail.confusions["expected_label"].astype(str) + " → "
                                  + detail.confusions["given_label"].astype(str),
                                  "Errors": detail.confusions["n"], "Share": detail.confusions["share"]}),
                    hide_index=True, width="stretch", key="cell_confusions",
                    column_config={"Share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
                )
            st.markdown("**Error types**")
            if detail.error_types.empty:
                st.info("No error types recorded for this cell's wrong decisions.")
            else:
                st.dataframe(
                    detail.error_types.rename(columns={"error_type": "Error type", "n": "Errors", "share": "Share"}),
                    hide_index=True, width="stretch", key="cell_error_types",
                    column_config={"Share": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
                )
        if not presenter.is_on():  # raw rows stay out of presenter mode
            with st.expander("Wrong decisions in this cell (raw rows, latest first)"):
                raw = measure(raw_decisions.wrong_decisions, filters, market, policy)
                for note in raw.notes:
                    st.text(note)  # names a path from the data: text, never Markdown
                if raw.rows.empty:
                    st.info("No raw wrong decisions to show for this cell under these filters.")
                else:
                    st.dataframe(raw.rows, hide_index=True, width="stretch", key="cell_raw_decisions")

# ------------------------------------------------------------------------------------- ranked list
st.subheader("Ranked cells")
judged = spots[spots["enough_data"]]
too_few = spots[~spots["enough_data"]]
lines = [ws.suggested_refresher(r, fdr=fdr) for _, r in judged.iterrows()]
st.caption(f"Flagged cells first, by avoidable errors (the errors saved if the cell reached its policy's level in "
           f"the other markets); then the rest by gap. Cells with fewer than {min_reviewed} reviews are listed "
           "separately, unranked.")


def _ci(low: pd.Series, high: pd.Series) -> list[str]:
    return [f"{lo:.0%}–{hi:.0%}" for lo, hi in zip(low, high, strict=True)]


def _status(frame: pd.DataFrame) -> list[str]:
    return ["Flagged" if f else ("Not enough data" if not e else "Not flagged")
            for f, e in zip(frame["flagged"], frame["enough_data"], strict=True)]


def _table(frame: pd.DataFrame, *, ranked: bool) -> pd.DataFrame:
    out = pd.DataFrame({
        "Market": frame["market"], "Policy": frame["policy"], "Status": _status(frame),
        "Reviews (n)": frame["reviewed"], "Rate": frame["rate"], "95% CI": _ci(frame["low"], frame["high"]),
        "Shrunk rate": frame["shrunk_rate"], "95% credible": _ci(frame["shrunk_low"], frame["shrunk_high"]),
        "Policy elsewhere": frame["policy_level"], "Gap (shrunk)": frame["gap"], "q-value": frame["q_value"],
        "Avoidable errors": frame["avoidable_errors"],
    })
    if ranked:
        out.insert(0, "Rank", range(1, len(out) + 1))
    return out


percent = st.column_config.NumberColumn(format="percent")
table_config = {"Rate": percent, "Shrunk rate": percent, "Policy elsewhere": percent,
                "Gap (shrunk)": st.column_config.NumberColumn(format="%+.3f"),
                "q-value": st.column_config.NumberColumn(format="%.3f"),
                "Avoidable errors": st.column_config.NumberColumn(format="%.1f")}
if judged.empty:
    st.info(f"No cell has {min_reviewed} reviews or more under these filters: nothing can be ranked yet.")
else:
    ranked = _table(judged, ranked=True).assign(**{"Suggested refresher": lines})
    st.dataframe(ranked, hide_index=True, width="stretch", key="ranked_cells", column_config=table_config)
    downloads.csv_button(ranked, file_name="weak_spots.csv", key="weak_spots_csv", what="weak spots")
    flagged_lines = [line for line, f in zip(lines, judged["flagged"], strict=True) if f]
    if flagged_lines:
        st.markdown(f"**For the RCA ticket** ({len(flagged_lines)} flagged)")
        for line in flagged_lines:
            st.code(line, language=None, wrap_lines=True)
    else:
        st.success(f"No cell is flagged at a {fdr:.0%} false-discovery rate under these filters.")
    with st.expander("Lines for the cells not flagged"):
        for line, f in zip(lines, judged["flagged"], strict=True):
            if not f:
                st.code(line, language=None, wrap_lines=True)

if not too_few.empty:
    st.markdown(f"**Not enough data** ({len(too_few)} cells with fewer than {min_reviewed} reviews, not ranked)")
    st.dataframe(_table(too_few.sort_values(["market", "policy"]), ranked=False), hide_index=True, width="stretch",
                 key="too_few_cells", column_config=table_config)
