"""Alerts a scheduler can send on: the week's figures beyond their control limits, and weak spots flagged
since the last run. Pure measures over the store; remembering what was already flagged is the caller's
(cli's `uplift alerts` keeps it in the store)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from metrics import words
from metrics.filters import Filters
from metrics.rates import lead_measure
from metrics.weak_spots import weak_spots
from metrics.weekly import iso_week_start, weekly_impact

WEAK_SPOT_WEEKS = 12  # as the Overview: the weak spots of the 12 weeks to the reported one


@dataclass(frozen=True)
class Alert:
    kind: str  # "beyond_limits" or "new_weak_spot"
    key: str  # what it is about, stable from run to run ("Quality", "VN|Hate Speech")
    text: str  # one line for a message


def week_alerts(con: duckdb.DuckDBPyConnection, filters: Filters, week_start: dt.date,
                *, visible_markets: tuple[str, ...] = ()) -> list[Alert]:
    """The rate tiles of the ISO week that fall beyond their control limits (never one too small to judge),
    and every weak spot flagged over the 12 weeks to it, on the measure with the most reviews."""
    monday = iso_week_start(week_start)
    impact = weekly_impact(con, filters, monday)
    iso = monday.isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    alerts = [
        Alert("beyond_limits", t.name,
              f"{week}: {t.name} {words.tile_value(t)} is beyond its control limits "
              f"({words.pct(t.limits.lower)}–{words.pct(t.limits.upper)}, {words.control_window()}; n={t.n:,})")
        for t in impact.tiles if t.is_rate and t.beyond_limits and t.limits is not None
    ]
    end = monday + dt.timedelta(days=6)
    window = filters.with_(start=monday - dt.timedelta(weeks=WEAK_SPOT_WEEKS - 1), end=end)
    source = lead_measure(con, window)
    if source is None:
        return alerts
    spots = weak_spots(con, window.with_(source=source), visible_markets=visible_markets)
    measure = "quality" if source == "qa_audit" else "accuracy"
    for row in spots[spots["flagged"]].itertuples():
        alerts.append(Alert("new_weak_spot", f"{source}|{row.market}|{row.policy}",
                            f"{week}: weak spot {row.market} x {row.policy}, {measure} "
                            f"{words.rate_text(row.rate, row.low, row.high, row.reviewed)} against "
                            f"{words.pct(row.policy_level)} in other markets"))
    return alerts


def new_since(alerts: list[Alert], known_weak_spots: set[str]) -> list[Alert]:
    """The alerts to send: every figure beyond its limits, and only the weak spots not flagged last time."""
    return [a for a in alerts if a.kind != "new_weak_spot" or a.key not in known_weak_spots]
