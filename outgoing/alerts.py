"""Alerts a scheduler can send on: the week's figures beyond their control limits, and weak spots flagged
since the last run, read from the same week summary the Overview and the weekly report show. Remembering
what was already sent is the caller's (cli's `uplift alerts` keeps it in the store)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from metrics import words
from metrics.filters import Filters
from outgoing.weekly_report import summarise_week


@dataclass(frozen=True)
class Alert:
    kind: str  # "beyond_limits" or "new_weak_spot"
    key: str  # what it is about, stable from run to run ("Quality", "VN|Hate Speech")
    text: str  # one line for a message


def week_alerts(con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date,
                *, visible_markets: tuple[str, ...] = ()) -> list[Alert]:
    """The rate tiles of the ISO week that fall beyond their control limits (never one too small to judge),
    and every weak spot flagged over the 12 weeks to it, on the week's lead measure: the Overview's figures."""
    week = summarise_week(con, filters, week_start, visible_markets=visible_markets)
    if week is None:
        return []
    iso = week.start.isocalendar()
    label = f"{iso.year}-W{iso.week:02d}"
    alerts = [
        Alert("beyond_limits", t.name,
              f"{label}: {t.name} {words.tile_value(t)} is beyond its control limits "
              f"({words.pct(t.limits.lower)}–{words.pct(t.limits.upper)}, {words.control_window()}; n={t.n:,})")
        for t in week.impact.tiles if t.is_rate and t.beyond_limits and t.limits is not None
    ]
    for row in week.weak[week.weak["flagged"]].itertuples():
        alerts.append(Alert("new_weak_spot", f"{week.measure}|{row.market}|{row.policy}",
                            f"{label}: weak spot {row.market} x {row.policy}, {week.measure_name} "
                            f"{words.rate_text(row.rate, row.low, row.high, row.reviewed)} against "
                            f"{words.pct(row.policy_level)} in other markets"))
    return alerts


def new_since(alerts: list[Alert], known_weak_spots: set[str]) -> list[Alert]:
    """The alerts to send: every figure beyond its limits, and only the weak spots not flagged last time."""
    return [a for a in alerts if a.kind != "new_weak_spot" or a.key not in known_weak_spots]
