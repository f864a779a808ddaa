"""Tests and certification: who passes at the first attempt, in how many attempts and how soon after starting;
how much scores rise from pre-test to post-test; and whether two groups' scores really differ."""

from __future__ import annotations

import streamlit as st

from metrics import assessments, tables, words
from metrics.filters import Filters
from ui import charts, downloads, filters, presenter, show
from ui.cache import measure

GROUPINGS = {"cohort": "Cohort (hire class)", "market": "Market"}
PLURALS = {"cohort": "cohorts", "market": "markets"}


def certification_section(f: Filters, by: str) -> None:
    st.subheader("Certification")
    rates = presenter.keep(measure(assessments.certification_pass_rates, f, by=by), "trainees")
    if rates.hidden:
        st.caption(rates.note(GROUPINGS[by].split(" (")[0].lower()))
    if rates.frame.empty:
        st.info("No certification attempts with a pass mark match these filters.")
        return
    names = sorted(rates.frame["assessment"].unique())
    assessment = st.selectbox("Certification", names, key="certification", bind="query-params") if len(names) > 1 else names[0]
    one = rates.frame[rates.frame["assessment"] == assessment]
    times = measure(assessments.time_to_certification, f, by=by)
    table = tables.certification_table(one, times[times["assessment"] == assessment], GROUPINGS[by])
    show.chart(charts.pass_rates, one, GROUPINGS[by], key="pass_rate_chart", name="first_attempt_pass_rates")
    show.table(table, key="certification_table")
    downloads.csv_button(table, file_name="certification.csv", key="certification_csv", what="certification rates")
    test = assessments.pass_rate_test(one, assessment)
    st.markdown(show.esc(tables.omnibus_words(test, "first-attempt pass rates", PLURALS[by])))
    st.caption("Pass: score / maximum score at or above the pass mark. Weeks to certify: Kaplan-Meier from each "
               "trainee's start date to their first pass, those not certified yet counted until their last attempt "
               "(the median is blank while fewer than half have passed).")


def gains_section(f: Filters) -> None:
    st.subheader("Pre-test to post-test")
    gains = measure(assessments.assessment_gains, f)
    if gains.n == 0:
        st.info("No trainee has both a pre-test and a later post-test under these filters (with or without a "
                "training: pre-tests without one are paired by policy).")
        return
    if presenter.too_few(gains.n):
        st.info(presenter.hidden_note("figure"))
        return
    left, mid, right = st.columns(3)
    left.metric("Score gain, pre-test to post-test", f"{gains.gain.estimate:+.1f} points", border=True,
                help="Mean of each trainee's post minus pre score, in points of the maximum score; paired t interval.")
    left.caption(f"95% CI {gains.gain.low:+.1f} to {gains.gain.high:+.1f} · {gains.paired.cite()} · "
                 f"n={gains.n:,} trainees · {gains.mean_pre:.0f}% → {gains.mean_post:.0f}%")
    mid.metric("Share of the possible gain, class average", words.signed(gains.hake_class), border=True,
               help="Hake's normalised gain <g> = (mean post - mean pre) / (100 - mean pre).")
    mid.caption("of the room left to 100% at the start")
    change = gains.normalised_change
    right.metric("Normalised change per trainee, averaged", words.signed(change.estimate), border=True,
                 help="Marx & Cummings (2007): a rise counts against the room left above the pre-test score, a fall "
                      "against the pre-test score itself, so it stays between -1 and 1 and people near 100% cannot "
                      "dominate it.")
    right.caption(words.coefficient_interval(change))
    st.caption(f"Wilcoxon signed-rank test beside the t-test: {gains.paired.wilcoxon.cite()}.")


def comparison_section(f: Filters, by: str) -> None:
    st.subheader("Compare two groups' scores")
    rates = measure(assessments.certification_pass_rates, f, by=by)
    groups = sorted(rates["group"].unique()) if not rates.empty else []
    kept = [g for g in groups if not presenter.too_few(int(rates.loc[rates["group"] == g, "trainees"].max()))]
    if len(kept) < 2:
        st.info(f"Fewer than two {PLURALS[by]} with certification scores to compare.")
        return
    a_col, b_col, c_col = st.columns(3)
    assessment = c_col.selectbox("On", sorted(rates["assessment"].unique()), key="compare_assessment", bind="query-params")
    first = a_col.selectbox(GROUPINGS[by], kept, index=0, key="compare_first", bind="query-params")
    second = b_col.selectbox("against", kept, index=1, key="compare_second", bind="query-params")
    if first == second:
        st.info("Pick two different groups to compare.")
        return
    cmp = measure(assessments.compare_scores, f, assessment, first, second, by=by)
    st.markdown(show.esc(tables.score_comparison_words(cmp)))


def main() -> None:
    st.title("Tests and certification")
    st.caption("Certification pass rates with their intervals, attempts and time to certify; pre-test to post-test "
               "gains that a near-perfect start cannot distort; and a test before any group is called better.")
    f = filters.current()
    by = st.radio("Group by", list(GROUPINGS), format_func=GROUPINGS.get, horizontal=True, key="assessment_groups",
                  bind="query-params")
    certification_section(f, by)
    gains_section(f)
    comparison_section(f, by)


main()
