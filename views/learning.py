"""Learning curves: how accuracy grows with tenure per cohort, and how long cohorts take to be proficient."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from metrics import learning
from ui import charts, downloads, presenter
from ui.filters import current
from ui.state import measure

st.title("Learning curves")
st.caption(
    "Accuracy (golden-set and QA decisions pooled) by week of tenure, per cohort, with 95% Wilson bands; "
    "dashed lines are the fitted curves. Week 0 is a trainee's first seven days."
)

filters = current()
left, right = st.columns(2)
target = left.slider(
    "Proficiency target (rolling two-week accuracy)", min_value=0.50, max_value=0.99, value=0.90, step=0.01,
    key="target", format="%.2f",
)
min_reviews = int(right.number_input(
    "Minimum reviews in the two-week window", min_value=1, max_value=1000, value=20, step=5, key="min_reviews",
))


def _interval(value: float, low: float, high: float, unit: str = "") -> str:
    """'4 weeks (3–6)', or a dash when there is no estimate; an open upper bound reads 'not reached'."""
    if value is None or math.isnan(value):
        return "—"
    lo = "?" if math.isnan(low) else f"{low:g}"
    hi = "not reached" if math.isnan(high) else f"{high:g}"
    return f"{value:g}{unit} ({lo}–{hi})"


with st.spinner("Computing learning curves"):
    curves = measure(learning.learning_curves, filters)
    proficiency = measure(learning.time_to_proficiency, filters, target=target, min_reviews=min_reviews)

if curves.empty:
    st.info(
        "No decisions by trainees with a start date match these filters, so there is no learning curve to draw. "
        "Widen the filters in the sidebar, or import a roster with start dates on the Data page."
    )
    st.stop()

# Presenter mode: a cohort seen with fewer than MIN_GROUP trainees is about a handful of people.
hidden: list[str] = []
if presenter.is_on():
    size = curves.groupby("cohort")["trainees"].max()
    small = set(size[size < presenter.MIN_GROUP].index)
    small |= set(proficiency.loc[proficiency["trainees"] < presenter.MIN_GROUP, "cohort"])
    hidden = sorted(small)
    curves = curves[~curves["cohort"].isin(small) & (curves["trainees"] >= presenter.MIN_GROUP)]
    proficiency = proficiency[~proficiency["cohort"].isin(small)]
    if hidden:
        st.caption(f"Presenter mode: {len(hidden)} cohort(s) with fewer than {presenter.MIN_GROUP} trainees "
                   "are not shown.")
    if curves.empty:
        st.info(f"Every cohort under these filters has fewer than {presenter.MIN_GROUP} trainees, so nothing is "
                "shown while presenting.")
        st.stop()

# ------------------------------------------------------------------------------------------ curves
st.subheader("Accuracy by week of tenure")
fits = learning.fit_curves(curves)  # a few small least-squares fits: cheap, and pure
weeks = range(int(curves["week"].min()), int(curves["week"].max()) + 1)
lines = learning.fitted(fits, weeks)
lines = lines[lines["chosen"]]

cohort_colour = alt.Color("cohort:N", title="Cohort")
base = alt.Chart(curves).encode(x=alt.X("week:Q", title="Tenure week", axis=alt.Axis(tickMinStep=1)))
band = base.mark_area(opacity=0.15).encode(
    y=alt.Y("low:Q", title="Accuracy", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
    y2="high:Q", color=cohort_colour,
)
observed = base.mark_line(point=True).encode(
    y="rate:Q", color=cohort_colour,
    tooltip=[
        alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("week:Q", title="Tenure week"),
        alt.Tooltip("rate:Q", title="Accuracy", format=".1%"), alt.Tooltip("low:Q", title="95% low", format=".1%"),
        alt.Tooltip("high:Q", title="95% high", format=".1%"), alt.Tooltip("reviewed:Q", title="Reviews"),
        alt.Tooltip("trainees:Q", title="Trainees"),
    ],
)
fit_lines = alt.Chart(lines).mark_line(strokeDash=[6, 4], strokeWidth=2).encode(
    x="week:Q", y="fitted:Q", color=cohort_colour,
    tooltip=[alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("model:N", title="Fitted model"),
             alt.Tooltip("week:Q", title="Tenure week"), alt.Tooltip("fitted:Q", title="Fitted", format=".1%")],
)
target_rule = alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(color="#555", strokeDash=[2, 2]).encode(
    y="target:Q", tooltip=[alt.Tooltip("target:Q", title="Proficiency target", format=".0%")]
)
charts.show(alt.layer(band, observed, fit_lines, target_rule).properties(height=480), key="learning_curves",
            name="learning_curves")

fit_table = pd.DataFrame({
    "Cohort": fits["cohort"],
    "Weeks fitted": fits["points"],
    "Chosen model": fits["chosen"].fillna("too few weeks to fit"),
    "Plateau (exp.)": fits["exp_a"], "Week-0 level (exp.)": fits["exp_b"], "Time constant, weeks (exp.)": fits["exp_tau"],
    "Plateau (power)": fits["pow_a"], "Rate k (power)": fits["pow_k"],
    "AIC exponential": fits["exp_aic"], "AIC power": fits["pow_aic"],
})
st.dataframe(
    fit_table, hide_index=True, width="stretch", key="fit_table",
    column_config={
        "Plateau (exp.)": st.column_config.NumberColumn(format="percent"),
        "Week-0 level (exp.)": st.column_config.NumberColumn(format="percent"),
        "Plateau (power)": st.column_config.NumberColumn(format="percent"),
        "Time constant, weeks (exp.)": st.column_config.NumberColumn(format="%.1f"),
        "Rate k (power)": st.column_config.NumberColumn(format="%.2f"),
        "AIC exponential": st.column_config.NumberColumn(format="%.1f"),
        "AIC power": st.column_config.NumberColumn(format="%.1f"),
    },
)
st.caption(
    "Exponential rise: accuracy = plateau − (plateau − week-0 level)·e^(−week / time constant); the time "
    "constant is the weeks it takes to close 63% of the gap. Power law: plateau − c·(week + 1)^−k. The chosen "
    "model has the lower AIC (weighted by reviews per week); a difference under 2 is no real preference."
)

# ------------------------------------------------------------------------------------ proficiency
st.subheader("Time to proficiency")
st.caption(
    f"Proficient = the first tenure week whose rolling two-week accuracy reaches {target:.0%} on at least "
    f"{min_reviews} reviews. Only trainees who started after the data begins are counted (earlier weeks unseen)."
)
if proficiency.empty:
    st.info("No trainee under these filters started while the data was being collected, so time to proficiency "
            "cannot be measured.")
    st.stop()

prof_table = pd.DataFrame({
    "Cohort": proficiency["cohort"],
    "Trainees": proficiency["trainees"],
    "Reached": proficiency["reached"],
    "Median weeks, those who reached it (95% CI)": [
        _interval(m, lo, hi) for m, lo, hi in
        zip(proficiency["median_weeks"], proficiency["median_low"], proficiency["median_high"], strict=True)
    ],
    "Kaplan-Meier median weeks (95% CI)": [
        _interval(m, lo, hi) if not math.isnan(m) else "fewer than half there yet" for m, lo, hi in
        zip(proficiency["km_median"], proficiency["km_low"], proficiency["km_high"], strict=True)
    ],
})
st.dataframe(prof_table, hide_index=True, width="stretch", key="proficiency_table")
downloads.csv_button(prof_table, file_name="time_to_proficiency.csv", key="proficiency_csv",
                     what="time to proficiency")
st.caption(
    "The median among those who reached it is biased low while many are still on the way; the Kaplan-Meier "
    "median also counts trainees not there yet (censored at the last week they were seen)."
)

with st.spinner("Estimating proficiency curves"):
    km = measure(learning.proficiency_curve, filters, target=target, min_reviews=min_reviews)
km = km[km["cohort"].isin(proficiency["cohort"])]
km_base = alt.Chart(km).encode(x=alt.X("week:Q", title="Tenure week", axis=alt.Axis(tickMinStep=1)))
km_band = km_base.mark_area(opacity=0.15, interpolate="step-after").encode(
    y=alt.Y("low:Q", title="Share proficient", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
    y2="high:Q", color=cohort_colour,
)
km_line = km_base.mark_line(interpolate="step-after").encode(
    y="share_reached:Q", color=cohort_colour,
    tooltip=[
        alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("week:Q", title="Tenure week"),
        alt.Tooltip("share_reached:Q", title="Share proficient", format=".0%"),
        alt.Tooltip("low:Q", title="95% low", format=".0%"), alt.Tooltip("high:Q", title="95% high", format=".0%"),
        alt.Tooltip("at_risk:Q", title="Still on the way"),
    ],
)
charts.show(alt.layer(km_band, km_line).properties(height=420), key="proficiency_curve", name="proficiency_curve")

# ------------------------------------------------------------------------------------ comparison
st.subheader("Compare two cohorts")
cohorts = proficiency["cohort"].tolist()
if len(cohorts) < 2:
    st.info("Only one cohort is measured under these filters: there is nothing to compare it with.")
    st.stop()
a_col, b_col = st.columns(2)
cohort_a = a_col.selectbox("Cohort", cohorts, index=0, key="compare_a")
cohort_b = b_col.selectbox("against cohort", cohorts, index=1, key="compare_b")
if cohort_a == cohort_b:
    st.info("Pick two different cohorts to compare.")
    st.stop()
cmp = measure(learning.compare_cohorts, cohort_a, cohort_b, filters, target=target, min_reviews=min_reviews)


def _median_words(median: float) -> str:
    return "fewer than half reached it yet" if math.isnan(median) else f"a Kaplan-Meier median of {median:g} weeks"


def _sooner(c: learning.CohortComparison) -> str:
    """The cohort that got there first: the lower KM median (a median not reached counts as later)."""
    a = c.km_median_a if not math.isnan(c.km_median_a) else math.inf
    b = c.km_median_b if not math.isnan(c.km_median_b) else math.inf
    if a != b:
        return c.cohort_a if a < b else c.cohort_b
    return c.cohort_a if c.reached_a / c.trainees_a >= c.reached_b / c.trainees_b else c.cohort_b


if not cmp.enough_data:
    st.info(f"Not enough trainees reached proficiency in {cohort_a} and {cohort_b} to compare them.")
else:
    sides = (
        f"**{cohort_a}**: {cmp.reached_a} of {cmp.trainees_a} trainees reached proficiency, "
        f"{_median_words(cmp.km_median_a)}. **{cohort_b}**: {cmp.reached_b} of {cmp.trainees_b}, "
        f"{_median_words(cmp.km_median_b)}."
    )
    if cmp.p_value < 0.05:
        faster = _sooner(cmp)
        verdict = (f"The difference is unlikely to be chance (log-rank test, p = {cmp.p_value:.3g}): "
                   f"{faster} reached proficiency sooner.")
    else:
        verdict = (f"The data does not show a clear difference (log-rank test, p = {cmp.p_value:.2g}); "
                   "they may learn at the same pace, or the cohorts are too small to tell.")
    st.markdown(f"{sides} {verdict}")
