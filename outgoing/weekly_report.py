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

import pandas as pd

from access import privacy
from metrics import tables, words
from metrics.filters import Filters
from metrics.weekly import Tile, WeeklyImpact
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


def weekly_report_html(
    impact: WeeklyImpact,
    *,
    filters: Filters,
    p_chart_svg: str | None,
    effects: pd.DataFrame | None,
    weak_spots: pd.DataFrame,
    needs_coaching: int,
    coaching_assessed: int,
    measure: str = "accuracy",
    min_reviewed: int = 30,
    partial_until: dt.date | None = None,
    presenting: bool = False,
    generated: dt.datetime | None = None,
) -> str:
    """The week's report as one HTML document: tiles with their intervals and verdicts, the p-chart as
    inline SVG, the week's trainings with their effects, the top weak spots and the coaching count.
    No scripts and no network references; every data value is escaped. Presenter-safe when
    `presenting` (it names no one in any case; no figure about fewer than 5 people). `measure` is the
    measure the Overview leads with (its chart and weak spots); `partial_until` the last day with data
    when the week is not complete."""
    week = f"{impact.week_start:%Y-%m-%d} to {impact.week_end:%Y-%m-%d}"
    iso = impact.week_start.isocalendar()
    tiles = "".join(_tile(t, presenting) for t in impact.tiles)
    partial = (f"<p><b>A partial week:</b> the data runs to {_esc(f'{partial_until:%a %d %b %Y}')}.</p>"
               if partial_until else "")
    chart = (f"<figure>{inline_svg(p_chart_svg)}</figure>" if p_chart_svg
             else f"<p>No {_esc(measure)} reviews in the weeks before this one to set control limits.</p>")
    trainings = privacy.blank_small(tables.week_sessions(impact, effects), "attendees", tables.WEEK_EFFECT_COLUMNS,
                                    presenting=presenting)
    if presenting and not weak_spots.empty:
        weak_spots = privacy.keep_groups(weak_spots, "trainees", presenting=True).frame
    caveats = "".join(f"<li>{_esc(c)}</li>" for c in tables.week_caveats(impact, effects, trainings))
    weak = tables.top_weak_spots(weak_spots)
    weak_verdict = tables.weak_spot_verdict(weak_spots, measure, min_reviewed)
    coaching = (f"{needs_coaching:,} of {coaching_assessed:,} trainees with enough reviews are below their "
                "market once luck is taken out (the upper end of their 95% interval is under the market's rate).")
    stamp = generated or dt.datetime.now()
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Uplift weekly report, {_esc(week)}</title>
<style>{_CSS}</style></head>
<body>
<h1>Uplift weekly report: ISO week {iso.week}, {_esc(week)}</h1>
<p class="small">{_esc(scope_text(filters))} Made {_esc(f"{stamp:%Y-%m-%d %H:%M}")}.
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
{_table(trainings, "No trainings were delivered this week.")}
{f'<ul class="small">{caveats}</ul>' if caveats else ""}
<h2>Top weak spots</h2>
<p class="small">Market x policy cells below the same policy in other markets on {_esc(measure)}, flagged
after Benjamini-Hochberg at 5% with at least {min_reviewed} reviews.</p>
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
