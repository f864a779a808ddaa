"""Training impact: did a session (or all sessions of a kind or on a policy) change how attendees work,
beyond what changed for colleagues who did not attend? With the caveats in a trainer's words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import tables, words
from metrics.assessments import AssessmentGains, assessment_gains
from metrics.filters import Filters
from metrics.selection import AUDIENCE_NAMES, pre_trend_words
from metrics.trainee import trainee_list
from metrics.training import (
    EffectDesign,
    TrainingEffect,
    effect_candidates,
    effect_event_study,
    timeline,
    training_effect,
    trainings,
    with_enough_attendees,
)
from ui import charts, filters, presenter, show
from ui.cache import measure

MODES = {"sessions": "Chosen sessions", "kind": "All of a kind", "policy": "All on a policy"}
SCOPES = {"training": "The session's policy", "all": "All policies"}
SOURCES = {"auto": "Automatic (follows the data)", "qa_audit": "Quality (QA audits)",
           "golden_set": "Accuracy (golden set)"}
CARDS = {  # the three estimates: plain words first, the method in the help
    "did": ("Against non-attendees", "Difference-in-differences: attendees' change minus the change of colleagues "
            "who did not attend, 95% interval from a bootstrap over trainees."),
    "ancova": ("Adjusted for starting level", "Against colleagues who started at the same level: each trainee's "
               "after-rate on their before-rate and attendance (ANCOVA), one row per trainee."),
    "naive": ("Attendees alone (not an effect)", "Attendees' after minus before: it also holds whatever changed "
              "for everyone, and regression to the mean."),
}


def session_labels(sessions: pd.DataFrame) -> dict[str, str]:
    # Built once: the multiselect formats every option on every rerun, and a row lookup per option was
    # quadratic (3,700 sessions at 10M decisions: 3.8 s a rerun).
    return {
        str(training_id): f"{pd.Timestamp(date):%Y-%m-%d} · {title} · {market if isinstance(market, str) else 'all markets'}"
        for training_id, date, title, market in zip(sessions["training_id"], sessions["date"], sessions["title"],
                                                    sessions["market"], strict=True)
    }


CANDIDATES, TRIES = 40, 4  # sessions screened in one query; full measurements at most, newest first


def latest_measurable(sessions: pd.DataFrame, f: Filters) -> list[str]:
    """The latest session the page can measure, with the design it opens with: a result at once. The newest
    finished sessions are screened in one query for attendees with enough reviews; then at most a few are
    measured in full (through the cache, which the page's own measurement then hits)."""
    candidates = effect_candidates(sessions, filters.options().last_date, limit=CANDIDATES)
    for training_id in measure(with_enough_attendees, tuple(candidates), f, EffectDesign())[:TRIES]:
        if measure(training_effect, (training_id,), f, EffectDesign()).enough_data:
            return [training_id]
    return []


def choose_sessions(sessions: pd.DataFrame, f: Filters) -> list[str]:
    labels = session_labels(sessions)
    mode = st.radio("Which sessions", list(MODES), format_func=MODES.get, horizontal=True, key="pick_mode")
    if mode == "sessions":
        return st.multiselect("Sessions", list(labels), format_func=labels.__getitem__,
                              default=latest_measurable(sessions, f), key="trainings",
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


def choose_design() -> EffectDesign:
    """The windows and the measure (automatic: accuracy where attendees have enough golden-set reviews)."""
    with st.expander("Windows and measure", expanded=False):
        a, b, c, d = st.columns(4)
        window_days = a.slider("Window (days before and after)", 7, 56, 14, step=7, key="window_days")
        lag_days = b.number_input("Lag after the session (days)", 0, 28, 0, key="lag_days",
                                  help="Days left out after the session before the after-window starts.")
        scope = c.radio("Decisions on", list(SCOPES), format_func=SCOPES.get, key="policy_scope")
        source = d.radio("Measure", list(SOURCES), format_func=SOURCES.get, key="effect_source",
                         help="Automatic reads accuracy (golden set) where the attendees have enough golden-set "
                              "reviews, else quality (QA audits), where most sessions' work is reviewed.")
    return EffectDesign(window_days=int(window_days), lag_days=int(lag_days), policy_scope=scope,
                        source=None if source == "auto" else source)


def headline_section(e: TrainingEffect) -> None:
    """The one figure to read, the same words as on the Overview, the weekly report and each trainee's page."""
    st.subheader("Effect on work")
    h = e.headline
    st.markdown(f"**{show.esc(h.text)}**")
    if not h.enough_data:
        st.info(f"Measured on {h.measure_reason}. {words.count(e.attendees_listed, 'person', 'people')} attended.")
    else:
        st.markdown(f"**How it is read:** {show.esc(h.how)}. {show.esc(h.why)}")
        st.caption(f"Measured on {h.measure_reason}. n: {h.n_text} (trainees with at least {e.design.min_reviews} "
                   f"reviews in both windows; {e.attendees_listed:,} attended).")
    for warning in e.warnings:
        st.warning(warning)


def estimates_section(e: TrainingEffect) -> None:
    """The estimates side by side, the headline's marked: where they differ is itself information."""
    if not e.enough_data:
        return
    lead = {"did": ("did",), "ancova": ("ancova",), "bracket": ("did", "ancova")}.get(e.headline.estimator, ())
    for column, (key, interval) in zip(st.columns(3), (("did", e.did), ("ancova", e.ancova), ("naive", e.naive)),
                                       strict=True):
        label, method = CARDS[key]
        column.metric(label, words.points(interval.estimate), border=True, help=method)
        extra = f" · {words.p_text(e.ancova_p)}" if key == "ancova" else ""
        column.caption(words.ci_points(interval.low, interval.high) + extra + (" · the headline" if key in lead else ""))
    a, c = e.attendees, e.comparison
    st.caption(f"Reviews: attendees {a.reviews_before:,} before and {a.reviews_after:,} after; comparison "
               f"{c.reviews_before:,} and {c.reviews_after:,}. Attendees {words.pct(a.before)} → {words.pct(a.after)}; "
               f"comparison {words.pct(c.before)} → {words.pct(c.after)}.")


def evidence_section(e: TrainingEffect, f: Filters) -> None:
    """How attendees were chosen: as declared, or what the weeks around the session show."""
    st.subheader("How attendees were chosen")
    if e.audience is not None:
        st.markdown(f"Recorded in the data: attendees were {AUDIENCE_NAMES[e.audience]}.")
    else:
        st.markdown(f"Not recorded in the data (the trainings' `audience` column). {show.esc(pre_trend_words(e.pre_trend))}")
    if not e.enough_data:
        return
    design = e.design
    gaps = measure(effect_event_study, e.training_ids, f, design, source=e.source)
    if gaps.empty:
        st.info("Too few reviews in any week to draw the attendees against the comparison group week by week.")
    elif presenter.too_few(e.attendees.trainees):
        st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} attendees with reviews in both windows.")
    else:
        st.markdown(f"**Week by week: attendees' {e.headline.measure} minus the comparison group's**")
        show.chart(charts.effect_event_study, gaps, design.window_days, design.lag_days,
                   key="training_event_study", name="event_study")
        st.caption("Each week's gap with its 95% interval (a bootstrap over trainees). Weeks with too few reviews "
                   "are left out. A dip just before the session that the weeks before it do not show means "
                   "attendees were picked on a bad spell; a gap that holds steady before the session and moves "
                   "after it is what a training effect looks like.")


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
        show.chart(charts.training_timeline, over_time, design.window_days, design.lag_days, step,
                   measure_name.capitalize(), key="training_timeline", name="training_timeline")
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
    names = dict(zip(roster["trainee_id"].tolist(), roster["name"].tolist(), strict=True))
    # Named from the label alone, so that no id or (while presenting) name reaches the chart's data.
    who = presenter.people(attendees["trainee_id"], "Trainee", [names.get(t) for t in attendees["trainee_id"].tolist()])
    show.chart(charts.attendee_slopes, tables.attendee_slopes(e.per_trainee, who), measure_name.capitalize(),
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
        attended = words.count(int(picked["attendees"].sum()), "attendee")
        left.caption(f"n={ratings:,} ratings from {attended}." if ratings else f"No ratings from the {attended}.")
    right.metric("Behaviour: how their work changed", e.headline.short, border=True)
    right.caption(f"{e.headline.verdict.capitalize()}. A well-liked session does not always change the work, and "
                  "the other way round.")


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
    chosen = choose_sessions(sessions, f)
    design = choose_design()
    if not chosen:
        st.info("Pick one or more sessions above to see their effect.")
        return
    ids = tuple(chosen)
    with st.spinner("Measuring the effect (bootstrap over trainees)"):
        effect: TrainingEffect = measure(training_effect, ids, f, design)
        gains = measure(assessment_gains, f, ids)
    picked = sessions[sessions["training_id"].isin(ids)]
    headline_section(effect)
    estimates_section(effect)
    evidence_section(effect, f)
    timeline_section(effect, f, effect.headline.measure)
    attendees_section(effect, effect.headline.measure)
    gains_section(gains)
    reaction_section(picked, effect)


main()
