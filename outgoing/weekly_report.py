"""The weekly report as one self-contained HTML file (inline SVG, no scripts, no network), and its tables
as a zip of formula-safe CSVs. Everything that comes from the data is escaped with `html.escape`; the
figures are the same tables and words the Overview shows (metrics.tables, metrics.words)."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import pandas as pd

from access import privacy
from metrics import tables, words
from metrics.filters import Filters, Source
from metrics.rates import iso_week_start, lead_measure
from metrics.trainee import coaching_list
from metrics.training import EVENT_COLUMNS, events
from metrics.weak_spots import weak_spots
from metrics.weekly import (
    Tile,
    WeeklyImpact,
    WeekOption,
    p_chart,
    week_options,
    week_training_effects,
    weekly_impact,
)
from outgoing.safe_csv import safe_csv

_CSS = """
body { font-family: 'Source Sans Pro', Arial, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
.tiles { display: flex; flex-wrap: wrap; gap: 1rem; }
.tile { border: 1px solid #ccc; border-radius: 6px; padding: .6rem .9rem; min-width: 10rem; flex: 1; }
.tile .value { font-size: 1.6rem; font-weight: 600; } .tile .verdict { font-weight: 600; }
.beyond { color: #D55E00; } .small { font-size: .85rem; color: #555; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
"""
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def inline_svg(svg: str) -> str:
    """An SVG for inlining in HTML5, whose parser puts <svg> in the SVG namespace by itself: the xmlns
    declarations go, so that the report holds no URL at all."""
    return _XMLNS.sub("", svg)


def _esc(value: object) -> str:
    return "" if words.missing(value) else html.escape(str(value), quote=True)


def _table(frame: pd.DataFrame, empty: str) -> str:
    if frame.empty:
        return f"<p>{_esc(empty)}</p>"
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def scope_text(filters: Filters) -> str:
    """The sidebar filters in words, for the report's header."""
    def some(values: tuple[str, ...], everything: str) -> str:
        return ", ".join(values) if values else everything
    return (f"Markets: {some(filters.markets, 'all')}. Policies: {some(filters.policies, 'all')}. "
            f"Cohorts: {some(filters.cohorts, 'all')}. Projects: {some(filters.projects, 'all')}.")


def _tile(t: Tile, presenting: bool) -> str:
    if privacy.too_few(t.people, presenting=presenting):
        return (f'<div class="tile"><div>{_esc(t.name)}</div><div class="value">hidden</div>'
                f'<div class="small">{_esc(privacy.HIDDEN)}</div></div>')
    return (f'<div class="tile"><div>{_esc(t.name)}</div><div class="value">{_esc(words.tile_value(t))}</div>'
            f"<div>{_esc(words.tile_delta(t) or 'no change to compare')} against last week</div>"
            f'<div class="verdict{" beyond" if t.beyond_limits else ""}">{_esc(words.tile_verdict(t))}</div>'
            f'<div class="small">{_esc(words.tile_detail(t))}</div></div>')


WEAK_SPOT_WEEKS = 12  # the weak spots' window, ending with the reported week
WEAK_SPOT_MIN_REVIEWS = 30  # as the Weak spots page's default
COACHING_MIN_REVIEWS = 50  # as the coaching list's default on the Trainee explorer


@dataclass(frozen=True)
class WeekSummary:
    """Everything the Overview and the weekly report show for one ISO week, measured once: the same figures
    on screen, in the HTML report, in its CSVs and in the alerts. Presenter rules are already applied when
    `presenting` (small sessions' effects blanked, cells about fewer than 5 people left out)."""

    filters: Filters
    option: WeekOption
    measure: Source  # the measure the week leads with: the one with the most reviews that week
    impact: WeeklyImpact
    chart: pd.DataFrame  # metrics.weekly.p_chart of the lead measure
    effects: pd.DataFrame  # metrics.weekly.week_training_effects
    sessions: pd.DataFrame  # metrics.tables.week_sessions, presenter rule applied
    weak: pd.DataFrame  # metrics.weak_spots over WEAK_SPOT_WEEKS, presenter rule applied
    coaching: pd.DataFrame  # metrics.trainee.coaching_list
    presenting: bool
    events: pd.DataFrame  # metrics.training.events over the chart's weeks, marked on it

    @property
    def start(self) -> dt.date:
        return self.option.start

    @property
    def end(self) -> dt.date:
        return self.option.start + dt.timedelta(days=6)

    @property
    def measure_name(self) -> str:
        return words.MEASURE_NAMES[self.measure]

    @property
    def needing(self) -> int:
        return int(self.coaching["needs_coaching"].sum()) if not self.coaching.empty else 0


def summarise_week(
    con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date, *,
    visible_markets: tuple[str, ...] = (), presenting: bool = False,
) -> WeekSummary | None:
    """The ISO week holding `week_start` under the filters (None when it has no reviews): its tiles, the
    lead measure's control chart, the sessions' effects, the weak spots of the 12 weeks to it (compared
    with every market the person may see) and the coaching list."""
    monday = iso_week_start(week_start)
    option = next((o for o in week_options(con, filters) if o.start == monday), None)
    if option is None:
        return None
    end = monday + dt.timedelta(days=6)
    lead: Source = lead_measure(con, filters.with_(start=monday, end=end)) or "qa_audit"
    window = filters.with_(start=max(filters.start or dt.date.min, monday - dt.timedelta(weeks=WEAK_SPOT_WEEKS - 1)),
                           end=end, source=lead)
    weak = weak_spots(con, window, min_reviewed=WEAK_SPOT_MIN_REVIEWS, visible_markets=visible_markets)
    chart = p_chart(con, filters, monday, lead)
    marked = (events(con, filters.with_(start=pd.Timestamp(chart["week"].min()).date(), end=end))
              if not chart.empty else pd.DataFrame(columns=EVENT_COLUMNS))
    return assemble(filters, option, lead, weekly_impact(con, filters, monday), chart,
                    week_training_effects(con, filters, monday), weak,
                    coaching_list(con, filters, min_reviewed=COACHING_MIN_REVIEWS), presenting=presenting,
                    events=marked)


def assemble(
    filters: Filters, option: WeekOption, measure: Source, impact: WeeklyImpact, chart: pd.DataFrame,
    effects: pd.DataFrame, weak: pd.DataFrame, coaching: pd.DataFrame, *, presenting: bool,
    events: pd.DataFrame | None = None,
) -> WeekSummary:
    """A week's summary from its measures, with the presenter rule applied once for every surface: a small
    session's effect blanked, a weak-spot cell about fewer than 5 people left out."""
    sessions = privacy.blank_small(tables.week_sessions(impact, effects), "attendees", tables.WEEK_EFFECT_COLUMNS,
                                   presenting=presenting)
    kept = privacy.keep_groups(weak, "trainees", presenting=presenting).frame if not weak.empty else weak
    marked = events if events is not None else pd.DataFrame(columns=EVENT_COLUMNS)
    return WeekSummary(filters, option, measure, impact, chart, effects, sessions, kept, coaching, presenting, marked)


def report_tables(week: WeekSummary) -> dict[str, pd.DataFrame]:
    """The report's tables, for the CSV zip."""
    return {"tiles": tables.tiles_frame(week.impact), "p_chart": week.chart, "trainings": week.sessions,
            "weak_spots": tables.top_weak_spots(week.weak)}


def weekly_report_html(week: WeekSummary, *, p_chart_svg: str | None, generated: dt.datetime | None = None) -> str:
    """The week's report as one HTML document: tiles with their intervals and verdicts, the control chart
    as inline SVG, the week's trainings with their effects, the top weak spots and the coaching count. No
    scripts and no network references; every data value is escaped; names no one; while presenting, no
    figure about fewer than 5 people."""
    impact, measure, presenting = week.impact, week.measure_name, week.presenting
    span = f"{week.start:%Y-%m-%d} to {week.end:%Y-%m-%d}"
    iso = week.start.isocalendar()
    tiles = "".join(_tile(t, presenting) for t in impact.tiles)
    partial = ("" if week.option.complete else
               f"<p><b>A partial week:</b> the data runs to {_esc(f'{week.option.data_until:%a %d %b %Y}')}.</p>")
    chart = (f"<figure>{inline_svg(p_chart_svg)}</figure>" if p_chart_svg
             else f"<p>No {_esc(measure)} reviews in the weeks before this one to set control limits.</p>")
    caveats = "".join(f"<li>{_esc(c)}</li>" for c in tables.week_caveats(impact, week.effects, week.sessions))
    weak = tables.top_weak_spots(week.weak)
    weak_verdict = tables.weak_spot_verdict(week.weak, measure, WEAK_SPOT_MIN_REVIEWS)
    coaching = (f"{week.needing:,} of {len(week.coaching):,} trainees with enough reviews are below their "
                "market once luck is taken out (the upper end of their 95% interval is under the market's rate).")
    stamp = generated or dt.datetime.now()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Uplift weekly report, {_esc(span)}</title>
<style>{_CSS}</style></head>
<body>
<h1>Uplift weekly report: ISO week {iso.week}, {_esc(span)}</h1>
<p class="small">{_esc(scope_text(week.filters))} Made {_esc(f"{stamp:%Y-%m-%d %H:%M}")}.
{"Presenter mode: no names, small groups hidden." if presenting else ""}</p>
<h2>This week against last week</h2>
{partial}
<p class="small">A change counts only when the week falls beyond the control limits (3 sigma around
{_esc(words.control_window())}, at this week's number of reviews); otherwise it is within normal variation.</p>
<div class="tiles">{tiles}</div>
<h2>Weekly {_esc(measure)} against its control limits</h2>
{chart}
<h2>Trainings this week</h2>
<p class="small">Each effect is against colleagues who did not attend, or adjusted for where each trainee
started when that is how attendees were chosen, over the 14 days after the session.</p>
{_table(week.sessions, "No trainings were delivered this week.")}
{f'<ul class="small">{caveats}</ul>' if caveats else ""}
<h2>Top weak spots</h2>
<p class="small">Market x policy cells below the same policy in other markets on {_esc(measure)}, flagged
after Benjamini-Hochberg at 5% with at least {WEAK_SPOT_MIN_REVIEWS} reviews.</p>
<p>{_esc(weak_verdict)}</p>
{_table(weak, "") if not weak.empty else ""}
<h2>Coaching</h2>
<p>{_esc(coaching)}</p>
</body></html>
"""


def csv_zip(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """A zip with one formula-safe CSV per table (`name.csv`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in tables.items():
            archive.writestr(f"{name}.csv", safe_csv(frame))
    return buffer.getvalue()
