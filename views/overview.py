"""Overview: the managers' weekly impact. This week against last, noise told apart from change by the
p-chart, the week's trainings with their measured effect, the top weak spots and who needs coaching."""

from __future__ import annotations

import streamlit as st

from metrics import tables, words
from metrics.filters import Filters
from metrics.weekly import (
    BASELINE_WEEKS,
    WeekOption,
    default_week,
    week_options,
)
from outgoing import weekly_report
from outgoing.export_log import log_export
from outgoing.weekly_report import WeekSummary
from ui import charts, downloads, drill, filters, nav, presenter, show
from ui.cache import measure, store


def week_label(option: WeekOption) -> str:
    iso = option.start.isocalendar()
    label = f"{iso.year}-W{iso.week:02d} · from {option.start:%a %d %b %Y}"
    return label if option.complete else f"{label} · partial: data to {option.data_until:%a %d %b}"


def pick_week(f: Filters) -> WeekOption | None:
    options = measure(week_options, f)
    if not options:
        st.info("No reviews match the filters in the sidebar. Widen the date range or clear some filters "
                "to see a week.")
        return None
    labels = {o.start: week_label(o) for o in options}
    start = st.selectbox("ISO week", list(labels), index=default_week(options), key="week", format_func=labels.get, bind="query-params",
                         help="Opens on the last complete week; a week the data does not cover to its Sunday is "
                              "marked partial.")
    return next(o for o in options if o.start == start)


def measure_week(f: Filters, option: WeekOption) -> WeekSummary:
    with st.spinner("Measuring the week"):
        week = measure(weekly_report.summarise_week, f, option.start, visible_markets=filters.visible_markets(),
                       presenting=presenter.is_on())
    assert week is not None  # the option came from the weeks with reviews
    return week


def tiles(week: WeekSummary) -> None:
    """The lead measure's tile first; a figure about fewer than 5 people stays off a shared screen."""
    shown = sorted(week.impact.tiles[:5], key=lambda t: t.name.lower() != week.measure_name)
    for column, tile in zip(st.columns(5), shown, strict=True):
        if presenter.too_few(tile.people):
            column.metric(tile.name, "hidden", border=True, help=presenter.hidden_note("figure"))
            column.caption(f"fewer than {presenter.MIN_GROUP} people")
            continue
        column.metric(
            tile.name, words.tile_value(tile), delta=words.tile_delta(tile),
            # Noise is not news: the delta is coloured only when the week is beyond the control limits.
            delta_color="normal" if tile.beyond_limits else "off", help=words.tile_detail(tile), border=True,
        )
        verdict = words.tile_verdict(tile)
        column.caption(f"{verdict} · n={tile.n:,}" if tile.is_rate else verdict)
    if not week.option.complete:
        st.caption(f"This week is partial: the data runs to {week.option.data_until:%a %d %b}, so its figures rest on "
                   "fewer reviews than a full week's.")


def control_chart(week: WeekSummary) -> None:
    name = week.measure_name
    st.subheader(f"Weekly {name} against its control limits")
    if week.chart.empty:
        st.info(f"No {name} reviews in the {BASELINE_WEEKS} weeks before this one, so there are no control limits "
                "to judge it against.")
        return
    # charts.week_chart's figure (the weekly report's), from its parts: the cache hashes a chart's arguments, and
    # hashing the whole week cost 50 ms a run.
    show.chart(charts.p_chart, week.chart, week.start, week.measure_name.capitalize(), events=week.events,
               key="overview_p_chart", name=f"p_chart_{week.start}")
    drill.rows_button(f"Show the {name} decisions of this week", week.filters.with_(source=week.measure),
                      key="week_rows", week=week.start, what=f"{name.capitalize()} decisions of the week from {week.start:%d %b %Y}")
    st.caption(f"Shaded: 3-sigma control limits around {words.control_window()} (dashed), at each week's number "
               "of reviews. Diamonds are weeks beyond the limits; the dotted line is the chosen week; coloured dashed lines "
               "are trainings and policy updates (click a kind in the legend to pick it out).")


def trainings(week: WeekSummary) -> None:
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


def top_weak_spots(week: WeekSummary) -> None:
    st.subheader("Top weak spots")
    st.caption(f"{week.measure_name.capitalize()} by market x policy over the {weekly_report.WEAK_SPOT_WEEKS} weeks "
               f"to {week.end:%d %b %Y}, against the same policy in the other markets; flagged only with at least "
               f"{weekly_report.WEAK_SPOT_MIN_REVIEWS} reviews and after Benjamini-Hochberg at 5%.")
    verdict = tables.weak_spot_verdict(week.weak, week.measure_name, weekly_report.WEAK_SPOT_MIN_REVIEWS)
    top = tables.top_weak_spots(week.weak)
    if top.empty:
        st.info(verdict)
    else:
        st.caption(verdict)
        show.table(top, key="overview_weak_spots")


def coaching(week: WeekSummary) -> None:
    st.subheader("Coaching")
    if week.coaching.empty:
        st.info(f"No trainee has {weekly_report.COACHING_MIN_REVIEWS} reviews under the current filters, so no one is judged yet.")
    else:
        st.markdown(f"**{week.needing:,}** of {len(week.coaching):,} trainees with at least {weekly_report.COACHING_MIN_REVIEWS} "
                    "reviews need coaching: their share of correct decisions is below their market's even at the "
                    "top of its 95% interval.")
    nav.link("views/trainee.py", "Open the coaching list", icon=":material/person_search:")


def report_downloads(week: WeekSummary) -> None:
    st.subheader("Download")
    who, target = downloads.who(), store()  # read here: the builders below run when clicked, maybe off this thread

    def report_html() -> str:
        log_export(target.cursor(), user=who, what=f"weekly report {week.start}", rows=len(week.sessions),
                   presenter=week.presenting)
        figure = charts.week_chart(week)  # built when clicked: building it on every run cost 100 ms
        return weekly_report.weekly_report_html(week, p_chart_svg=charts.svg(figure) if figure is not None else None)

    def report_tables() -> bytes:
        parts = weekly_report.report_tables(week)
        log_export(target.cursor(), user=who, what=f"weekly tables {week.start}",
                   rows=sum(len(t) for t in parts.values()), presenter=week.presenting)
        return weekly_report.csv_zip(parts)

    left, right, _ = st.columns([2, 2, 4])
    left.download_button("Download weekly report", data=report_html, file_name=f"uplift_week_{week.start}.html",
                         mime="text/html", key="overview_report", on_click="ignore", icon=":material/download:")
    right.download_button("Tables as CSV (zip)", data=report_tables,
                          file_name=f"uplift_week_{week.start}_tables.zip", mime="application/zip",
                          key="overview_tables", on_click="ignore")


def main() -> None:
    st.title("Overview")
    st.caption("This week against last week. A change is reported only when it is beyond the control limits set "
               f"by {words.control_window()}; anything inside them is normal week-to-week variation.")
    f = filters.current()
    option = pick_week(f)
    if option is None:
        return
    week = measure_week(f, option)
    tiles(week)
    control_chart(week)
    trainings(week)
    top_weak_spots(week)
    coaching(week)
    report_downloads(week)


main()
