"""Overview: the managers' weekly impact. This week against last, noise told apart from change by the
p-chart, the week's trainings with their measured effect, the top weak spots and who needs coaching."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from access import privacy
from data_sources.audit import log_export
from metrics import tables, words
from metrics.filters import Filters
from metrics.rates import rates
from metrics.trainee import coaching_list
from metrics.weak_spots import weak_spots
from metrics.weekly import WeeklyImpact, p_chart, week_training_effects, weekly_impact
from outgoing import weekly_report
from ui import charts, downloads, filters, nav, presenter, show
from ui.cache import measure, store

CHART_WEEKS = 12  # the p-chart's and the weak spots' window, ending with the chosen week
COACHING_MIN_REVIEWS = 50  # as the coaching list's default on the Trainee explorer


@dataclass(frozen=True)
class Week:
    """Everything the page shows for the chosen week, measured once."""

    start: dt.date
    impact: WeeklyImpact
    chart: pd.DataFrame
    effects: pd.DataFrame
    weak: pd.DataFrame
    coaching: pd.DataFrame
    sessions: pd.DataFrame  # the week's trainings as shown (small sessions' effects hidden while presenting)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def needing(self) -> int:
        return int(self.coaching["needs_coaching"].sum()) if not self.coaching.empty else 0


def pick_week(f: Filters) -> dt.date | None:
    weeks = measure(rates, f, by=("week",))
    if weeks.empty:
        st.info("No reviews match the filters in the sidebar. Widen the date range or clear some filters "
                "to see a week.")
        return None
    options = sorted((pd.Timestamp(w).date() for w in weeks["week"]), reverse=True)
    return st.selectbox(
        "ISO week", options, index=0, key="week",
        format_func=lambda d: f"{d.isocalendar().year}-W{d.isocalendar().week:02d} · from {d:%a %d %b %Y}",
    )


def measure_week(f: Filters, start: dt.date) -> Week:
    end = start + dt.timedelta(days=6)
    window = f.with_(start=max(f.start or dt.date.min, start - dt.timedelta(weeks=CHART_WEEKS - 1)), end=end)
    with st.spinner("Measuring the week"):
        impact: WeeklyImpact = measure(weekly_impact, f, start)
        effects = measure(week_training_effects, f, start)
        sessions = privacy.blank_small(tables.week_sessions(impact, effects), "attendees",
                                       tables.WEEK_EFFECT_COLUMNS, presenting=presenter.is_on())
        return Week(start, impact, measure(p_chart, f.with_(end=end), weeks=CHART_WEEKS), effects,
                    measure(weak_spots, window), measure(coaching_list, f, min_reviewed=COACHING_MIN_REVIEWS),
                    sessions)


def tiles(week: Week) -> None:
    for column, tile in zip(st.columns(5), week.impact.tiles[:5], strict=True):
        verdict = words.tile_verdict(tile)
        column.metric(
            tile.name, words.tile_value(tile), delta=words.tile_delta(tile),
            # Noise is not news: the delta is coloured only when the week is beyond the control limits.
            delta_color="normal" if tile.beyond_limits else "off", help=words.tile_detail(tile), border=True,
        )
        column.caption(f"{verdict} · n={tile.n:,}" if tile.is_rate else verdict)


def control_chart(week: Week) -> None:
    st.subheader("Weekly accuracy against its control limits")
    if week.chart.empty:
        st.info("No golden-set reviews in the weeks up to this one, so there is no accuracy to chart.")
        return
    show.chart(charts.p_chart(week.chart, week.start), key="overview_p_chart", name=f"p_chart_{week.start}")
    st.caption(f"Shaded: 3-sigma limits around the {len(week.chart)} weeks' pooled rate (dashed), at each "
               "week's number of reviews. Diamonds are weeks beyond the limits; the dotted line is the chosen week.")


def trainings(week: Week) -> None:
    st.subheader("Trainings this week")
    people = week.impact.people_reached
    st.caption(f"{week.impact.trainings_delivered.n:,} sessions, {people.n:,} people reached "
               f"({int(people.previous):,} last week). Each effect is the one Training impact leads with, over the "
               "14 days after the session: against colleagues who did not attend, or adjusted for where each "
               "trainee started when that is how attendees were chosen.")
    if week.sessions.empty:
        st.info("No trainings were delivered in this week under the current filters.")
        return
    # The headline's words in full: a wide column and rows tall enough for them to wrap, not be cut off;
    # how each effect is read, its n and caveats go under the table (the CSV download has every column).
    show.table(week.sessions[tables.WEEK_SESSIONS_SHOWN], key="overview_trainings", row_height=74,
               column_config={"effect": st.column_config.TextColumn(width=420)})
    for note in tables.week_caveats(week.impact, week.effects, week.sessions, how=True):
        st.caption(show.esc(note))


def top_weak_spots(week: Week) -> None:
    st.subheader("Top weak spots")
    top = tables.top_weak_spots(week.weak)
    st.caption(f"Accuracy by market x policy over the {CHART_WEEKS} weeks to {week.end:%d %b %Y}, against the same "
               "policy in the other markets; flagged only with enough reviews and after Benjamini-Hochberg at 5%.")
    if top.empty:
        st.info("No market x policy cell is flagged as a weak spot in this window.")
    else:
        show.table(top, key="overview_weak_spots")


def coaching(week: Week) -> None:
    st.subheader("Coaching")
    if week.coaching.empty:
        st.info(f"No trainee has {COACHING_MIN_REVIEWS} reviews under the current filters, so no one is judged yet.")
    else:
        st.markdown(f"**{week.needing:,}** of {len(week.coaching):,} trainees with at least {COACHING_MIN_REVIEWS} "
                    "reviews need coaching: their accuracy is below their market's even at the top of its 95% "
                    "interval.")
    nav.link("views/trainee.py", "Open the coaching list", icon=":material/person_search:")


def report_downloads(week: Week, f: Filters) -> None:
    st.subheader("Download")
    presenting = presenter.is_on()
    who, target = downloads.who(), store()  # read here: the builders below run when clicked, maybe off this thread
    figure = charts.p_chart(week.chart, week.start) if not week.chart.empty else None

    def report_html() -> str:
        log_export(target.cursor(), user=who, what=f"weekly report {week.start}", rows=len(week.sessions),
                   presenter=presenting)
        return weekly_report.weekly_report_html(
            week.impact, filters=f, p_chart_svg=charts.svg(figure) if figure is not None else None,
            effects=week.effects, weak_spots=week.weak, needs_coaching=week.needing,
            coaching_assessed=len(week.coaching), presenting=presenting)

    def report_tables() -> bytes:
        parts = {"tiles": tables.tiles_frame(week.impact), "p_chart": week.chart, "trainings": week.sessions,
                 "weak_spots": tables.top_weak_spots(week.weak)}
        log_export(target.cursor(), user=who, what=f"weekly tables {week.start}",
                   rows=sum(len(t) for t in parts.values()), presenter=presenting)
        return weekly_report.csv_zip(parts)

    left, right, _ = st.columns([2, 2, 4])
    left.download_button("Download weekly report", data=report_html, file_name=f"uplift_week_{week.start}.html",
                         mime="text/html", key="overview_report", on_click="ignore", icon=":material/download:")
    right.download_button("Tables as CSV (zip)", data=report_tables,
                          file_name=f"uplift_week_{week.start}_tables.zip", mime="application/zip",
                          key="overview_tables", on_click="ignore")


def main() -> None:
    st.title("Overview")
    st.caption("This week against last week. A change is reported only when it is beyond the p-chart's control "
               "limits; anything inside them is normal week-to-week variation.")
    f = filters.current()
    start = pick_week(f)
    if start is None:
        return
    week = measure_week(f, start)
    tiles(week)
    control_chart(week)
    trainings(week)
    top_weak_spots(week)
    coaching(week)
    report_downloads(week, f)


main()
