"""Rollup tables that measures read instead of raw rows, kept in step by every import and undo."""

from __future__ import annotations

import duckdb

# One row per trainee x day x policy x source with market and project resolved: a decision without a
# market or project takes its trainee's; `decision_counts` rows feed the same measures as item-level rows.
_DECISION_DAILY = """
    INSERT INTO decision_daily
    WITH unioned AS (
        SELECT trainee_id, date, policy, source, market, project, 1 AS reviewed, correct::INTEGER AS correct
        FROM decisions
        UNION ALL
        SELECT trainee_id, date, policy, source, NULL, NULL, reviewed, correct
        FROM decision_counts
    )
    SELECT u.trainee_id, u.date, u.policy, u.source,
           coalesce(u.market, t.market, 'Unknown') AS market,
           coalesce(u.project, t.project) AS project,
           sum(u.reviewed) AS reviewed, sum(u.correct) AS correct
    FROM unioned u LEFT JOIN trainees t USING (trainee_id)
    GROUP BY ALL
    ORDER BY u.date, u.policy
"""

AFFECTS_ROLLUP = frozenset({"decisions", "decision_counts", "trainees"})


def rebuild_decision_daily(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute `decision_daily` from scratch (inside the caller's transaction)."""
    con.execute("DELETE FROM decision_daily")
    con.execute(_DECISION_DAILY)
