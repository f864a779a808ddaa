"""Trainee explorer: one trainee's trend against cohort-mates, strengths and gaps by policy, trainings and
tests; and the coaching list, ranked on accuracy once luck is taken out."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pandas as pd
import streamlit as st

from access import privacy
from metrics import tables, words
from metrics.filters import Filters
from metrics.trainee import (
    coaching_list,
    policy_strengths,
    trainee_assessments,
    trainee_list,
    trainee_trainings,
    trainee_trend,
)
from metrics.training import EffectDesign, events, training_effect
from ui import charts, downloads, drill, filters, presenter, show
from ui.cache import measure

MEASURE = "Share correct"  # quality and accuracy pooled, as on the coaching list
COACHING_CHART_ROWS = 30
LEVELS = {"market": "their market", "market_cohort": "their market and hire class"}
BAND = ("cohort_p25", "cohort_median", "cohort_p75")


def pick_trainee(labels: dict[str, str]) -> str | None:
    return st.selectbox("Trainee", list(labels), index=None, format_func=labels.get, key="trainee", bind="query-params",
                        placeholder="Type a pseudonym" if presenter.is_on() else "Type a name or an id")


def pick_from_list(ids: Sequence[str], labels: dict[str, str]) -> None:
    """A row chosen in the coaching list becomes the trainee shown above it."""
    rows = st.session_state["coaching_table"]["selection"]["rows"]
    if rows and ids[rows[0]] in labels:
        st.session_state["trainee"] = ids[rows[0]]


def header(person: pd.Series, label: str, market_size: int) -> None:
    st.subheader(show.esc(label))
    if presenter.is_on():
        # Beside a pseudonym, a cohort, start date or status could narrow the person down to a few colleagues.
        market = person["market"] if not presenter.too_few(market_size) else "market hidden"
        st.caption(show.esc(f"{market} · other details are hidden while presenting"))
        return
    start = f"started {pd.Timestamp(person['start_date']):%d %b %Y}" if pd.notna(person["start_date"]) else "no start date"
    st.caption(show.esc(f"{person['market']} · cohort {person['cohort'] or '—'} · {start} · "
                        f"{person['status'] or 'status unknown'} · {int(person['reviewed']):,} reviews under the filters"))


def trend_section(trainee_id: str, f: Filters) -> None:
    st.markdown("#### Weekly trend against cohort-mates at the same tenure")
    trend = measure(trainee_trend, trainee_id, f)
    if trend.empty:
        st.info("No reviews for this trainee under the current filters.")
        return
    # A band drawn from fewer than MIN_GROUP mates would show individuals' rates while presenting.
    few = [presenter.too_few(n) for n in trend["cohort_trainees"]]
    trend = trend.assign(**{c: trend[c].mask(few) for c in BAND})
    start, end = charts.weeks_spanned(trend)
    marked = measure(events, f.with_(start=start, end=end), trainee_id=trainee_id)
    show.chart(charts.trainee_trend, trend, MEASURE, events=marked, key="trainee_trend",
               name="trainee_trend")
    drill.rows_button(f"Show the {int(trend['reviewed'].sum()):,} decisions behind this trend", f, key="trainee_rows",
                      trainee_id=trainee_id, what="This trainee's reviewed decisions under the filters")
    st.caption("Points: this trainee's weekly rate with its 95% Wilson interval. Shaded: the middle half "
               "(25th–75th percentile) of cohort-mates' rates in the same tenure week; dashed: their median. "
               "Coloured dashed lines: the sessions this trainee attended and the policy updates.")


def strengths_section(trainee_id: str, f: Filters) -> None:
    st.markdown("#### Strengths and gaps by policy")
    strengths = measure(policy_strengths, trainee_id, f)
    if strengths.empty:
        st.info("No reviews by policy for this trainee under the current filters.")
        return
    show.chart(charts.policy_strengths, strengths, MEASURE, key="trainee_strengths", name="policy_strengths")
    st.caption("Dots: the trainee's rate shrunk towards their market's (orange tick) by how much evidence "
               "there is, with a 95% interval. Weakest first.")
    show.table(tables.strengths_table(strengths), key="trainee_strengths_table")


def trainings_section(trainee_id: str, f: Filters) -> None:
    st.markdown("#### Trainings")
    by_source = {source: measure(trainee_trainings, trainee_id, source=source) for source in ("qa_audit", "golden_set")}
    if by_source["qa_audit"].empty:
        st.info("This trainee is on no training's attendance list.")
        return
    with st.spinner("Measuring each session's effect"):
        # The same call, through the same cache, as Training impact: the same headline on both pages.
        effects = {t: measure(training_effect, (t,), f, EffectDesign()) for t in by_source["qa_audit"]["training_id"]}
    table = privacy.blank_small(tables.trainee_trainings_table(by_source, effects), "attendees", ["session's effect"],
                                presenting=presenter.is_on())
    show.table(table, key="trainee_trainings_table",
               column_config={"session's effect": st.column_config.TextColumn(width="large")})
    st.caption("Before and after: this trainee's own rate on the session's policy in the 14 days either side, on "
               "the measure the session's effect reads. One person's change is mostly noise; the session's effect "
               "(all its attendees against colleagues, as on Training impact) is what to read.")


def tests_section(trainee_id: str) -> None:
    st.markdown("#### Tests")
    tests = measure(trainee_assessments, trainee_id)
    if tests.empty:
        st.info("No tests on record for this trainee.")
        return
    marked = tests[tests["passed"].notna()]
    latest = tests.iloc[0]
    st.markdown(f"{words.count(len(tests), 'attempt')} at {words.count(tests['assessment'].nunique(), 'test')}; "
                f"passed {int(marked['passed'].astype(bool).sum()):,} of {len(marked):,} with a pass mark. Latest: "
                f"{show.esc(latest['assessment'])} on {pd.Timestamp(latest['date']):%d %b %Y}, "
                f"{words.pct(latest['pct'] / 100, 0)}.")
    if presenter.is_on():
        st.caption("The attempt-by-attempt table is hidden while presenting.")
    else:
        show.table(tests.assign(date=pd.to_datetime(tests["date"]).dt.date), key="trainee_tests_table")


def profile(person: pd.Series, label: str, f: Filters, market_size: int) -> None:
    trainee_id = str(person["trainee_id"])
    header(person, label, market_size)
    with st.spinner("Loading the profile"):
        trend_section(trainee_id, f)
        strengths_section(trainee_id, f)
        trainings_section(trainee_id, f)
        tests_section(trainee_id)


def coaching_controls() -> tuple[int, bool, str]:
    left, right = st.columns([3, 2])
    min_reviews = left.slider("At least this many reviews", 10, 500, 50, step=10, key="min_reviews",
                              help="Fewer reviews than this: too uncertain to rank, left out.")
    only_needing = right.toggle("Only those who need coaching", value=True, key="coaching_only", bind="query-params")
    level = right.radio("Compare each trainee with", list(LEVELS), format_func=LEVELS.get, key="coaching_level", bind="query-params",
                        help="Against their market, new hires still learning show up; against their hire class, "
                             "only those behind their own classmates do.")
    return int(min_reviews), bool(only_needing), str(level)


def without_narrowing_attributes(table: pd.DataFrame, shown: pd.DataFrame, roster: pd.DataFrame) -> pd.DataFrame:
    """While presenting, a cohort shown beside a pseudonym must not narrow the person to fewer than 5 people
    on the roster: such cohorts are blanked."""
    if not presenter.is_on() or table.empty:
        return table
    sizes = roster.assign(size=privacy.group_sizes(roster, ["market", "cohort"]))
    size = dict(zip(zip(sizes["market"], sizes["cohort"], strict=True), sizes["size"], strict=True))
    small = [presenter.too_few(size.get((m, c), 0)) for m, c in zip(shown["market"], shown["cohort"], strict=True)]
    return table.assign(cohort=table["cohort"].mask(small, "hidden"))


def coaching_section(f: Filters, labels: dict[str, str], roster: pd.DataFrame) -> None:
    st.divider()
    st.subheader("Coaching list")
    min_reviews, only_needing, level = coaching_controls()
    with st.spinner("Ranking trainees"):
        coaching = measure(coaching_list, f, min_reviewed=min_reviews, level=level)
    # While presenting, a market with fewer than MIN_GROUP ranked people would point at them.
    if not coaching.empty:
        coaching = presenter.keep(coaching, privacy.group_sizes(coaching, ["market"])).frame
    shown = coaching[coaching["needs_coaching"]] if only_needing and not coaching.empty else coaching
    if coaching.empty:
        st.info(f"No trainee has at least {min_reviews} reviews under the current filters: lower the minimum or "
                "widen the filters.")
        return
    if shown.empty:
        st.info(f"Of the {len(coaching):,} trainees with at least {min_reviews} reviews, none is below their market "
                "once luck is taken out.")
        return
    st.markdown(f"**{int(coaching['needs_coaching'].sum()):,}** of {len(coaching):,} trainees with at least "
                f"{min_reviews} reviews need coaching: even the top of their 95% interval is below their market's rate.")
    who = presenter.people(shown["trainee_id"], "Trainee", shown["name"])
    show.table(without_narrowing_attributes(tables.coaching_table(shown, who), shown, roster), key="coaching_table",
               on_select=partial(pick_from_list, shown["trainee_id"].tolist(), labels), selection_mode="single-row",
               column_config={"shrunk rate": st.column_config.NumberColumn(format="percent")})
    st.caption("Ranked on the shrunk rate, lowest first. Choose a row to open that trainee above.")
    show.chart(charts.coaching_dots, tables.coaching_dots(shown, who, COACHING_CHART_ROWS), key="coaching_chart",
               name="coaching_list")
    # Masked while presenting (pseudonyms, no names), formulas neutralised, and logged when pressed.
    downloads.csv_button(without_narrowing_attributes(shown, shown, roster), file_name="coaching_list.csv",
                         key="coaching_csv", label="Download the list (CSV)", what="coaching list")


def main() -> None:
    st.title("Trainee explorer")
    st.caption("One trainee at a time, always against people like them: cohort-mates at the same tenure, and "
               "their own market on each policy. Rates from few reviews are shrunk towards the group, so one bad "
               "day flags no one.")
    f = filters.current()
    roster = measure(trainee_list, f)
    if roster.empty:
        st.info("No trainees match the filters in the sidebar (markets, cohorts, projects). Clear some filters, "
                "or import a roster on the Data page.")
        return
    labels = dict(zip(roster["trainee_id"].tolist(), presenter.people(roster["trainee_id"], "Trainee", roster["name"]),
                      strict=True))
    trainee = pick_trainee(labels)
    if trainee is None:
        st.info("Pick a trainee above, or a row in the coaching list below.")
    else:
        person = roster.loc[roster["trainee_id"] == trainee].iloc[0]
        profile(person, labels[trainee], f, int((roster["market"] == person["market"]).sum()))
    coaching_section(f, labels, roster)


main()
