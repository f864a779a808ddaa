"""The DuckDB schema, as numbered migrations. A store records which it has applied in `schema_migrations`.

Add a migration by appending to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import secrets

import duckdb

from data_sources.contract import DATASETS
from data_sources.rollups import AUDITED_TWICE, CONFUSIONS, rebuild_decision_daily, totals_match_daily

# Typed tables, one per dataset. `import_id` says which import a row came from (for undo and tracing).
_DATASET_DDL = {
    "trainees": """
        trainee_id VARCHAR NOT NULL, market VARCHAR NOT NULL, name VARCHAR, cohort VARCHAR, start_date DATE,
        language VARCHAR, site VARCHAR, team VARCHAR, project VARCHAR, trainer VARCHAR, status VARCHAR""",
    "trainings": """
        training_id VARCHAR NOT NULL, date DATE NOT NULL, kind VARCHAR NOT NULL, title VARCHAR NOT NULL,
        policy VARCHAR, market VARCHAR, project VARCHAR, trainer VARCHAR, duration_hours DOUBLE,
        delivery VARCHAR""",
    "attendance": """
        training_id VARCHAR NOT NULL, trainee_id VARCHAR NOT NULL, attended BOOLEAN NOT NULL""",
    "decisions": """
        decision_id VARCHAR, trainee_id VARCHAR NOT NULL, date DATE NOT NULL, policy VARCHAR NOT NULL,
        correct BOOLEAN NOT NULL, source source_t NOT NULL, item_id VARCHAR, given_label VARCHAR,
        expected_label VARCHAR, reviewer_id VARCHAR, error_type VARCHAR, market VARCHAR, project VARCHAR""",
    "decision_counts": """
        trainee_id VARCHAR NOT NULL, date DATE NOT NULL, policy VARCHAR NOT NULL, reviewed INTEGER NOT NULL,
        correct INTEGER NOT NULL, accuracy DOUBLE, source source_t NOT NULL""",
    "assessments": """
        trainee_id VARCHAR NOT NULL, date DATE NOT NULL, assessment VARCHAR NOT NULL, score DOUBLE NOT NULL,
        max_score DOUBLE NOT NULL, pass_mark DOUBLE, kind VARCHAR, policy VARCHAR, attempt INTEGER NOT NULL,
        training_id VARCHAR""",
    "calibration": """
        session_id VARCHAR NOT NULL, item_id VARCHAR NOT NULL, rater_id VARCHAR NOT NULL, label VARCHAR NOT NULL,
        date DATE, policy VARCHAR, market VARCHAR, is_reference BOOLEAN NOT NULL, comment VARCHAR""",
    "feedback": """
        training_id VARCHAR NOT NULL, trainee_id VARCHAR NOT NULL, rating INTEGER NOT NULL, comment VARCHAR""",
}
assert set(_DATASET_DDL) == set(DATASETS), "every dataset of the contract has a table"
# Columns added by later migrations: (dataset, column, SQL type). Migration 1 creates the tables above as
# they shipped; each of these is added by its own migration, after import_id (inserts name their columns).
_ADDED_COLUMNS = (("trainings", "audience", "VARCHAR"),)


def column_types(dataset: str) -> dict[str, str]:
    """Column -> SQL type of a dataset's table (without import_id): migration 1's columns, then the added."""
    out: dict[str, str] = {}
    for part in _DATASET_DDL[dataset].split(","):
        name, sql_type = part.split()[:2]
        out[name] = "VARCHAR" if sql_type == "source_t" else sql_type
    out.update({column: sql_type for table, column, sql_type in _ADDED_COLUMNS if table == dataset})
    return out


def _v1(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TYPE source_t AS ENUM ('qa_audit', 'golden_set')")
    for name, cols in _DATASET_DDL.items():
        con.execute(f"CREATE TABLE {name} ({cols}, import_id INTEGER NOT NULL)")
        # Rows an import replaced, kept so that undoing that import can put them back.
        con.execute(f"CREATE TABLE {name}__replaced ({cols}, import_id INTEGER NOT NULL, replaced_by INTEGER NOT NULL)")
    con.execute("""
        CREATE TABLE imports (
            import_id INTEGER PRIMARY KEY, source VARCHAR NOT NULL, tab VARCHAR, dataset VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL, rows_read BIGINT NOT NULL, rows_added BIGINT NOT NULL,
            rows_replaced BIGINT NOT NULL, rows_unchanged BIGINT NOT NULL, rows_duplicate BIGINT NOT NULL,
            rows_rejected BIGINT NOT NULL, rows_flagged BIGINT NOT NULL, flag_note VARCHAR,
            imported_at TIMESTAMP NOT NULL, imported_by VARCHAR NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'active', undone_at TIMESTAMP, undone_by VARCHAR)""")
    con.execute("""
        CREATE TABLE rejected_rows (import_id INTEGER NOT NULL, row_number BIGINT NOT NULL,
            raw VARCHAR NOT NULL, reason VARCHAR NOT NULL)""")
    # Display names: matching is on the case-folded, trimmed text; the first spelling seen is shown.
    con.execute("""
        CREATE TABLE labels (kind VARCHAR NOT NULL, key VARCHAR NOT NULL, display VARCHAR NOT NULL,
            PRIMARY KEY (kind, key))""")
    con.execute("""
        CREATE TABLE saved_mappings (signature VARCHAR PRIMARY KEY, dataset VARCHAR NOT NULL,
            mapping VARCHAR NOT NULL, saved_at TIMESTAMP NOT NULL)""")
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute("INSERT INTO meta VALUES ('data_version', '0')")
    # Presenter-mode pseudonyms are keyed with this, so they are stable here but not guessable elsewhere.
    con.execute("INSERT INTO meta VALUES ('pseudonym_salt', ?)", [secrets.token_hex(16)])
    # Rollup every quality/accuracy measure reads: one row per trainee x day x policy x source, with the
    # market and project resolved (a decision without one takes its trainee's). Rebuilt by imports/undo.
    con.execute("""
        CREATE TABLE decision_daily (trainee_id VARCHAR NOT NULL, date DATE NOT NULL, policy VARCHAR NOT NULL,
            source source_t NOT NULL, market VARCHAR NOT NULL, project VARCHAR, reviewed BIGINT NOT NULL,
            correct BIGINT NOT NULL)""")


def _v2(con: duckdb.DuckDBPyConnection) -> None:
    # Who downloaded what: exports of people's performance data are attributed like imports.
    con.execute("""
        CREATE TABLE export_log (exported_at TIMESTAMP NOT NULL, exported_by VARCHAR NOT NULL,
            what VARCHAR NOT NULL, rows BIGINT NOT NULL, presenter BOOLEAN NOT NULL)""")


def _v3(con: duckdb.DuckDBPyConnection) -> None:
    # Rollup the learning measures read: one row per trainee x tenure week x source x market, rebuilt with
    # decision_daily by imports/undo. Filled here from the store's decision_daily and roster.
    con.execute("""
        CREATE TABLE decision_tenure (trainee_id VARCHAR NOT NULL, week INTEGER NOT NULL,
            source source_t NOT NULL, market VARCHAR NOT NULL, reviewed BIGINT NOT NULL, correct BIGINT NOT NULL)""")
    con.execute("""
        INSERT INTO decision_tenure
        SELECT d.trainee_id, (datediff('day', t.start_date, d.date) // 7)::INTEGER AS week, d.source, d.market,
               sum(d.reviewed)::BIGINT AS reviewed, sum(d.correct)::BIGINT AS correct
        FROM decision_daily d JOIN trainees t USING (trainee_id)
        WHERE t.start_date IS NOT NULL AND d.date >= t.start_date
        GROUP BY ALL
        ORDER BY 1, 2""")


def _v4(con: duckdb.DuckDBPyConnection) -> None:
    # Rollup the coaching list reads: one row per trainee x policy x source x market x project over all
    # dates, rebuilt with decision_daily by imports/undo. Filled here from the store's decision_daily.
    con.execute("""
        CREATE TABLE decision_totals (trainee_id VARCHAR NOT NULL, policy VARCHAR NOT NULL,
            source source_t NOT NULL, market VARCHAR NOT NULL, project VARCHAR, reviewed BIGINT NOT NULL,
            correct BIGINT NOT NULL)""")
    con.execute("""
        INSERT INTO decision_totals
        SELECT trainee_id, policy, source, market, project, sum(reviewed)::BIGINT AS reviewed,
               sum(correct)::BIGINT AS correct
        FROM decision_daily
        GROUP BY ALL
        ORDER BY 1, 2""")


def _v5(con: duckdb.DuckDBPyConnection) -> None:
    # Which later imports delivered a row again, unchanged (cumulative exports repeat earlier rows): undoing
    # the import that first brought the row must leave it while one of them is active (data_sources/undo.py).
    # `key` is the natural key's hash (data_sources/keys.py); `version_import` the import that created the
    # version of the row that `import_id` delivered again.
    con.execute("""
        CREATE TABLE row_owners (dataset VARCHAR NOT NULL, key UBIGINT NOT NULL, version_import INTEGER NOT NULL,
            import_id INTEGER NOT NULL)""")


def _v6(con: duckdb.DuckDBPyConnection) -> None:
    # Rows skipped as missing (a calibration rating or a feedback rating given as NA or left blank) are
    # counted apart from rejected ones: read = added + replaced + unchanged + duplicates + rejected + skipped.
    con.execute("ALTER TABLE imports ADD COLUMN rows_skipped BIGINT NOT NULL DEFAULT 0")
    # Saved mappings get a name, for `uplift import FILE --mapping NAME`.
    con.execute("ALTER TABLE saved_mappings ADD COLUMN name VARCHAR")


def _v7(con: duckdb.DuckDBPyConnection) -> None:
    # How a training's attendees were chosen (data_sources.contract.AUDIENCE_WORDS); NULL = not recorded.
    for table in ("trainings", "trainings__replaced"):
        con.execute(f"ALTER TABLE {table} ADD COLUMN audience VARCHAR")


def _v8(con: duckdb.DuckDBPyConnection) -> None:
    # Rollup a weak spot's confusions and error types read (they read raw decisions before), filled here
    # from the store's decisions and roster by its definition (data_sources/rollups.py); rebuilt with decision_daily by imports/undo.
    con.execute("""
        CREATE TABLE decision_confusions (date DATE NOT NULL, market VARCHAR NOT NULL, policy VARCHAR NOT NULL,
            source source_t NOT NULL, project VARCHAR, cohort VARCHAR, expected_label VARCHAR,
            given_label VARCHAR, error_type VARCHAR, errors BIGINT NOT NULL)""")
    con.execute(f"INSERT INTO decision_confusions {CONFUSIONS.sql()}")
    # Rollup folders written by `uplift rollup` and loaded by `uplift import DIR`: their rows, by import,
    # beside the store's own. The latest folder not undone is added to the rollups above.
    con.execute("""
        CREATE TABLE rollup_manifests (import_id INTEGER PRIMARY KEY, folder VARCHAR NOT NULL,
            manifest VARCHAR NOT NULL)""")
    con.execute("""
        CREATE TABLE lake_decision_daily (trainee_id VARCHAR NOT NULL, date DATE NOT NULL,
            policy VARCHAR NOT NULL, source source_t NOT NULL, market VARCHAR NOT NULL, project VARCHAR,
            reviewed BIGINT NOT NULL, correct BIGINT NOT NULL, import_id INTEGER NOT NULL)""")
    con.execute("""
        CREATE TABLE lake_decision_tenure (trainee_id VARCHAR NOT NULL, week INTEGER NOT NULL,
            source source_t NOT NULL, market VARCHAR NOT NULL, reviewed BIGINT NOT NULL, correct BIGINT NOT NULL,
            import_id INTEGER NOT NULL)""")
    con.execute("""
        CREATE TABLE lake_decision_totals (trainee_id VARCHAR NOT NULL, policy VARCHAR NOT NULL,
            source source_t NOT NULL, market VARCHAR NOT NULL, project VARCHAR, reviewed BIGINT NOT NULL,
            correct BIGINT NOT NULL, import_id INTEGER NOT NULL)""")
    con.execute("""
        CREATE TABLE lake_decision_confusions (date DATE NOT NULL, market VARCHAR NOT NULL,
            policy VARCHAR NOT NULL, source source_t NOT NULL, project VARCHAR, cohort VARCHAR,
            expected_label VARCHAR, given_label VARCHAR, error_type VARCHAR, errors BIGINT NOT NULL,
            import_id INTEGER NOT NULL)""")


def _v9(con: duckdb.DuckDBPyConnection) -> None:
    # The audits of decisions two or more auditors judged, which auditor agreement pairs up (it grouped
    # every QA audit before: 7 s at 10M decisions); filled from the store's decisions by its definition
    # (data_sources/rollups.py) and rebuilt with decision_daily by imports and undo.
    con.execute("""
        CREATE TABLE audited_twice (decision_id VARCHAR, trainee_id VARCHAR NOT NULL, date DATE NOT NULL,
            policy VARCHAR NOT NULL, correct BOOLEAN NOT NULL, source source_t NOT NULL, item_id VARCHAR NOT NULL,
            given_label VARCHAR, expected_label VARCHAR, reviewer_id VARCHAR NOT NULL, error_type VARCHAR,
            market VARCHAR, project VARCHAR)""")
    con.execute(f"INSERT INTO audited_twice {AUDITED_TWICE.sql()} ORDER BY {AUDITED_TWICE.order}")


def _v12(con: duckdb.DuckDBPyConnection) -> None:
    # Each dataset row's natural key, kept (data_sources/keys.py row_keys): an import matches its rows with the
    # store's by this integer instead of hashing every stored row's key columns again (3 s of a weekly import
    # at 10M decisions). Rows inserted without it (by hand) get theirs before an import matches.
    from data_sources.keys import fill_row_keys

    for dataset in DATASETS:
        con.execute(f"ALTER TABLE {dataset} ADD COLUMN row_key UBIGINT")
    con.execute("CREATE TABLE row_key_hash (probe UBIGINT NOT NULL)")
    fill_row_keys(con)


def _v13(con: duckdb.DuckDBPyConnection) -> None:
    # Until this version, an import that brought more than 122,880 trainee x day x policy groups on dates the
    # store had not seen left tenure and totals without them: DuckDB 2.0 hid the rows of the change they take
    # (data_sources/rollups.py update_touched). Such a store's totals no longer sum to its daily rows; its
    # rollups are rebuilt from the raw rows. Any other store is left as it is (two sums read).
    if not totals_match_daily(con):
        rebuild_decision_daily(con)


MIGRATIONS = [
    (1, "datasets, import log, rejected rows, labels, rollup", _v1),
    (2, "export log", _v2),
    (3, "tenure rollup", _v3),
    (4, "trainee x policy totals rollup", _v4),
    (5, "row owners, for exact undo", _v5),
    (6, "rows skipped as missing; names of saved mappings", _v6),
    (7, "trainings: audience (how attendees were chosen)", _v7),
    (8, "confusions rollup; imported rollup folders", _v8),
    (9, "audits of decisions audited twice", _v9),
    (12, "each dataset row's natural key, kept", _v12),
    (13, "rollups rebuilt where a large import was missing from tenure and totals", _v13),
]
LATEST = MIGRATIONS[-1][0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply the migrations this store lacks, each in its own transaction. Returns the schema version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
        "applied_at TIMESTAMP DEFAULT current_timestamp)"
    )
    # Applied by membership, not by "above the highest": migrations numbered on parallel branches (7 merged
    # before 5 and 6) still run on a store that has the higher one.
    applied = {int(v) for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    current = max(applied, default=0)
    for version, name, apply in MIGRATIONS:
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            apply(con)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = max(current, version)
    return current
