"""The rows behind a figure: every reviewed decision a rate, a cell or a week was counted from, so a number
can be traced back to what it is made of. Item-level decisions are listed; pre-aggregated counts
(decision_counts) are reported as how many reviews they add, since they have no rows to show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from metrics.filters import COHORT_SQL, RESOLVED_DECISIONS, Filters, where

ROW_COLUMNS = ["date", "trainee_id", "market", "project", "policy", "source", "correct", "given_label",
               "expected_label", "error_type", "item_id", "reviewer_id", "decision_id"]

@dataclass(frozen=True)
class Rows:
    """Up to `limit` of the decisions behind a figure (newest first), and how many there are in all."""

    frame: pd.DataFrame = field(repr=False)  # ROW_COLUMNS
    total: int  # item-level decisions behind the figure
    people: int  # distinct trainees among them
    counted: int  # reviews that came as pre-aggregated counts (no rows to list)
    in_folder: int = 0  # reviews summed up in the rollup folder in use (their raw rows are in its input files)

    @property
    def shown(self) -> int:
        return len(self.frame)


def decisions_behind(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, trainee_id: str | None = None,
    week: dt.date | None = None, limit: int = 2000,
) -> Rows:
    """Which decisions is this figure made of? Those under the filters (dates, markets, policies, projects,
    cohorts, source), of one trainee and one ISO week (from its Monday) when given."""
    if week is not None:
        filters = filters.with_(start=week, end=week + dt.timedelta(days=6))
    person: list[object] = [trainee_id] if trainee_id is not None else []
    w = where(filters, alias="r", trainee_alias="r")
    one = "AND r.trainee_id = ?" if person else ""
    head = con.execute(
        f"""WITH r AS ({RESOLVED_DECISIONS})
            SELECT count(*), count(DISTINCT r.trainee_id) FROM r WHERE {w.sql} {one}""", [*w.params, *person],
    ).fetchone()
    frame = con.execute(
        f"""WITH r AS ({RESOLVED_DECISIONS})
            SELECT {", ".join(f"r.{c}" for c in ROW_COLUMNS)} FROM r WHERE {w.sql} {one}
            ORDER BY r.date DESC, r.trainee_id, r.decision_id LIMIT ?""", [*w.params, *person, limit],
    ).df()
    return Rows(frame[ROW_COLUMNS] if not frame.empty else pd.DataFrame(columns=ROW_COLUMNS),
                int(head[0]) if head else 0, int(head[1]) if head else 0,
                _reviews(con, _COUNTS, filters, trainee_id), _reviews(con, _FOLDER, filters, trainee_id))


# Reviews that have no rows to list, as `c` with the columns where() filters on: pre-aggregated counts (they
# take their trainee's market and project, as in the rollup), and the rollup folder in use (`uplift import
# DIR`; none without one).
_COUNTS = f"""SELECT dc.trainee_id, dc.date, dc.policy, dc.source, dc.reviewed, t.market, t.project,
                     {COHORT_SQL} AS cohort
              FROM decision_counts dc LEFT JOIN trainees t USING (trainee_id)"""
_FOLDER = f"""SELECT l.trainee_id, l.date, l.policy, l.source, l.reviewed, l.market, l.project, {COHORT_SQL} AS cohort
              FROM lake_decision_daily l LEFT JOIN trainees t USING (trainee_id)
              WHERE l.import_id = (SELECT max(import_id) FROM rollup_manifests)"""


def _reviews(con: duckdb.DuckDBPyConnection, source: str, filters: Filters, trainee_id: str | None) -> int:
    """Reviews under the filters (of one trainee when given) in `source`, one of the relations above."""
    c = where(filters, alias="c", trainee_alias="c")
    person = "AND c.trainee_id = ?" if trainee_id is not None else ""
    row = con.execute(f"WITH c AS ({source}) SELECT coalesce(sum(c.reviewed), 0) FROM c WHERE {c.sql} {person}",
                      [*c.params, *([trainee_id] if trainee_id is not None else [])]).fetchone()
    return int(row[0]) if row else 0
