"""Learning curves: how accuracy grows with tenure per cohort, and how long cohorts take to be proficient."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from metrics import learning, tables
from metrics.filters import Filters
from ui import charts, downloads, filters, presenter, show
from ui.cache import derived, measure


def controls() -> learning.Proficiency:
    left, right = st.columns(2)
    target = left.slider("Proficiency target (rolling two-week accuracy)", min_value=0.50, max_value=0.99,
                         value=0.90, step=0.01, key="target", format="%.2f",
                         bind="query-params")
    min_reviews = int(right.number_input("Minimum reviews in the two-week window", min_value=1, max_value=1000,
                                         value=20, step=5, key="min_reviews"))
    return learning.Proficiency(target=float(target), min_reviews=min_reviews)


def without_small_cohorts(curves: pd.DataFrame, proficiency: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """While presenting, cohorts seen with fewer than MIN_GROUP trainees are about a handful of people."""
    if not presenter.is_on():
        return curves, proficiency
    size = curves.groupby("cohort")["trainees"].max()
    small = {c for c, n in size.items() if presenter.too_few(n)}
    small |= {c for c, n in zip(proficiency["cohort"], proficiency["trainees"], strict=True) if presenter.too_few(n)}
    if small:
        st.caption(f"Presenter mode: {len(small)} cohort(s) with fewer than {presenter.MIN_GROUP} trainees are not "
                   "shown.")
    curves = curves[~curves["cohort"].isin(small)]
    curves = presenter.keep(curves, "trainees").frame  # and single weeks seen with a handful of them
    return curves, proficiency[~proficiency["cohort"].isin(small)]


def curves_section(curves: pd.DataFrame, target: float) -> str:
    st.subheader("Accuracy by week of tenure")
    fits = derived(learning.fit_curves, curves)
    lines = learning.fitted(fits, range(int(curves["week"].min()), int(curves["week"].max()) + 1), curves)
    cohorts = sorted(curves["cohort"].unique())
    # Open on the newest cohort whose curve has levelled off enough to read a plateau.
    settled = [f.cohort for f in fits if f.chosen is not None and f.chosen.model != "power_origin"] or cohorts
    highlight = st.selectbox("Cohort to pick out (the others are drawn in grey)", cohorts,
                             index=cohorts.index(settled[-1]), key="highlight_cohort", bind="query-params")
    point = tables.curve_point(fits, highlight, target)
    show.chart(charts.learning_curves, curves, lines, target, highlight=highlight, title=point,
               key="learning_curves", name="learning_curves")
    show.table(tables.fit_table(fits), key="fit_table")
    st.caption(
        "Exponential rise: accuracy = plateau − (plateau − week-0 level)·e^(−week / time constant); the time "
        "constant is the weeks it takes to close 63% of the gap. Power law: plateau − c·(week + 1)^−k. Their "
        "two-parameter forms start from zero. The chosen shape has the lowest AIC (weighted by reviews per week, "
        "each shape penalised for its parameters); a difference under 2 is no real preference. Intervals come "
        "from each fit's covariance; a parameter on the edge of its range has none."
    )
    return str(highlight)


def proficiency_section(proficiency: pd.DataFrame, f: Filters, rule: learning.Proficiency,
                        highlight: str) -> None:
    st.subheader("Time to proficiency")
    st.caption(
        f"Proficient = the first tenure week whose rolling two-week accuracy reaches {rule.target:.0%} on at least "
        f"{rule.min_reviews} reviews. Only trainees who started after the data begins are counted (earlier weeks unseen)."
    )
    table = tables.proficiency_table(proficiency)
    show.table(table, key="proficiency_table")
    downloads.csv_button(table, file_name="time_to_proficiency.csv", key="proficiency_csv",
                         what="time to proficiency")
    st.caption(
        "The median among those who reached it is biased low while many are still on the way; the Kaplan-Meier "
        "median also counts trainees not there yet (censored at the last week they were seen)."
    )
    with st.spinner("Estimating proficiency curves"):
        km = measure(learning.proficiency_curve, f, rule=rule)
    show.chart(charts.proficiency_curve, km[km["cohort"].isin(proficiency["cohort"])], highlight=highlight,
               key="proficiency_curve", name="proficiency_curve")


def _median_words(median: float) -> str:
    return "fewer than half reached it yet" if math.isnan(median) else f"a Kaplan-Meier median of {median:g} weeks"


def _sooner(c: learning.CohortComparison) -> str:
    """The cohort that got there first: the lower KM median (a median not reached counts as later)."""
    a = c.km_median_a if not math.isnan(c.km_median_a) else math.inf
    b = c.km_median_b if not math.isnan(c.km_median_b) else math.inf
    if a != b:
        return c.cohort_a if a < b else c.cohort_b
    return c.cohort_a if c.reached_a / c.trainees_a >= c.reached_b / c.trainees_b else c.cohort_b


def comparison_section(cohorts: list[str], f: Filters, rule: learning.Proficiency) -> None:
    st.subheader("Compare two cohorts")
    if len(cohorts) < 2:
        st.info("Only one cohort is measured under these filters: there is nothing to compare it with.")
        return
    every = measure(learning.compare_all_cohorts, f, rule=rule)
    st.markdown(tables.all_cohorts_words(every))
    a_col, b_col = st.columns(2)
    cohort_a = a_col.selectbox("Cohort", cohorts, index=0, key="compare_a", bind="query-params")
    cohort_b = b_col.selectbox("against cohort", cohorts, index=1, key="compare_b", bind="query-params")
    if cohort_a == cohort_b:
        st.info("Pick two different cohorts to compare.")
        return
    cmp = measure(learning.compare_cohorts, cohort_a, cohort_b, f, rule=rule)
    a, b = show.esc(cohort_a), show.esc(cohort_b)
    if not cmp.enough_data:
        st.info(f"Not enough trainees reached proficiency in {a} and {b} to compare them.")
        return
    sides = (f"**{a}**: {cmp.reached_a} of {cmp.trainees_a} trainees reached proficiency, "
             f"{_median_words(cmp.km_median_a)}. **{b}**: {cmp.reached_b} of {cmp.trainees_b}, "
             f"{_median_words(cmp.km_median_b)}.")
    if cmp.p_value < 0.05:
        verdict = (f"The difference is unlikely to be chance (log-rank test, p = {cmp.p_value:.3g}): "
                   f"{show.esc(_sooner(cmp))} reached proficiency sooner.")
    else:
        verdict = (f"The data does not show a clear difference (log-rank test, p = {cmp.p_value:.2g}); "
                   "they may learn at the same pace, or the cohorts are too small to tell.")
    st.markdown(f"{sides} {verdict}")


def main() -> None:
    st.title("Learning curves")
    st.caption("Accuracy (golden-set and QA decisions pooled) by week of tenure, per cohort, with 95% Wilson bands; "
               "dashed lines are the fitted curves. Week 0 is a trainee's first seven days.")
    f = filters.current()
    rule = controls()
    with st.spinner("Computing learning curves"):
        curves = measure(learning.learning_curves, f)
        proficiency = measure(learning.time_to_proficiency, f, rule=rule)
    if curves.empty:
        st.info("No decisions by trainees with a start date match these filters, so there is no learning curve to "
                "draw. Widen the filters in the sidebar, or import a roster with start dates on the Data page.")
        return
    curves, proficiency = without_small_cohorts(curves, proficiency)
    if curves.empty:
        st.info(f"Every cohort under these filters has fewer than {presenter.MIN_GROUP} trainees, so nothing is "
                "shown while presenting.")
        return
    highlight = curves_section(curves, rule.target)
    if proficiency.empty:
        st.subheader("Time to proficiency")
        st.info("No trainee under these filters started while the data was being collected, so time to proficiency "
                "cannot be measured.")
        return
    proficiency_section(proficiency, f, rule, highlight)
    comparison_section(proficiency["cohort"].tolist(), f, rule)


main()
