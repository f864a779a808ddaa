"""Training impact: did a session (or all sessions of a kind or on a policy) change how attendees work,
beyond what changed for colleagues who did not attend? With the caveats in a trainer's words."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from metrics import tables, words
from metrics.assessments import AssessmentGains, assessment_gains
from metrics.filters import Filters
from metrics.trainee import trainee_list
from metrics.training import EffectDesign, TrainingEffect, timeline, training_effect, trainings
from ui import charts, filters, presenter, show
from ui.cache import measure

MODES = {"sessions": "Chosen sessions", "kind": "All of a kind", "policy": "All on a policy"}
SCOPES = {"training": "The session's policy", "all": "All policies"}
SOURCES = {"qa_audit": "Quality (QA audits)", "golden_set": "Accuracy (golden set)"}


def session_labels(sessions: pd.DataFrame) -> dict[str, str]:
    # Built once: the multiselect formats every option on every rerun, and a row lookup per option was
    # quadratic (3,700 sessions at 10M decisions: 3.8 s a rerun).
    return {
        str(training_id): f"{pd.Timestamp(date):%Y-%m-%d} · {title} · {market if isinstance(market, str) else 'all markets'}"
        for training_id, date, title, market in zip(sessions["training_id"], sessions["date"], sessions["title"],
                                                    sessions["market"], strict=True)
    }


def latest_finished(sessions: pd.DataFrame) -> list[str]:
    """The latest session (not onboarding) whose two weeks after have passed: a result at once."""
    dates = pd.to_datetime(sessions["date"])
    done = sessions[(sessions["kind"] != "onboarding") & (dates <= dates.max() - pd.Timedelta(days=14))]
    return [str(i) for i in done.sort_values("date")["training_id"].tail(1)]


def choose_sessions(sessions: pd.DataFrame) -> list[str]:
    labels = session_labels(sessions)
    mode = st.radio("Which sessions", list(MODES), format_func=MODES.get, horizontal=True, key="pick_mode")
    if mode == "sessions":
        return st.multiselect("Sessions", list(labels), format_func=labels.__getitem__,
                              default=latest_finished(sessions), key="trainings",
                              placeholder="Pick one or more sessions (date · title · market)")
    if mode == "kind":
        kind = st.selectbox("Kind", sorted(sessions["kind"].dropna().unique()), key="pick_kind")
        chosen = [str(i) for i in sessions.loc[sessions["kind"] == kind, "training_id"]]
        st.caption(f"All {words.count(len(chosen), f'{kind} session')} in the sidebar's date range, markets and "
                   "policies.")
        return chosen
    policy = st.selectbox("Policy", sorted(sessions["policy"].dropna().unique()), key="pick_policy")
    chosen = [str(i) for i in sessions.loc[sessions["policy"] == policy, "training_id"]]
    st.caption(f"All {words.count(len(chosen), 'session')} on {show.esc(policy)} in the sidebar's date range and "
               "markets.")
    return chosen


def choose_design() -> tuple[EffectDesign, str]:
    """The windows and measure, and the measure's name in words."""
    with st.expander("Windows and measure", expanded=False):
        a, b, c, d = st.columns(4)
        window_days = a.slider("Window (days before and after)", 7, 56, 14, step=7, key="window_days")
        lag_days = b.number_input("Lag after the session (days)", 0, 28, 0, key="lag_days",
                                  help="Days left out after the session before the after-window starts.")
        scope = c.radio("Decisions on", list(SCOPES), format_func=SCOPES.get, key="policy_scope")
        source = d.radio("Measure", list(SOURCES), format_func=SOURCES.get, key="effect_source",
                         help="QA audits are where most sessions' decisions are reviewed.")
    design = EffectDesign(window_days=int(window_days), lag_days=int(lag_days), policy_scope=scope, source=source)
    return design, SOURCES[source].split(" (")[0].lower()


def effect_section(e: TrainingEffect, measure_name: str) -> None:
    st.subheader("Effect on work")
    people = (f"{e.attendees.trainees:,} attendees and {e.comparison.trainees:,} comparison trainees with at "
              f"least {e.design.min_reviews} reviews in both windows ({e.attendees_listed:,} attended).")
    if not e.enough_data:
        st.info(f"Not enough data to measure an effect yet. {people}")
        for warning in e.warnings:
            st.warning(warning)
        return
    verdict = ("the interval excludes zero: a real change" if e.headline.excludes_zero
               else "the interval includes zero: no clear effect")
    which = "adjusted for each trainee's starting score" if e.preferred == "ancova" else "against non-attendees"
    st.markdown(f"Attending changed {measure_name} by **{words.interval_points(e.headline)}** {which}; {verdict}.")
    left, mid, right = st.columns(3)
    left.metric("Effect against people who did not attend", words.points(e.did.estimate), border=True,
                help="Difference-in-differences: attendees' change minus the comparison group's change, "
                     "95% interval from a bootstrap over trainees.")
    left.caption(words.ci_points(e.did.low, e.did.high))
    mid.metric("Adjusted for starting score (ANCOVA)", words.points(e.ancova.estimate), border=True,
               help="Each trainee's after-rate on their before-rate and attendance, one row per trainee.")
    mid.caption(f"{words.ci_points(e.ancova.low, e.ancova.high)} · {words.p_text(e.ancova_p)}")
    right.metric("Naive before/after (not a causal effect)", words.points(e.naive.estimate), border=True,
                 help="Attendees' after minus before alone: it also holds whatever changed for everyone.")
    right.caption(words.ci_points(e.naive.low, e.naive.high))
    a, c = e.attendees, e.comparison
    st.caption(people + f" Reviews: attendees {a.reviews_before:,} before and {a.reviews_after:,} after; comparison "
               f"{c.reviews_before:,} and {c.reviews_after:,}. Attendees {words.pct(a.before)} → {words.pct(a.after)}; "
               f"comparison {words.pct(c.before)} → {words.pct(c.after)}.")
    for warning in e.warnings:
        st.warning(warning)


def open_window_warning(picked: pd.DataFrame, design: EffectDesign) -> None:
    latest = filters.options().last_date
    ends = [pd.Timestamp(d).date() + dt.timedelta(days=design.lag_days + design.window_days) for d in picked["date"]]
    if latest and ends and max(ends) > latest:
        st.warning(f"The after-window of a chosen session runs past the latest data ({latest:%d %b %Y}): the "
                   "figures will move as more reviews arrive.")


def timeline_section(e: TrainingEffect, f: Filters, measure_name: str) -> None:
    st.subheader("Attendees and comparison group over time")
    design = e.design
    step = 1 if design.window_days <= 28 else 7
    over_time = measure(timeline, e.training_ids, f, design, source=e.source, freq="day" if step == 1 else "week")
    if over_time.empty:
        st.info("No reviews of these trainees inside the windows, so there is nothing to draw.")
    elif presenter.too_few(e.attendees.trainees):
        st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} attendees with reviews in both windows.")
    else:
        figure = charts.training_timeline(over_time, design.window_days, design.lag_days, step,
                                          measure_name.capitalize())
        show.chart(figure, key="training_timeline", name="training_timeline")
        st.caption("Shaded: the before and after windows; dashed: the session. Bands are 95% Wilson intervals "
                   f"of each {'day' if step == 1 else 'week'}'s pooled rate.")


def attendees_section(e: TrainingEffect, measure_name: str) -> None:
    st.subheader("Each attendee, before and after")
    attendees = e.per_trainee[e.per_trainee["group"] == "attended"]
    if attendees.empty:
        st.info("No attendee has enough reviews in both windows.")
        return
    if presenter.too_few(len(attendees)):
        st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} attendees.")
        return
    roster = measure(trainee_list)
    names = dict(zip(roster["trainee_id"], roster["name"], strict=True))
    # Named from the label alone, so that no id or (while presenting) name reaches the chart's data.
    who = [presenter.person(t, "Trainee", names.get(t)) for t in attendees["trainee_id"]]
    show.chart(charts.attendee_slopes(tables.attendee_slopes(e.per_trainee, who), measure_name.capitalize()),
               key="training_slopes", name="attendee_slopes")
    st.caption(f"One line per attendee with at least {e.design.min_reviews} reviews in both windows. One "
               "person's change is mostly noise; the effect above is what to read.")


def gains_section(gains: AssessmentGains) -> None:
    st.subheader("Test scores")
    if gains.n == 0:
        st.info("No matched pre-test and post-test for these sessions.")
        return
    if presenter.too_few(gains.n):
        st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} trainees took both tests.")
        return
    left, right = st.columns(2)
    left.metric("Score gain, pre-test to post-test", f"{gains.gain.estimate:+.1f} points", border=True,
                help="Mean of each trainee's post minus pre score, in points of the maximum score; paired t interval.")
    left.caption(f"95% CI {gains.gain.low:+.1f} to {gains.gain.high:+.1f}, n={gains.n:,} trainees · "
                 f"{gains.mean_pre:.0f}% → {gains.mean_post:.0f}%")
    right.metric("Normalised gain (Hake's g)", f"{gains.hake_class:.2f}", border=True,
                 help="Share of the possible improvement achieved: (post - pre) / (100 - pre) on class averages.")
    change = gains.normalised_change
    right.caption(f"Normalised change (Marx & Cummings), averaged over trainees: {words.signed(change.estimate)} "
                  f"({words.coefficient_interval(change)})")
    if not gains.pass_rates.empty:
        show.table(tables.pass_rates_table(gains.pass_rates), key="training_pass_rates", width="content")


def reaction_section(picked: pd.DataFrame, e: TrainingEffect) -> None:
    st.subheader("Reaction and behaviour")
    ratings = int(picked["ratings"].sum())
    rated = picked[picked["ratings"] > 0]
    mean = float((rated["mean_rating"] * rated["ratings"]).sum() / ratings) if ratings else float("nan")
    left, right = st.columns(2)
    if presenter.too_few(ratings):
        left.metric("Reaction: how attendees rated it", "hidden", border=True)
        left.caption(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} ratings.")
    else:
        left.metric("Reaction: how attendees rated it", f"{mean:.1f} / 5" if ratings else "no ratings", border=True)
        left.caption(f"n={ratings:,} ratings from {int(picked['attendees'].sum()):,} attendees.")
    right.metric("Behaviour: how their work changed", words.points(e.headline.estimate) if e.enough_data else
                 "not enough data", border=True)
    right.caption("Against non-attendees. A well-liked session does not always change the work, and the "
                  "other way round.")


def main() -> None:
    st.title("Training impact")
    st.caption("Attendees' work before and after a session, against colleagues in the same markets who did not "
               "attend, so that what changed for everyone and regression to the mean are not credited to training.")
    f = filters.current()
    sessions = measure(trainings, f)
    if sessions.empty:
        st.info("No training sessions match the filters in the sidebar. Widen the date range or clear some "
                "filters (sessions are chosen by their own date, market and policy).")
        return
    chosen = choose_sessions(sessions)
    design, measure_name = choose_design()
    if not chosen:
        st.info("Pick one or more sessions above to see their effect.")
        return
    ids = tuple(chosen)
    with st.spinner("Measuring the effect (bootstrap over trainees)"):
        effect: TrainingEffect = measure(training_effect, ids, f, design)
        gains = measure(assessment_gains, f, ids)
    picked = sessions[sessions["training_id"].isin(ids)]
    effect_section(effect, measure_name)
    open_window_warning(picked, design)
    timeline_section(effect, f, measure_name)
    attendees_section(effect, measure_name)
    gains_section(gains)
    reaction_section(picked, effect)


main()
