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
# "Two or more auditors" is min <> max rather than count(DISTINCT): the same test on non-null ids without a
# set of ids per group, about a quarter less CPU at 10M decisions (millions of groups).
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
        GROUP BY item_id, trainee_id HAVING min(reviewer_id) <> max(reviewer_id)
    ) twice ON twice.item_id = d.item_id AND twice.trainee_id = d.trainee_id
    WHERE d.source = 'qa_audit' AND d.reviewer_id IS NOT NULL""",
    by_month=False,
    order="date, decision_id",
)

# In the order they are built: tenure and totals read the daily rollup.
ROLLUPS = (DAILY, CONFUSIONS, TENURE, TOTALS)
BY_NAME = {r.name: r for r in ROLLUPS}
# What the store keeps beside its raw rows: the rollups, and the audits auditor agreement pairs up.
EVERY_ROLLUP = (*ROLLUPS, AUDITED_TWICE)

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
    for rollup in EVERY_ROLLUP:
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


# An import of decisions changes the date-keyed rollups only on the dates it brought or replaced rows on;
# the rollups read from decision_daily then take the change in its sums (tenure and totals are sums of it).
# Undoing it changes them on the same dates: its rows go, and the rows it replaced come back.
DATED = (DAILY, CONFUSIONS)
SUMMED = (TENURE, TOTALS)


def update_rollups(con: duckdb.DuckDBPyConnection, dataset: str, import_id: int) -> None:
    """After an import into `dataset` (inside its transaction): every rollup as `rebuild_decision_daily`
    would leave it, recomputing only what the import can have changed."""
    if note_touched(con, dataset, import_id):
        update_touched(con, dataset)
    else:
        rebuild_decision_daily(con)


def note_touched(con: duckdb.DuckDBPyConnection, dataset: str, import_id: int, *, undoing: bool = False) -> bool:
    """Note the dates (and, for decisions, the audited items) whose rollups a change by import `import_id`
    can move, for `update_touched` to recompute just those: after the import wrote its rows, the rows it
    added or replaced; before an undo (`undoing`), its rows and any version of their keys that may come
    back. False when there is nothing to note and the caller rebuilds instead: a roster touches every row
    (market, project, cohort and tenure come from it), a rollup folder in use is summed with the store's
    own rows, and a first import has nothing to keep."""
    if dataset not in ("decisions", "decision_counts") or live_manifest(con) is not None or _empty(con, DAILY):
        return False
    dates, items = (_touched(dataset, columns, undoing=undoing) for columns in ("date", "item_id, trainee_id"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE rollup_dates AS {dates}", [import_id, import_id])
    if dataset == "decisions":
        con.execute(f"CREATE OR REPLACE TEMP TABLE rollup_items AS {items} WHERE item_id IS NOT NULL", [import_id, import_id])
    return True


def update_touched(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """Every rollup as `rebuild_decision_daily` would leave it, after a change to `dataset` whose dates (and
    audited items) `note_touched` noted (inside the caller's transaction)."""
    dated = {r: f"rollup_{r}" for r in ("decisions", "decision_counts")}
    on_dates = "date IN (SELECT date FROM rollup_dates)"
    try:
        for relation, view in dated.items():
            con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {relation} WHERE {on_dates}")
        cols = ", ".join(DAILY.column_names)
        keys = ", ".join(DAILY.keys)
        # The daily rows before (negated) and after: their sums are the change tenure and totals take. One
        # CREATE TABLE AS, never an INSERT into the table of the rows before: DuckDB 2.0 hides rows inserted
        # into a table that CREATE TABLE AS made empty in the same transaction once they pass a row group
        # (122,880), which a week of new dates in a large store does.
        con.execute(f"CREATE OR REPLACE TEMP TABLE rollup_daily_before AS SELECT {cols} FROM {DAILY.name} WHERE {on_dates}")
        for rollup in DATED:
            con.execute(f"DELETE FROM {rollup.name} WHERE {on_dates}")
            _insert(con, rollup, rollup.sql(**dated))
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE rollup_daily_change AS
                SELECT {keys}, -reviewed AS reviewed, -correct AS correct FROM rollup_daily_before
                UNION ALL SELECT {cols} FROM {DAILY.name} WHERE {on_dates}"""
        )
        for rollup in SUMMED:
            _add_change(con, rollup, rollup.sql(decision_daily="rollup_daily_change"))
        if dataset == "decisions":
            _update_audited_twice(con)
    finally:
        for view in dated.values():
            con.execute(f"DROP VIEW IF EXISTS {view}")
        for table in ("rollup_dates", "rollup_items", "rollup_daily_before", "rollup_daily_change", "rollup_change",
                      "rollup_sums", "rollup_item_decisions"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _update_audited_twice(con: duckdb.DuckDBPyConnection) -> None:
    """The audits of the noted items (item x trainee), again."""
    on_items = "(SELECT 1 FROM rollup_items i WHERE i.item_id = d.item_id AND i.trainee_id = d.trainee_id)"
    con.execute(f"DELETE FROM {AUDITED_TWICE.name} d WHERE EXISTS {on_items}")
    # A table, not a view: the definition reads its decisions twice, and each read would scan the store.
    # Only audits with an auditor can be in it, so only those are kept.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE rollup_item_decisions AS SELECT d.* FROM decisions d
            SEMI JOIN rollup_items i ON i.item_id = d.item_id AND i.trainee_id = d.trainee_id
            WHERE d.source = 'qa_audit' AND d.reviewer_id IS NOT NULL"""
    )
    _insert(con, AUDITED_TWICE, AUDITED_TWICE.sql(decisions="rollup_item_decisions"))


def _touched(dataset: str, columns: str, *, undoing: bool = False) -> str:
    """The distinct `columns` of the rows of `dataset` an import (parameter, twice) created, and of the stored
    versions it moved: those it replaced, after the import; before its undo, every waiting version of its
    rows' keys, since undo may bring back any of them (the one it replaced may be gone already, with an
    earlier undo of the import that created it)."""
    moved = f"SELECT {columns} FROM {dataset}__replaced WHERE replaced_by = ?"
    if undoing:
        from data_sources.keys import key_sql  # keys -> schema -> rollups: imported when used, as schema does

        moved = f"""SELECT {columns} FROM {dataset}__replaced r WHERE {key_sql(dataset, 'r')} IN
                        (SELECT {key_sql(dataset, 'x')} FROM {dataset} x WHERE import_id = ?)"""
    return f"""SELECT DISTINCT {columns} FROM (
                   SELECT {columns} FROM {dataset} WHERE import_id = ?
                   UNION ALL {moved})"""


def totals_match_daily(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether decision_totals still sums to decision_daily's reviews and correct ones, as it always should (it
    is their sum over dates): the cheap check that an update in steps lost nothing."""
    daily = con.execute("SELECT sum(reviewed), sum(correct) FROM decision_daily").fetchone()
    totals = con.execute("SELECT sum(reviewed), sum(correct) FROM decision_totals").fetchone()
    return daily == totals


def _empty(con: duckdb.DuckDBPyConnection, rollup: Rollup) -> bool:
    return con.execute(f"SELECT count(*) = 0 FROM {rollup.name}").fetchone() == (True,)


def _add_change(con: duckdb.DuckDBPyConnection, rollup: Rollup, change: str) -> None:
    """Add a change (signed sums by the rollup's keys) to a rollup read from decision_daily. A group whose
    sums come to nothing stays only if some daily row still falls in it, as a rebuild would leave it."""
    cols = ", ".join(rollup.column_names)
    keys = ", ".join(rollup.keys)
    sums = ", ".join(f"CAST(sum({m}) AS BIGINT) AS {m}" for m in rollup.measures)
    same = " AND ".join(f"t.{k} IS NOT DISTINCT FROM c.{k}" for k in rollup.keys)
    con.execute(f"CREATE OR REPLACE TEMP TABLE rollup_change AS {change}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE rollup_sums AS SELECT {keys}, {sums} FROM (
                SELECT {cols} FROM {rollup.name} t WHERE EXISTS (SELECT 1 FROM rollup_change c WHERE {same})
                UNION ALL SELECT {cols} FROM rollup_change)
            GROUP BY ALL"""
    )
    con.execute(f"DELETE FROM {rollup.name} t WHERE EXISTS (SELECT 1 FROM rollup_change c WHERE {same})")
    nothing = " AND ".join(f"{m} = 0" for m in rollup.measures)
    if con.execute(f"SELECT count(*) > 0 FROM rollup_sums WHERE {nothing}").fetchone() == (True,):
        # Rare (a count of 0 reviewed, or every row of a group replaced): ask the daily rows themselves.
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW rollup_daily_left AS SELECT * FROM {DAILY.name}
                WHERE trainee_id IN (SELECT trainee_id FROM rollup_sums WHERE {nothing})"""
        )
        left = rollup.sql(decision_daily="rollup_daily_left")
        con.execute(
            f"""DELETE FROM rollup_sums t WHERE {nothing}
                AND NOT EXISTS (SELECT 1 FROM ({left}) c WHERE {same})"""
        )
        con.execute("DROP VIEW rollup_daily_left")
    _insert(con, rollup, "SELECT * FROM rollup_sums")


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
