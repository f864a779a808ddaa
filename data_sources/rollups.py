"""Rollup tables that measures read instead of raw rows: one definition each, run in two places.

- In the store, by every import and undo (`rebuild_decision_daily`), over the store's tables.
- By `uplift rollup` (data_sources/rollup_job.py) on DuckDB or Spark, over a lakehouse's raw decisions;
  `uplift import DIR` then loads its output (data_sources/rollup_import.py) into the `lake_*` tables,
  and the rebuild adds the live manifest's rows to what the store's own raw rows give.

Each definition is one SELECT in the common subset of DuckDB and Spark SQL (checked by
tests/data_sources/test_rollup_engines.py, which runs both engines and compares their output row for
row). The subset has traps: a DuckDB `SUM` of integers is HUGEINT, which lands in Parquet as DOUBLE, so
every measure is cast to BIGINT; `datediff` takes its arguments in a different order in each engine, so
days between two dates are `CAST(a - b AS INTEGER)`; `lower()` and `trim()` differ on a few Unicode
characters, so the definitions use neither. Relations are named by placeholders ({decisions} ...) filled
only from the fixed names below, never from user values.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

# What each placeholder names: the store's tables (the job registers views of the same names).
RELATIONS = ("decisions", "decision_counts", "trainees", "decision_daily")


@dataclass(frozen=True)
class Rollup:
    """One rollup: its table, columns (keys, then the measures summed) and its definition."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (column, SQL type) in table order
    measures: tuple[str, ...]  # the summed columns, last in `columns`
    query: str  # a SELECT over the RELATIONS placeholders, in the common subset of DuckDB and Spark SQL
    by_month: bool  # has a `date`: a rollup folder partitions it by month
    order: str  # the store keeps rows in this order, so that filtered reads skip row groups

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c for c, _t in self.columns if c not in self.measures)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _t in self.columns)

    def sql(self, **relations: str) -> str:
        """The definition over the given relations (default: the relations' own names)."""
        names = {r: relations.get(r, r) for r in RELATIONS}
        assert all(n.isidentifier() for n in names.values()), "relations are fixed identifiers"
        return self.query.format(**names)


# One row per trainee x day x policy x source with market and project resolved: a decision without a
# market or project takes its trainee's; `decision_counts` rows feed the same measures as item-level rows.
DAILY = Rollup(
    name="decision_daily",
    columns=(("trainee_id", "VARCHAR"), ("date", "DATE"), ("policy", "VARCHAR"), ("source", "VARCHAR"),
             ("market", "VARCHAR"), ("project", "VARCHAR"), ("reviewed", "BIGINT"), ("correct", "BIGINT")),
    measures=("reviewed", "correct"),
    query="""
    SELECT u.trainee_id, u.date, u.policy, u.source,
           coalesce(u.market, t.market, 'Unknown') AS market,
           coalesce(u.project, t.project) AS project,
           CAST(sum(u.reviewed) AS BIGINT) AS reviewed, CAST(sum(u.correct) AS BIGINT) AS correct
    FROM (
        SELECT trainee_id, date, policy, source, market, project, 1 AS reviewed,
               CAST(correct AS INTEGER) AS correct
        FROM {decisions}
        UNION ALL
        SELECT trainee_id, date, policy, source, NULL, NULL, reviewed, correct
        FROM {decision_counts}
    ) u LEFT JOIN {trainees} t ON t.trainee_id = u.trainee_id
    GROUP BY ALL""",
    by_month=True,
    order="date, policy",
)

# One row per trainee x tenure week x source x market, from the daily rollup and the roster's start dates
# (tenure week = floor((date - start_date) / 7); days before the start and trainees without a start date
# are left out). The learning measures read it when the filters restrict neither dates nor policies
# nor projects: 0.85M rows against decision_daily's 6.9M at 10M decisions.
TENURE = Rollup(
    name="decision_tenure",
    columns=(("trainee_id", "VARCHAR"), ("week", "INTEGER"), ("source", "VARCHAR"), ("market", "VARCHAR"),
             ("reviewed", "BIGINT"), ("correct", "BIGINT")),
    measures=("reviewed", "correct"),
    query="""
    SELECT d.trainee_id, CAST(floor(CAST(d.date - t.start_date AS INTEGER) / 7) AS INTEGER) AS week,
           d.source, d.market,
           CAST(sum(d.reviewed) AS BIGINT) AS reviewed, CAST(sum(d.correct) AS BIGINT) AS correct
    FROM {decision_daily} d JOIN {trainees} t ON t.trainee_id = d.trainee_id
    WHERE t.start_date IS NOT NULL AND d.date >= t.start_date
    GROUP BY ALL""",
    by_month=False,
    order="trainee_id, week",
)

# One row per trainee x policy x source x market x project over all dates, from the daily rollup: what
# the coaching list reads when the filters do not restrict dates (0.39M rows against 6.9M at 10M decisions).
TOTALS = Rollup(
    name="decision_totals",
    columns=(("trainee_id", "VARCHAR"), ("policy", "VARCHAR"), ("source", "VARCHAR"), ("market", "VARCHAR"),
             ("project", "VARCHAR"), ("reviewed", "BIGINT"), ("correct", "BIGINT")),
    measures=("reviewed", "correct"),
    query="""
    SELECT trainee_id, policy, source, market, project,
           CAST(sum(reviewed) AS BIGINT) AS reviewed, CAST(sum(correct) AS BIGINT) AS correct
    FROM {decision_daily}
    GROUP BY ALL""",
    by_month=False,
    order="trainee_id, policy",
)

# Wrong decisions that carry labels or an error type, by day x market x policy x source x project x cohort
# x expected label x given label x error type: what a weak spot's confusions and error types read, with
# the keys the sidebar filters on (dates, market, policy, project, cohort, source). Market and project
# are resolved as in the daily rollup; the cohort is the roster's, else the month the trainee started
# (metrics.filters.COHORT_SQL, written here in the subset both engines read alike).
CONFUSIONS = Rollup(
    name="decision_confusions",
    columns=(("date", "DATE"), ("market", "VARCHAR"), ("policy", "VARCHAR"), ("source", "VARCHAR"),
             ("project", "VARCHAR"), ("cohort", "VARCHAR"), ("expected_label", "VARCHAR"),
             ("given_label", "VARCHAR"), ("error_type", "VARCHAR"), ("errors", "BIGINT")),
    measures=("errors",),
    query="""
    SELECT d.date, coalesce(d.market, t.market, 'Unknown') AS market, d.policy, d.source,
           coalesce(d.project, t.project) AS project,
           coalesce(t.cohort, substr(CAST(t.start_date AS STRING), 1, 7)) AS cohort,
           d.expected_label, d.given_label, d.error_type, CAST(count(*) AS BIGINT) AS errors
    FROM {decisions} d LEFT JOIN {trainees} t ON t.trainee_id = d.trainee_id
    WHERE NOT d.correct
      AND (d.error_type IS NOT NULL OR (d.expected_label IS NOT NULL AND d.given_label IS NOT NULL))
    GROUP BY ALL""",
    by_month=True,
    order="policy, market, date",
)

# Every QA audit of a decision (item_id x trainee_id) that two or more auditors judged, with the decisions'
# columns: what the auditor-agreement measure pairs up (metrics/auditors.py), a few percent of the audits
# (10M decisions: 0.18M rows of 7.7M audits). Not a sum, and built from the store's own decisions only:
# item-level measures read raw decisions, which a rollup folder does not bring, so it has no lake table.
AUDITED_TWICE = Rollup(
    name="audited_twice",
    columns=(("decision_id", "VARCHAR"), ("trainee_id", "VARCHAR"), ("date", "DATE"), ("policy", "VARCHAR"),
             ("correct", "BOOLEAN"), ("source", "VARCHAR"), ("item_id", "VARCHAR"), ("given_label", "VARCHAR"),
             ("expected_label", "VARCHAR"), ("reviewer_id", "VARCHAR"), ("error_type", "VARCHAR"),
             ("market", "VARCHAR"), ("project", "VARCHAR")),
    measures=(),
    query="""
    SELECT d.decision_id, d.trainee_id, d.date, d.policy, d.correct, d.source, d.item_id, d.given_label,
           d.expected_label, d.reviewer_id, d.error_type, d.market, d.project
    FROM {decisions} d JOIN (
        SELECT item_id, trainee_id FROM {decisions}
        WHERE source = 'qa_audit' AND item_id IS NOT NULL AND reviewer_id IS NOT NULL
        GROUP BY item_id, trainee_id HAVING count(DISTINCT reviewer_id) > 1
    ) twice ON twice.item_id = d.item_id AND twice.trainee_id = d.trainee_id
    WHERE d.source = 'qa_audit' AND d.reviewer_id IS NOT NULL""",
    by_month=False,
    order="date, decision_id",
)

# In the order they are built: tenure and totals read the daily rollup.
ROLLUPS = (DAILY, CONFUSIONS, TENURE, TOTALS)
BY_NAME = {r.name: r for r in ROLLUPS}

AFFECTS_ROLLUP = frozenset({"decisions", "decision_counts", "trainees"})

# The import log's name for a rollup folder loaded by `uplift import DIR`.
LAKE_DATASET = "rollups"


# For the Home page's counts: the decisions the rollup folder in use sums up, and the dates they span
# (no row while no folder is in use).
LAKE_COUNTS = f"""
    SELECT '{LAKE_DATASET}' AS dataset, CAST(sum(reviewed) AS BIGINT) AS rows, min(date), max(date)
    FROM lake_decision_daily WHERE import_id = (SELECT max(import_id) FROM rollup_manifests)
    HAVING count(*) > 0"""


def lake_table(rollup: Rollup) -> str:
    """Where the rows of imported rollup folders are kept, with their import_id (schema migration 5)."""
    return f"lake_{rollup.name}"


def live_manifest(con: duckdb.DuckDBPyConnection) -> int | None:
    """The import whose rollup folder the pages read: the latest one not undone (undo deletes its rows,
    so the one before it comes back), or None."""
    row = con.execute("SELECT max(import_id) FROM rollup_manifests").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _insert(con: duckdb.DuckDBPyConnection, rollup: Rollup, select: str, params: list[object] | None = None) -> None:
    cols = ", ".join(rollup.column_names)
    con.execute(f"INSERT INTO {rollup.name} ({cols}) SELECT {cols} FROM ({select}) ORDER BY {rollup.order}",
                params or [])


def _with_lake(rollup: Rollup, own: str) -> str:
    """The store's own rows of a rollup and the live manifest's (parameter: its import id), summed by key."""
    keys = ", ".join(rollup.keys)
    sums = ", ".join(f"CAST(sum({m}) AS BIGINT) AS {m}" for m in rollup.measures)
    cols = ", ".join(rollup.column_names)
    return f"""SELECT {keys}, {sums} FROM (
                   SELECT {cols} FROM ({own})
                   UNION ALL
                   SELECT {cols} FROM {lake_table(rollup)} WHERE import_id = ?)
               GROUP BY ALL"""


def rebuild_decision_tenure(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute `decision_tenure` from `decision_daily` as it stands and the roster (inside the caller's
    transaction; for a hand-built decision_daily: imports call rebuild_decision_daily)."""
    con.execute("DELETE FROM decision_tenure")
    _insert(con, TENURE, TENURE.sql())


def rebuild_decision_totals(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute `decision_totals` from `decision_daily` as it stands (as rebuild_decision_tenure)."""
    con.execute("DELETE FROM decision_totals")
    _insert(con, TOTALS, TOTALS.sql())


def rebuild_decision_daily(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute every rollup from the store's raw rows and roster, plus the live rollup folder's rows
    (inside the caller's transaction)."""
    for rollup in (*ROLLUPS, AUDITED_TWICE):
        con.execute(f"DELETE FROM {rollup.name}")
    _insert(con, AUDITED_TWICE, AUDITED_TWICE.sql())
    live = live_manifest(con)
    if live is None:
        # The usual store: no rollup folder, so no union and no second grouping of millions of rows.
        _insert(con, DAILY, DAILY.sql())
        _insert(con, CONFUSIONS, CONFUSIONS.sql())
        _insert(con, TENURE, TENURE.sql())
        _insert(con, TOTALS, TOTALS.sql())
        return
    # Tenure and totals of the store's own rows come from its own daily rows; the folder brings its own.
    con.execute(f"CREATE OR REPLACE TEMP TABLE own_daily AS {DAILY.sql()}")
    try:
        _insert(con, DAILY, _with_lake(DAILY, "SELECT * FROM own_daily"), [live])
        _insert(con, CONFUSIONS, _with_lake(CONFUSIONS, CONFUSIONS.sql()), [live])
        _insert(con, TENURE, _with_lake(TENURE, TENURE.sql(decision_daily="own_daily")), [live])
        _insert(con, TOTALS, _with_lake(TOTALS, TOTALS.sql(decision_daily="own_daily")), [live])
    finally:
        con.execute("DROP TABLE IF EXISTS own_daily")


def forget_lake_import(con: duckdb.DuckDBPyConnection, import_id: int) -> int:
    """Take an imported rollup folder's rows out of the store and rebuild (inside the caller's transaction).
    Returns the number of rollup rows removed."""
    removed = 0
    for rollup in ROLLUPS:
        row = con.execute(f"SELECT count(*) FROM {lake_table(rollup)} WHERE import_id = ?", [import_id]).fetchone()
        removed += int(row[0]) if row else 0
        con.execute(f"DELETE FROM {lake_table(rollup)} WHERE import_id = ?", [import_id])
    con.execute("DELETE FROM rollup_manifests WHERE import_id = ?", [import_id])
    rebuild_decision_daily(con)
    return removed
