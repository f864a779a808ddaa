"""Trainee explorer: one trainee's trend against cohort-mates, strengths and gaps by policy, trainings and
tests; and the coaching list, ranked on accuracy once luck is taken out."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import altair as alt
import pandas as pd
import streamlit as st

from metrics.trainee import (
    coaching_list,
    policy_strengths,
    trainee_assessments,
    trainee_list,
    trainee_trainings,
    trainee_trend,
)
from ui import charts, downloads, filters, presenter, report
from ui.state import measure

MEASURE = "Share correct"  # quality and accuracy pooled, as on the coaching list
COACHING_CHART_ROWS = 30

st.title("Trainee explorer")
st.caption("One trainee at a time, always against people like them: cohort-mates at the same tenure, and "
           "their own market on each policy. Rates from few reviews are shrunk towards the group, so one bad "
           "day flags no one.")

f = filters.current()
roster = measure(trainee_list, f)
if roster.empty:
    st.info("No trainees match the filters in the sidebar (markets, cohorts, projects). Clear some filters, "
            "or import a roster on the Data page.")
    st.stop()

presenting = presenter.is_on()
names = dict(zip(roster["trainee_id"], roster["name"], strict=True))
labels = {t: presenter.person(t, "Trainee", names.get(t)) for t in roster["trainee_id"]}


def pick_from_list(ids: Sequence[str]) -> None:
    """A row chosen in the coaching list becomes the trainee shown above it."""
    rows = st.session_state["coaching_table"]["selection"]["rows"]
    if rows and ids[rows[0]] in labels:
        st.session_state["trainee"] = ids[rows[0]]


# ------------------------------------------------------------------------------------------ picker
trainee = st.selectbox(
    "Trainee", list(labels), index=None, format_func=labels.get, key="trainee",
    placeholder="Type a pseudonym" if presenting else "Type a name or an id",
)


def trend_chart(trend: pd.DataFrame) -> alt.LayerChart:
    base = alt.Chart(trend).encode(x=alt.X("week:T", title="Week"))
    y = alt.Y("rate:Q", title=MEASURE, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False))
    band = base.mark_area(opacity=0.2, color=charts.PALETTE[4]).encode(y=alt.Y("cohort_p25:Q", title=MEASURE),
                                                                      y2="cohort_p75:Q")
    median = base.mark_line(color="#555", strokeDash=[6, 4]).encode(y="cohort_median:Q")
    bars = base.mark_rule(color=charts.ATTENDED, opacity=0.5).encode(y="low:Q", y2="high:Q")
    line = base.mark_line(color=charts.ATTENDED, opacity=0.6).encode(y=y)
    # Point size by reviews: a week of two reviews at 0% should not look like a week of fifty.
    points = base.mark_circle(color=charts.ATTENDED, opacity=0.9).encode(
        y="rate:Q", size=alt.Size("reviewed:Q", title="Reviews", scale=alt.Scale(range=[15, 250])),
        tooltip=[alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
                 alt.Tooltip("tenure_week:Q", title="Tenure week"),
                 alt.Tooltip("rate:Q", title=MEASURE, format=".1%"), alt.Tooltip("reviewed:Q", title="Reviews"),
                 alt.Tooltip("low:Q", title="95% low", format=".1%"), alt.Tooltip("high:Q", title="95% high", format=".1%"),
                 alt.Tooltip("cohort_median:Q", title="Cohort median", format=".1%"),
                 alt.Tooltip("cohort_trainees:Q", title="Cohort-mates that week")],
    )
    return alt.layer(band, median, bars, line, points).properties(height=300)


def strengths_chart(strengths: pd.DataFrame) -> alt.LayerChart:
    order = strengths["policy"].tolist()
    base = alt.Chart(strengths).encode(y=alt.Y("policy:N", sort=order, title=None))
    title = f"{MEASURE} (shrunk, 95% interval)"
    x = alt.X("shrunk_rate:Q", title=title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False))
    bars = base.mark_rule(strokeWidth=2, color=charts.PALETTE[0]).encode(x=alt.X("shrunk_low:Q", title=title),
                                                                        x2="shrunk_high:Q")
    market = base.mark_tick(color=charts.PALETTE[1], thickness=3, size=18).encode(x="market_rate:Q")
    point = base.mark_point(filled=True, size=90, color=charts.PALETTE[0]).encode(
        x=x,
        tooltip=[alt.Tooltip("policy:N", title="Policy"), alt.Tooltip("reviewed:Q", title="Reviews"),
                 alt.Tooltip("rate:Q", title="Observed", format=".1%"),
                 alt.Tooltip("shrunk_rate:Q", title="Shrunk", format=".1%"),
                 alt.Tooltip("shrunk_low:Q", title="95% low", format=".1%"),
                 alt.Tooltip("shrunk_high:Q", title="95% high", format=".1%"),
                 alt.Tooltip("market_rate:Q", title="Market", format=".1%"),
                 alt.Tooltip("gap:Q", title="Gap to market", format="+.1%")],
    )
    return alt.layer(bars, market, point).properties(height=max(160, 34 * len(strengths)))


def profile(trainee_id: str) -> None:
    person = roster.loc[roster["trainee_id"] == trainee_id].iloc[0]
    with st.spinner("Loading the profile"):
        trend = measure(trainee_trend, trainee_id, f)
        strengths = measure(policy_strengths, trainee_id, f)
        sessions = measure(trainee_trainings, trainee_id, source="qa_audit")
        tests = measure(trainee_assessments, trainee_id)
    st.subheader(labels[trainee_id])
    start = f"started {pd.Timestamp(person['start_date']):%d %b %Y}" if pd.notna(person["start_date"]) else "no start date"
    st.caption(f"{person['market']} · cohort {person['cohort'] or '—'} · {start} · {person['status'] or 'status unknown'} · "
               f"{int(person['reviewed']):,} reviews under the filters")

    st.markdown("#### Weekly trend against cohort-mates at the same tenure")
    if trend.empty:
        st.info("No reviews for this trainee under the current filters.")
    else:
        if presenting:
            # A band drawn from fewer than MIN_GROUP mates would show individuals' rates.
            few = trend["cohort_trainees"] < presenter.MIN_GROUP
            trend = trend.assign(**{c: trend[c].mask(few) for c in ("cohort_p25", "cohort_median", "cohort_p75")})
        charts.show(trend_chart(trend), key="trainee_trend", name="trainee_trend")
        st.caption("Points: this trainee's weekly rate with its 95% Wilson interval. Shaded: the middle half "
                   "(25th–75th percentile) of cohort-mates' rates in the same tenure week; dashed: their median.")

    st.markdown("#### Strengths and gaps by policy")
    if strengths.empty:
        st.info("No reviews by policy for this trainee under the current filters.")
    else:
        charts.show(strengths_chart(strengths), key="trainee_strengths", name="policy_strengths")
        st.caption("Dots: the trainee's rate shrunk towards their market's (orange tick) by how much evidence "
                   "there is, with a 95% interval. Weakest first.")
        table = pd.DataFrame({
            "policy": strengths["policy"],
            "observed": [report.rate_text(r, lo, hi, n) for r, lo, hi, n in zip(
                strengths["rate"], strengths["low"], strengths["high"], strengths["reviewed"], strict=True)],
            "shrunk": [f"{report.pct(r)} ({report.pct(lo)}–{report.pct(hi)})" for r, lo, hi in zip(
                strengths["shrunk_rate"], strengths["shrunk_low"], strengths["shrunk_high"], strict=True)],
            "market": [report.pct(x) for x in strengths["market_rate"]],
            "gap to market": [report.points(x) for x in strengths["gap"]],
        })  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch", key="trainee_strengths_table")

    st.markdown("#### Trainings")
    if sessions.empty:
        st.info("This trainee is on no training's attendance list.")
    else:
        table = pd.DataFrame({
            "date": pd.to_datetime(sessions["date"]).dt.date, "title": sessions["title"], "kind": sessions["kind"],
            "policy": sessions["policy"], "attended": sessions["attended"], "rating": sessions["rating"],
            "before": [report.rate_text(r, lo, hi, n) for r, lo, hi, n in zip(
                sessions["pre_rate"], sessions["pre_low"], sessions["pre_high"], sessions["pre_reviews"], strict=True)],
            "after": [report.rate_text(r, lo, hi, n) for r, lo, hi, n in zip(
                sessions["post_rate"], sessions["post_low"], sessions["post_high"], sessions["post_reviews"], strict=True)],
            "change": [report.points(x) for x in sessions["change"]],
        })  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch", key="trainee_trainings_table")
        st.caption("QA-audit quality on the session's policy in the 14 days before and after. One person's "
                   "change is mostly noise, not the session's effect: see Training impact for that.")

    st.markdown("#### Tests")
    if tests.empty:
        st.info("No tests on record for this trainee.")
        return
    marked = tests[tests["passed"].notna()]
    passed = int(marked["passed"].astype(bool).sum())
    latest = tests.iloc[0]
    st.markdown(f"{len(tests):,} attempts at {tests['assessment'].nunique():,} tests; passed {passed:,} of "
                f"{len(marked):,} with a pass mark. Latest: {latest['assessment']} on "
                f"{pd.Timestamp(latest['date']):%d %b %Y}, {latest['pct']:.0f}%.")
    if presenting:
        st.caption("The attempt-by-attempt table is hidden while presenting.")
    else:
        st.dataframe(tests.assign(date=pd.to_datetime(tests["date"]).dt.date), hide_index=True, width="stretch",
                     key="trainee_tests_table")


if trainee is None:
    st.info("Pick a trainee above, or a row in the coaching list below.")
else:
    profile(trainee)

# ---------------------------------------------------------------------------------------- coaching
st.divider()
st.subheader("Coaching list")
left, right = st.columns([3, 2])
min_reviews = left.slider("At least this many reviews", 10, 500, 50, step=10, key="min_reviews",
                          help="Fewer reviews than this: too uncertain to rank, left out.")
only_needing = right.toggle("Only those who need coaching", value=True, key="coaching_only")
LEVELS = {"market": "their market", "market_cohort": "their market and hire class"}
level = right.radio("Compare each trainee with", list(LEVELS), format_func=LEVELS.get, key="coaching_level",
                    help="Against their market, new hires still learning show up; against their hire class, "
                         "only those behind their own classmates do.")
with st.spinner("Ranking trainees"):
    coaching = measure(coaching_list, f, min_reviewed=int(min_reviews), level=level)
if presenting and not coaching.empty:
    # Markets with fewer than MIN_GROUP ranked people are left out: a market's figure would point at them.
    sizes = coaching.groupby("market")["trainee_id"].transform("size")
    coaching = coaching[sizes >= presenter.MIN_GROUP]
shown = coaching[coaching["needs_coaching"]] if only_needing and not coaching.empty else coaching
total = len(coaching)
if coaching.empty:
    st.info(f"No trainee has at least {min_reviews} reviews under the current filters: lower the minimum or "
            "widen the filters.")
elif shown.empty:
    st.info(f"None of the {total:,} trainees with at least {min_reviews} reviews is below their market once "
            "luck is taken out.")
else:
    st.markdown(f"**{int(coaching['needs_coaching'].sum()):,}** of {total:,} trainees with at least {min_reviews} "
                "reviews need coaching: even the top of their 95% interval is below their market's rate.")
    who = [labels.get(t) or presenter.person(t, "Trainee", n) for t, n in zip(shown["trainee_id"], shown["name"], strict=True)]
    table = pd.DataFrame({
        "trainee": who, "market": shown["market"], "cohort": shown["cohort"], "reviews": shown["reviewed"],
        "shrunk rate": shown["shrunk_rate"],
        "95% interval": [f"{report.pct(lo)}–{report.pct(hi)}" for lo, hi in zip(shown["shrunk_low"], shown["shrunk_high"], strict=True)],
        "observed": [report.pct(x) for x in shown["rate"]], "market rate": [report.pct(x) for x in shown["group_rate"]],
        "needs coaching": shown["needs_coaching"], "weakest policy": shown["weakest_policy"],
        "gap there": [report.points(x) for x in shown["weakest_policy_gap"]],
    })  # fmt: skip
    st.dataframe(
        table, hide_index=True, width="stretch", key="coaching_table", on_select=partial(pick_from_list,
                                                                                         shown["trainee_id"].tolist()),
        selection_mode="single-row",
        column_config={"shrunk rate": st.column_config.NumberColumn(format="percent")},
    )
    st.caption("Ranked on the shrunk rate, lowest first. Choose a row to open that trainee above.")
    top = shown.head(COACHING_CHART_ROWS)
    dots = pd.DataFrame({"trainee": who[:COACHING_CHART_ROWS], "market": top["market"], "rate": top["shrunk_rate"],
                         "low": top["shrunk_low"], "high": top["shrunk_high"], "reviews": top["reviewed"]})
    base = alt.Chart(dots).encode(y=alt.Y("trainee:N", sort=None, title=None))
    chart = alt.layer(
        base.mark_rule(color=charts.PALETTE[0]).encode(
            x=alt.X("low:Q", title="Shrunk rate, 95% interval", axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
            x2="high:Q"),
        base.mark_point(filled=True, size=70, color=charts.PALETTE[0]).encode(
            x="rate:Q",
            tooltip=[alt.Tooltip("trainee:N", title="Trainee"), alt.Tooltip("market:N", title="Market"),
                     alt.Tooltip("rate:Q", title="Shrunk rate", format=".1%"),
                     alt.Tooltip("reviews:Q", title="Reviews")]),
    ).properties(height=max(140, 22 * len(dots)))
    charts.show(chart, key="coaching_chart", name="coaching_list")
    # Masked while presenting (pseudonyms, no names), formulas neutralised, and logged when pressed.
    downloads.csv_button(shown, file_name="coaching_list.csv", key="coaching_csv",
                         label="Download the list (CSV)", what="coaching list")
