"""Overview: the managers' weekly impact. This week against last, noise told apart from change by the
p-chart, the week's trainings with their measured effect, the top weak spots and who needs coaching."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from metrics.rates import rates
from metrics.trainee import coaching_list
from metrics.weak_spots import weak_spots
from metrics.weekly import WeeklyImpact, p_chart, week_training_effects, weekly_impact
from outgoing.export_log import log_export
from ui import charts, downloads, filters, nav, presenter, report
from ui.state import measure, store

CHART_WEEKS = 12  # the p-chart's and the weak spots' window, ending with the chosen week
COACHING_MIN_REVIEWS = 50  # as the coaching list's default on the Trainee explorer

st.title("Overview")
st.caption("This week against last week. A change is reported only when it is beyond the p-chart's control "
           "limits; anything inside them is normal week-to-week variation.")

f = filters.current()
weeks = measure(rates, f, by=("week",))
if weeks.empty:
    st.info("No reviews match the filters in the sidebar. Widen the date range or clear some filters "
            "to see a week.")
    st.stop()

options = sorted((pd.Timestamp(w).date() for w in weeks["week"]), reverse=True)
week: dt.date = st.selectbox(
    "ISO week", options, index=0, key="week",
    format_func=lambda d: f"{d.isocalendar().year}-W{d.isocalendar().week:02d} · from {d:%a %d %b %Y}",
)
week_end = week + dt.timedelta(days=6)
window = f.with_(start=max(f.start or dt.date.min, week - dt.timedelta(weeks=CHART_WEEKS - 1)), end=week_end)

with st.spinner("Measuring the week"):
    impact: WeeklyImpact = measure(weekly_impact, f, week)
    chart_frame = measure(p_chart, f.with_(end=week_end), weeks=CHART_WEEKS)
    effects = measure(week_training_effects, f, week)
    weak = measure(weak_spots, window)
    coaching = measure(coaching_list, f, min_reviewed=COACHING_MIN_REVIEWS)

# ------------------------------------------------------------------------------------------ tiles
for column, tile in zip(st.columns(5), impact.tiles[:5], strict=True):
    verdict = report.tile_verdict(tile)
    column.metric(
        tile.name, report.tile_value(tile), delta=report.tile_delta(tile),
        # Noise is not news: the delta is coloured only when the week is beyond the control limits.
        delta_color="normal" if tile.beyond_limits else "off", help=report.tile_detail(tile), border=True,
    )
    column.caption(f"{verdict} · n={tile.n:,}" if tile.is_rate else verdict)

# ---------------------------------------------------------------------------------------- p-chart
st.subheader("Weekly accuracy against its control limits")


def p_chart_figure(frame: pd.DataFrame, chosen: dt.date) -> alt.LayerChart:
    base = alt.Chart(frame).encode(x=alt.X("week:T", title="ISO week (Monday)", axis=alt.Axis(format="%d %b")))
    band = base.mark_area(opacity=0.2, color=charts.PALETTE[4], interpolate="step-after").encode(
        y=alt.Y("lcl:Q", title="Accuracy", axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)), y2="ucl:Q")
    centre = base.mark_line(color="#555", strokeDash=[6, 4]).encode(y="center:Q")
    line = base.mark_line(color=charts.PALETTE[0]).encode(y="rate:Q")
    points = base.transform_calculate(
        status="datum.beyond ? 'beyond control limits' : 'within normal variation'"
    ).mark_point(filled=True, size=80).encode(
        y="rate:Q",
        color=alt.Color("status:N", title=None, scale=alt.Scale(
            domain=["within normal variation", "beyond control limits"], range=[charts.PALETTE[0], charts.PALETTE[5]])),
        shape=alt.Shape("status:N", title=None, scale=alt.Scale(
            domain=["within normal variation", "beyond control limits"], range=["circle", "diamond"])),
        tooltip=[alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
                 alt.Tooltip("rate:Q", title="Accuracy", format=".1%"),
                 alt.Tooltip("reviewed:Q", title="Reviews", format=","),
                 alt.Tooltip("lcl:Q", title="Lower limit", format=".1%"),
                 alt.Tooltip("ucl:Q", title="Upper limit", format=".1%"),
                 alt.Tooltip("status:N", title="Verdict")],
    )
    marker = alt.Chart(pd.DataFrame({"week": [pd.Timestamp(chosen)]})).mark_rule(
        color="#999", strokeDash=[2, 2]).encode(x="week:T")
    return alt.layer(band, centre, marker, line, points).properties(height=300)


figure = p_chart_figure(chart_frame, week) if not chart_frame.empty else None
if figure is None:
    st.info("No golden-set reviews in the weeks up to this one, so there is no accuracy to chart.")
else:
    charts.show(figure, key="overview_p_chart", name=f"p_chart_{week}")
    st.caption(f"Shaded: 3-sigma limits around the {len(chart_frame)} weeks' pooled rate (dashed), at each "
               "week's number of reviews. Diamonds are weeks beyond the limits; the dotted line is the chosen week.")

# ----------------------------------------------------------------------------- the week's trainings
st.subheader("Trainings this week")
people = impact.people_reached
st.caption(f"{impact.trainings_delivered.n:,} sessions, {people.n:,} people reached "
           f"({int(people.previous):,} last week). Effects are against similar trainees who did not attend, "
           "over the 14 days after each session.")
sessions = report.trainings_frame(impact, effects, presenter.is_on())
if sessions.empty:
    st.info("No trainings were delivered in this week under the current filters.")
else:
    st.dataframe(sessions, hide_index=True, width="stretch", key="overview_trainings")

# -------------------------------------------------------------------------------------- weak spots
st.subheader("Top weak spots")
top = report.top_weak_spots(weak)
st.caption(f"Accuracy by market x policy over the {CHART_WEEKS} weeks to {week_end:%d %b %Y}, against the same "
           "policy in the other markets; flagged only with enough reviews and after Benjamini-Hochberg at 5%.")
if top.empty:
    st.info("No market x policy cell is flagged as a weak spot in this window.")
else:
    st.dataframe(top, hide_index=True, width="stretch", key="overview_weak_spots")

# ---------------------------------------------------------------------------------------- coaching
st.subheader("Coaching")
needing = int(coaching["needs_coaching"].sum()) if not coaching.empty else 0
if coaching.empty:
    st.info(f"No trainee has {COACHING_MIN_REVIEWS} reviews under the current filters, so no one is judged yet.")
else:
    st.markdown(f"**{needing:,}** of {len(coaching):,} trainees with at least {COACHING_MIN_REVIEWS} reviews "
                "need coaching: their accuracy is below their market's even at the top of its 95% interval.")
nav.link("views/trainee.py", "Open the coaching list", icon=":material/person_search:")

# --------------------------------------------------------------------------------------- downloads
st.subheader("Download")


presenting = presenter.is_on()
who, target = downloads.who(), store()  # read here: the builders below run when clicked, maybe off this thread


def report_html() -> str:
    log_export(target.cursor(), user=who, what=f"weekly report {week}", rows=len(sessions), presenter=presenting)
    return report.weekly_report_html(
        impact, filters=f, p_chart_svg=charts.svg(figure) if figure is not None else None, effects=effects,
        weak_spots=weak, needs_coaching=needing, coaching_assessed=len(coaching), presenting=presenting)


def report_tables() -> bytes:
    tables = {"tiles": report.tiles_frame(impact), "p_chart": chart_frame, "trainings": sessions,
              "weak_spots": report.top_weak_spots(weak)}
    log_export(target.cursor(), user=who, what=f"weekly tables {week}", rows=sum(len(t) for t in tables.values()),
               presenter=presenting)
    return report.csv_zip(tables)


left, right, _ = st.columns([2, 2, 4])
left.download_button("Download weekly report", data=report_html, file_name=f"uplift_week_{week}.html",
                     mime="text/html", key="overview_report", on_click="ignore", icon=":material/download:")
right.download_button("Tables as CSV (zip)", data=report_tables, file_name=f"uplift_week_{week}_tables.zip",
                      mime="application/zip", key="overview_tables", on_click="ignore")
