"""The weekly report as one self-contained HTML file (inline SVG, no scripts, no network), its tables as
CSV, and the words used on the pages for a figure with its uncertainty.

Everything that comes from the data is escaped with `html.escape` before it goes into the HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
import zipfile
from collections.abc import Mapping

import pandas as pd

from metrics.filters import Filters
from metrics.weekly import Tile, WeeklyImpact
from outgoing.safe_csv import safe_csv
from ui.presenter import MIN_GROUP

TOP_WEAK_SPOTS = 5


# ----------------------------------------------------------------------------------- figures in words

def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))  # type: ignore[call-overload]


def pct(x: object, digits: int = 1) -> str:
    """0.8421 -> '84.2%'; a missing value -> '—'."""
    return "—" if _missing(x) else f"{float(x) * 100:.{digits}f}%"  # type: ignore[arg-type]


def rate_text(rate: object, low: object, high: object, n: object) -> str:
    """'84.2% (95% CI 82.9–85.4%, n=2,310)'; 'no reviews' when n is 0."""
    if _missing(n) or int(n) == 0 or _missing(rate):  # type: ignore[call-overload]
        return "no reviews"
    return f"{pct(rate)} (95% CI {float(low) * 100:.1f}–{pct(high)}, n={int(n):,})"  # type: ignore[arg-type,call-overload]


def points(x: object, digits: int = 1) -> str:
    """A change in proportion points: 0.031 -> '+3.1 points'."""
    return "—" if _missing(x) else f"{float(x) * 100:+.{digits}f} points"  # type: ignore[arg-type]


def ci_points(low: object, high: object) -> str:
    """'95% CI +1.2 to +5.0' (proportion points); 'no interval' when either end is missing."""
    if _missing(low) or _missing(high):
        return "no interval"
    return f"95% CI {float(low) * 100:+.1f} to {float(high) * 100:+.1f}"  # type: ignore[arg-type]


def interval_points(estimate: object, low: object, high: object) -> str:
    """'+3.1 points (95% CI +1.2 to +5.0)'."""
    if _missing(estimate):
        return "not enough data"
    if _missing(low) or _missing(high):
        return points(estimate)
    return f"{points(estimate)} ({ci_points(low, high)})"


def excludes_zero(low: object, high: object) -> bool:
    return not (_missing(low) or _missing(high)) and (float(low) > 0 or float(high) < 0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- weekly tiles

def tile_value(tile: Tile) -> str:
    if tile.is_rate:
        return pct(tile.value) if tile.n else "no data"
    return f"{tile.n:,}"


def tile_delta(tile: Tile) -> str | None:
    """The change against last week, or None when there is nothing to compare."""
    if _missing(tile.change):
        return None
    return points(tile.change) if tile.is_rate else f"{tile.change:+,.0f}"


def tile_verdict(tile: Tile) -> str:
    """Whether a rate's week is more than noise, by the p-chart limits of the 8 weeks before."""
    if not tile.is_rate:
        return "count, against last week"
    if tile.n == 0:
        return "no data this week"
    if tile.beyond_limits is None:
        return "no baseline yet"
    return "beyond control limits" if tile.beyond_limits else "within normal variation"


def tile_detail(tile: Tile) -> str:
    """The counts and intervals behind a tile, for its help text and the report."""
    if not tile.is_rate:
        return f"{tile.n:,} this week, {int(tile.previous):,} last week."
    parts = [f"This week {rate_text(tile.value, tile.low, tile.high, tile.n)}.",
             f"Last week {pct(tile.previous)}."]
    if not _missing(tile.center):
        parts.append(f"Control limits for this week's n: {pct(tile.lcl)}–{pct(tile.ucl)} "
                     f"(centre {pct(tile.center)}, the 8 weeks before).")
    if not _missing(tile.p_value):
        parts.append(f"Change against last week: p = {tile.p_value:.3f}.")
    return " ".join(parts)


def tiles_frame(impact: WeeklyImpact) -> pd.DataFrame:
    """One row per tile, with its counts, interval, change and verdict."""
    rows = [{
        "figure": t.name, "value": tile_value(t), "n": t.n, "low": t.low, "high": t.high,
        "last_week": t.previous, "change": t.change, "verdict": tile_verdict(t), "center": t.center,
        "lcl": t.lcl, "ucl": t.ucl, "p_value": t.p_value,
    } for t in impact.tiles]  # fmt: skip
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ the week's trainings

def effect_text(row: Mapping[str, object], presenting: bool = False) -> str:
    """The measured effect of one session from a `week_training_effects` row, in a trainer's words."""
    attendees = row.get("attendees", row.get("n_attendees"))
    if presenting and not _missing(attendees) and int(attendees) < MIN_GROUP:  # type: ignore[call-overload]
        return f"hidden while presenting: fewer than {MIN_GROUP} people"
    if not bool(row.get("enough_data")):
        return "not enough data yet"
    text = interval_points(row.get("estimate"), row.get("low"), row.get("high"))
    measure = {"qa_audit": " of quality", "golden_set": " of accuracy"}.get(str(row.get("source")), "")
    text = text.replace(" points", f" points{measure}", 1)
    text += f" against non-attendees (n={int(row['n_attendees']):,} attended, {int(row['n_comparison']):,} compared)"  # type: ignore[call-overload]
    if not bool(row.get("window_closed")):
        text += "; the after-window is still open, so this may move"
    return text


def trainings_frame(impact: WeeklyImpact, effects: pd.DataFrame | None, presenting: bool = False) -> pd.DataFrame:
    """The week's sessions with their attendance and measured effect so far."""
    table = impact.trainings.copy()
    if table.empty:
        return pd.DataFrame(columns=["date", "title", "kind", "policy", "attendees", "effect", "caveats"])
    measured = effects.set_index("training_id") if effects is not None and not effects.empty else None
    texts, caveats = [], []
    for row in table.to_dict("records"):
        if measured is None or row["training_id"] not in measured.index:
            texts.append("not measured")
            caveats.append("")
            continue
        effect = {**measured.loc[row["training_id"]].to_dict(), "attendees": row["attendees"]}
        texts.append(effect_text(effect, presenting))
        caveats.append(str(effect.get("warnings") or ""))
    table["effect"], table["caveats"] = texts, caveats
    table["date"] = pd.to_datetime(table["date"]).dt.date
    return table[["date", "title", "kind", "policy", "attendees", "effect", "caveats"]]


# --------------------------------------------------------------------------------------- weak spots

def top_weak_spots(weak: pd.DataFrame, top: int = TOP_WEAK_SPOTS) -> pd.DataFrame:
    """The first `top` flagged cells of `weak_spots`, as words and numbers."""
    flagged = weak[weak["flagged"].astype(bool)].head(top) if not weak.empty else weak
    cols = ["market", "policy", "accuracy", "other markets", "gap (shrunk)", "avoidable errors", "q value"]
    if flagged.empty:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "market": flagged["market"],
        "policy": flagged["policy"],
        "accuracy": [rate_text(r, lo, hi, n) for r, lo, hi, n in
                     zip(flagged["rate"], flagged["low"], flagged["high"], flagged["reviewed"], strict=True)],
        "other markets": [pct(x) for x in flagged["policy_level"]],
        "gap (shrunk)": [points(x) for x in flagged["gap"]],
        "avoidable errors": flagged["avoidable_errors"].round().astype("int64"),
        "q value": flagged["q_value"].round(4),
    }).reset_index(drop=True)  # fmt: skip


# ----------------------------------------------------------------------------------------- the HTML

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
    return "" if _missing(value) else html.escape(str(value), quote=True)


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


def weekly_report_html(
    impact: WeeklyImpact,
    *,
    filters: Filters,
    p_chart_svg: str | None,
    effects: pd.DataFrame | None,
    weak_spots: pd.DataFrame,
    needs_coaching: int,
    coaching_assessed: int,
    presenting: bool = False,
    generated: dt.datetime | None = None,
) -> str:
    """The week's report as one HTML document: tiles with their intervals and verdicts, the p-chart as
    inline SVG, the week's trainings with their effects, the top weak spots and the coaching count.
    No scripts and no network references; every data value is escaped. Presenter-safe when
    `presenting` (it names no one in any case; sessions with fewer than 5 people lose their effect)."""
    week = f"{impact.week_start:%Y-%m-%d} to {impact.week_end:%Y-%m-%d}"
    iso = impact.week_start.isocalendar()
    tiles = "".join(
        f'<div class="tile"><div>{_esc(t.name)}</div><div class="value">{_esc(tile_value(t))}</div>'
        f"<div>{_esc(tile_delta(t) or 'no change to compare')} against last week</div>"
        f'<div class="verdict{" beyond" if t.beyond_limits else ""}">{_esc(tile_verdict(t))}</div>'
        f'<div class="small">{_esc(tile_detail(t))}</div></div>'
        for t in impact.tiles
    )
    chart = (f"<figure>{inline_svg(p_chart_svg)}</figure>" if p_chart_svg
             else "<p>No weekly accuracy to chart.</p>")
    trainings = trainings_frame(impact, effects, presenting)
    weak = top_weak_spots(weak_spots)
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
<p class="small">A change counts only when the week falls beyond the p-chart's control limits (3 sigma
around the 8 weeks before, at this week's number of reviews); otherwise it is within normal variation.</p>
<div class="tiles">{tiles}</div>
<h2>Weekly accuracy (p-chart)</h2>
{chart}
<h2>Trainings this week</h2>
{_table(trainings, "No trainings were delivered this week.")}
<h2>Top weak spots</h2>
<p class="small">Market x policy cells below the same policy in other markets, flagged after
Benjamini-Hochberg at 5% with enough reviews.</p>
{_table(weak, "No weak spot is flagged for this period.")}
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
