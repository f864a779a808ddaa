"""What the shared filters can offer: the markets, policies, cohorts, projects and dates in the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class FilterOptions:
    markets: tuple[str, ...]
    policies: tuple[str, ...]
    cohorts: tuple[str, ...]
    projects: tuple[str, ...]
    first_date: dt.date | None
    last_date: dt.date | None


def filter_options(con: duckdb.DuckDBPyConnection) -> FilterOptions:
    """Distinct values for the sidebar, from the rollups and the roster (small tables)."""

    def values(sql: str) -> tuple[str, ...]:
        return tuple(str(r[0]) for r in con.execute(sql).fetchall() if r[0] is not None)

    # Markets, policies and projects from the all-dates rollup `decision_totals`: the same values as the
    # daily rollup's, in 0.39M rows instead of 6.9M at 10M decisions.
    markets = values(
        "SELECT market FROM decision_totals UNION SELECT market FROM trainees ORDER BY 1"
    )
    policies = values(
        "SELECT policy FROM decision_totals UNION SELECT policy FROM trainings WHERE policy IS NOT NULL ORDER BY 1"
    )
    cohorts = values("SELECT DISTINCT cohort FROM trainees WHERE cohort IS NOT NULL ORDER BY 1")
    projects = values(
        "SELECT project FROM decision_totals WHERE project IS NOT NULL UNION SELECT project FROM trainees "
        "WHERE project IS NOT NULL ORDER BY 1"
    )
    # The range spans every dataset with dates, so that no calibration round or test is out of reach.
    spans = " UNION ALL ".join(f"SELECT min(date) AS d FROM {t} UNION ALL SELECT max(date) FROM {t}"
                               for t in ("decision_daily", "trainings", "assessments", "calibration"))
    row = con.execute(f"SELECT min(d), max(d) FROM ({spans})").fetchone()
    first, last = (row[0], row[1]) if row else (None, None)
    return FilterOptions(markets, policies, cohorts, projects, first, last)
