"""Training impact: did a session (or all sessions of a kind or on a policy) change how attendees work,
beyond what changed for colleagues who did not attend? With the caveats in a trainer's words."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from metrics.trainee import trainee_list
from metrics.training import TrainingEffect, assessment_gains, timeline, training_effect, trainings
from ui import charts, filters, presenter, report
from ui.state import measure

MODES = {"sessions": "Chosen sessions", "kind": "All of a kind", "policy": "All on a policy"}
SCOPES = {"training": "The session's policy", "all": "All policies"}
SOURCES = {"qa_audit": "Quality (QA audits)", "golden_set": "Accuracy (golden set)"}
GROUPS = {"attended": "Attended", "comparison": "Did not attend"}

st.title("Training impact")
st.caption("Attendees' work before and after a session, against colleagues in the same markets who did not "
           "attend, so that what changed for everyone and regression to the mean are not credited to training.")

f = filters.current()
sessions = measure(trainings, f)
if sessions.empty:
    st.info("No training sessions match the filters in the sidebar. Widen the date range or clear some "
            "filters (sessions are chosen by their own date, market and policy).")
    st.stop()


# Labels built once: the multiselect formats every option on every rerun, and a row lookup per option
# was quadratic (3,700 sessions at 10M decisions: 3.8 s a rerun).
SESSION_LABELS = {
    str(training_id): f"{pd.Timestamp(date):%Y-%m-%d} · {title} · {market if isinstance(market, str) else 'all markets'}"
    for training_id, date, title, market in zip(sessions["training_id"], sessions["date"], sessions["title"],
                                                sessions["market"], strict=True)
}


def session_label(training_id: str) -> str:
    return SESSION_LABELS[str(training_id)]


# ------------------------------------------------------------------------------------ what to measure
mode = st.radio("Which sessions", list(MODES), format_func=MODES.get, horizontal=True, key="pick_mode")
if mode == "sessions":
    # Open on the latest session whose two weeks after have passed, so a trainer sees a result at once.
    done = sessions[(sessions["kind"] != "onboarding")
                    & (pd.to_datetime(sessions["date"]) <= pd.to_datetime(sessions["date"]).max() - pd.Timedelta(days=14))]
    latest = done.sort_values("date")["training_id"].tail(1).tolist()
    chosen = st.multiselect("Sessions", sessions["training_id"].tolist(), format_func=session_label, default=latest,
                            key="trainings", placeholder="Pick one or more sessions (date · title · market)")
elif mode == "kind":
    kind = st.selectbox("Kind", sorted(sessions["kind"].dropna().unique()), key="pick_kind")
    chosen = sessions.loc[sessions["kind"] == kind, "training_id"].tolist()
    st.caption(f"All {len(chosen)} {kind} sessions in the sidebar's date range, markets and policies.")
else:
    policy = st.selectbox("Policy", sorted(sessions["policy"].dropna().unique()), key="pick_policy")
    chosen = sessions.loc[sessions["policy"] == policy, "training_id"].tolist()
    st.caption(f"All {len(chosen)} sessions on {policy} in the sidebar's date range and markets.")

with st.expander("Windows and measure", expanded=False):
    a, b, c, d = st.columns(4)
    window_days = a.slider("Window (days before and after)", 7, 56, 14, step=7, key="window_days")
    lag_days = b.number_input("Lag after the session (days)", 0, 28, 0, key="lag_days",
                              help="Days left out after the session before the after-window starts.")
    scope = c.radio("Decisions on", list(SCOPES), format_func=SCOPES.get, key="policy_scope")
    source = d.radio("Measure", list(SOURCES), format_func=SOURCES.get, key="effect_source",
                     help="QA audits are where most sessions' decisions are reviewed.")

if not chosen:
    st.info("Pick one or more sessions above to see their effect.")
    st.stop()

ids = tuple(str(i) for i in chosen)
knobs = {"window_days": int(window_days), "lag_days": int(lag_days), "policy_scope": scope, "source": source}
with st.spinner("Measuring the effect (bootstrap over trainees)"):
    effect: TrainingEffect = measure(training_effect, ids, f, **knobs)
    over_time = measure(timeline, ids, f, **knobs, freq="day" if window_days <= 28 else "week")
    gains = measure(assessment_gains, f, ids)

picked = sessions[sessions["training_id"].isin(ids)]


def too_few(people: int) -> bool:
    """While presenting, a figure from fewer than MIN_GROUP people is not shown: it would point at them."""
    return presenter.is_on() and 0 < people < presenter.MIN_GROUP

measure_name = SOURCES[source].split(" (")[0].lower()


# ------------------------------------------------------------------------------------------ effect
def effect_section(e: TrainingEffect) -> None:
    st.subheader("Effect on work")
    people = (f"{e.n_attendees:,} attendees and {e.n_comparison:,} comparison trainees with at least 5 reviews "
              f"in both windows ({e.attendees_listed:,} attended).")
    if not e.enough_data:
        st.info(f"Not enough data to measure an effect yet. {people}")
        for warning in e.warnings:
            st.warning(warning)
        return
    headline = e.ancova_estimate if e.preferred == "ancova" else e.estimate
    low, high = (e.ancova_low, e.ancova_high) if e.preferred == "ancova" else (e.low, e.high)
    verdict = ("the interval excludes zero: a real change" if report.excludes_zero(low, high)
               else "the interval includes zero: no clear effect")
    which = "adjusted for each trainee's starting score" if e.preferred == "ancova" else "against non-attendees"
    st.markdown(f"Attending changed {measure_name} by **{report.interval_points(headline, low, high)}** "
                f"{which}; {verdict}.")
    left, mid, right = st.columns(3)
    left.metric("Effect against people who did not attend", report.points(e.estimate), border=True,
                help="Difference-in-differences: attendees' change minus the comparison group's change, "
                     "95% interval from a bootstrap over trainees.")
    left.caption(report.ci_points(e.low, e.high))
    mid.metric("Adjusted for starting score (ANCOVA)", report.points(e.ancova_estimate), border=True,
               help="Each trainee's after-rate on their before-rate and attendance, one row per trainee.")
    mid.caption(f"{report.ci_points(e.ancova_low, e.ancova_high)} · p = {e.ancova_p:.3f}")
    right.metric("Naive before/after (not a causal effect)", report.points(e.naive_gain), border=True,
                 help="Attendees' after minus before alone: it also holds whatever changed for everyone.")
    right.caption(report.ci_points(e.naive_low, e.naive_high))
    st.caption(people + f" Reviews: attendees {e.reviews_attendees_pre:,} before and {e.reviews_attendees_post:,} "
               f"after; comparison {e.reviews_comparison_pre:,} and {e.reviews_comparison_post:,}. Attendees "
               f"{report.pct(e.attendee_pre)} → {report.pct(e.attendee_post)}; comparison "
               f"{report.pct(e.comparison_pre)} → {report.pct(e.comparison_post)}.")
    for warning in e.warnings:
        st.warning(warning)


def reaction_section(rows: pd.DataFrame, e: TrainingEffect) -> None:
    st.subheader("Reaction and behaviour")
    ratings = int(rows["ratings"].sum())
    rated = rows[rows["ratings"] > 0]
    mean = float((rated["mean_rating"] * rated["ratings"]).sum() / ratings) if ratings else float("nan")
    left, right = st.columns(2)
    if too_few(ratings):
        left.metric("Reaction: how attendees rated it", "hidden", border=True)
        left.caption(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} ratings.")
    else:
        left.metric("Reaction: how attendees rated it", f"{mean:.1f} / 5" if ratings else "no ratings", border=True)
        left.caption(f"n={ratings:,} ratings from {int(rows['attendees'].sum()):,} attendees.")
    right.metric("Behaviour: how their work changed", report.points(e.estimate) if e.enough_data else
                 "not enough data", border=True)
    right.caption("Against non-attendees. A well-liked session does not always change the work, and the "
                  "other way round.")


effect_section(effect)
latest = filters.options().last_date
ends = [pd.Timestamp(d).date() + dt.timedelta(days=int(lag_days) + int(window_days)) for d in picked["date"]]
if latest and ends and max(ends) > latest:
    st.warning(f"The after-window of a chosen session runs past the latest data ({latest:%d %b %Y}): the "
               "figures will move as more reviews arrive.")


# ------------------------------------------------------------------------------------------ timeline
def timeline_chart(frame: pd.DataFrame, window: int, lag: int, step: int) -> alt.LayerChart:
    windows = pd.DataFrame({"start": [-window, lag], "end": [0, lag + window], "window": ["before", "after"]})
    shade = alt.Chart(windows).mark_rect(opacity=0.08, color="#666").encode(x="start:Q", x2="end:Q")
    tags = alt.Chart(windows).transform_calculate(mid="(datum.start + datum.end) / 2").mark_text(
        baseline="top", color="#555", fontSize=13).encode(x="mid:Q", y=alt.value(4), text="window:N")
    session = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000", strokeDash=[4, 3]).encode(x="x:Q")
    colour = alt.Color("who:N", title=None, scale=alt.Scale(domain=list(GROUPS.values()),
                                                            range=[charts.ATTENDED, charts.COMPARISON]))
    base = alt.Chart(frame).transform_calculate(
        day=f"datum.offset * {step} + {step / 2}",
        who=f"datum.group == 'attended' ? '{GROUPS['attended']}' : '{GROUPS['comparison']}'",
    ).encode(x=alt.X("day:Q", title="Days since the session"), color=colour)
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("low:Q", title=measure_name.capitalize(),
                                                       axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
                                               y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="rate:Q",
        tooltip=[alt.Tooltip("who:N", title="Group"), alt.Tooltip("offset:Q", title="Days" if step == 1 else "Week"),
                 alt.Tooltip("rate:Q", title="Rate", format=".1%"), alt.Tooltip("reviewed:Q", title="Reviews"),
                 alt.Tooltip("low:Q", format=".1%", title="95% low"), alt.Tooltip("high:Q", format=".1%", title="95% high")],
    )
    return alt.layer(shade, tags, session, band, line).properties(height=320)


st.subheader("Attendees and comparison group over time")
if over_time.empty:
    st.info("No reviews of these trainees inside the windows, so there is nothing to draw.")
elif too_few(effect.n_attendees):
    st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} attendees with reviews in both windows.")
else:
    step = 1 if window_days <= 28 else 7
    charts.show(timeline_chart(over_time, int(window_days), int(lag_days), step), key="training_timeline",
                name="training_timeline")
    st.caption("Shaded: the before and after windows; dashed: the session. Bands are 95% Wilson intervals "
               f"of each {'day' if step == 1 else 'week'}'s pooled rate.")


# -------------------------------------------------------------------------------- per attendee
def slope_chart(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(frame).transform_fold(["pre_rate", "post_rate"], as_=["phase", "rate"]).transform_calculate(
        when="datum.phase == 'pre_rate' ? 'Before' : 'After'",
        direction="datum.post_rate >= datum.pre_rate ? 'up or level' : 'down'",
    ).mark_line(point=True, opacity=0.6).encode(
        x=alt.X("when:N", sort=["Before", "After"], title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("rate:Q", title=measure_name.capitalize(), axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
        detail="who:N",
        color=alt.Color("direction:N", title=None, scale=alt.Scale(domain=["up or level", "down"],
                                                                   range=[charts.PALETTE[0], charts.PALETTE[5]])),
        tooltip=[alt.Tooltip("who:N", title="Trainee"), alt.Tooltip("pre_rate:Q", title="Before", format=".1%"),
                 alt.Tooltip("post_rate:Q", title="After", format=".1%"),
                 alt.Tooltip("pre_reviews:Q", title="Reviews before"),
                 alt.Tooltip("post_reviews:Q", title="Reviews after")],
    ).properties(height=340)


st.subheader("Each attendee, before and after")
attendees = effect.per_trainee[effect.per_trainee["group"] == "attended"]
if attendees.empty:
    st.info("No attendee has enough reviews in both windows.")
elif too_few(len(attendees)):
    st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} attendees.")
else:
    roster = measure(trainee_list)
    names = dict(zip(roster["trainee_id"], roster["name"], strict=True))
    # Built from the label alone, so that no id or (while presenting) name reaches the chart's data.
    slopes = attendees[["pre_rate", "post_rate", "pre_reviews", "post_reviews"]].assign(
        who=[presenter.person(t, "Trainee", names.get(t)) for t in attendees["trainee_id"]])
    charts.show(slope_chart(slopes), key="training_slopes", name="attendee_slopes")
    st.caption("One line per attendee with at least 5 reviews in both windows. One person's change is "
               "mostly noise; the effect above is what to read.")


# ------------------------------------------------------------------------------------- assessments
def gains_section() -> None:
    st.subheader("Test scores")
    if gains.n == 0:
        st.info("No matched pre-test and post-test for these sessions.")
        return
    if too_few(gains.n):
        st.info(f"Hidden while presenting: fewer than {presenter.MIN_GROUP} trainees took both tests.")
        return
    left, right = st.columns(2)
    left.metric("Score gain, pre-test to post-test", f"{gains.mean_gain:+.1f} points", border=True,
                help="Mean of each trainee's post minus pre score, in points of the maximum score; paired t interval.")
    left.caption(f"95% CI {gains.gain_low:+.1f} to {gains.gain_high:+.1f}, n={gains.n:,} trainees · "
                 f"{gains.mean_pre:.0f}% → {gains.mean_post:.0f}%")
    right.metric("Normalised gain (Hake's g)", f"{gains.hake_class:.2f}", border=True,
                 help="Share of the possible improvement achieved: (post - pre) / (100 - pre) on class averages.")
    right.caption(f"Mean of individual gains {gains.hake_mean_individual:.2f}")
    if not gains.pass_rates.empty:
        rates = gains.pass_rates.assign(
            test=gains.pass_rates["test"].map({"pre_test": "Pre-test", "post_test": "Post-test"}),
            **{"pass rate": [report.rate_text(r, lo, hi, n) for r, lo, hi, n in zip(
                gains.pass_rates["rate"], gains.pass_rates["low"], gains.pass_rates["high"],
                gains.pass_rates["attempts"], strict=True)]},
        )[["test", "attempts", "passed", "pass rate"]]
        st.dataframe(rates, hide_index=True, key="training_pass_rates")


gains_section()
reaction_section(picked, effect)
