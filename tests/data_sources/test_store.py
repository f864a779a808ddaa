"""The store's connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_sources.store import CLI_MEMORY_LIMIT, cli_memory_limit, open_store


def _memory_limit(memory_limit: str | None) -> str:
    store = open_store(":memory:", memory_limit=memory_limit)
    row = store.cursor().execute("SELECT current_setting('memory_limit')").fetchone()
    store.close()
    assert row is not None
    return str(row[0])


def test_the_app_caps_duckdb_memory_and_a_batch_command_may_raise_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UPLIFT_MEMORY_LIMIT", raising=False)
    monkeypatch.delenv("UPLIFT_CLI_MEMORY_LIMIT", raising=False)
    assert _memory_limit(None) in {"1GB", "953.6 MiB"}
    assert cli_memory_limit() == CLI_MEMORY_LIMIT
    assert _memory_limit(CLI_MEMORY_LIMIT) in {"4GB", "3.7 GiB"}
    monkeypatch.setenv("UPLIFT_CLI_MEMORY_LIMIT", "2GB")
    assert cli_memory_limit() == "2GB"


_TENURE_FROM_DAILY = """
    SELECT d.trainee_id, (datediff('day', t.start_date, d.date) // 7)::INTEGER AS week, d.source::VARCHAR,
           d.market, sum(d.reviewed)::BIGINT, sum(d.correct)::BIGINT
    FROM decision_daily d JOIN trainees t USING (trainee_id)
    WHERE t.start_date IS NOT NULL AND d.date >= t.start_date GROUP BY ALL ORDER BY ALL"""
_TENURE = "SELECT trainee_id, week, source::VARCHAR, market, reviewed, correct FROM decision_tenure ORDER BY ALL"


def test_the_tenure_and_totals_rollups_are_built_by_their_migrations_and_kept_in_step_by_imports(tmp_path: Path) -> None:
    import duckdb

    from data_sources.sample import load_sample
    from data_sources.schema import MIGRATIONS, migrate

    # A store from before the rollup (schema version 2) with data in it: the migration fills the table.
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    store = open_store(":memory:")
    load_sample(store.cursor())
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, _name, apply in MIGRATIONS[:2]:
        apply(con)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, _name])
    # The roster as it was then: without the kept row keys (migration 12).
    for table, columns in (("trainees", "* EXCLUDE (row_key)"), ("decision_daily", "*")):
        con.register("src", store.cursor().execute(f"SELECT {columns} FROM {table}").df())
        con.execute(f"INSERT INTO {table} SELECT * FROM src")
        con.unregister("src")
    assert migrate(con) == MIGRATIONS[-1][0]
    migrated = con.execute(_TENURE).fetchall()
    assert migrated and migrated == con.execute(_TENURE_FROM_DAILY).fetchall()
    assert con.execute("SELECT sum(reviewed) FROM decision_totals").fetchone() == con.execute(
        "SELECT sum(reviewed) FROM decision_daily").fetchone()
    con.close()

    # The import path rebuilt it beside decision_daily, and gives the same rows.
    loaded = store.cursor()
    assert loaded.execute(_TENURE).fetchall() == migrated
    assert loaded.execute("SELECT sum(reviewed) FROM decision_tenure").fetchone() == loaded.execute(
        "SELECT sum(d.reviewed) FROM decision_daily d JOIN trainees t USING (trainee_id) WHERE d.date >= t.start_date"
    ).fetchone()
    totals = "SELECT trainee_id, policy, source::VARCHAR, market, project, reviewed, correct FROM decision_totals ORDER BY ALL"
    totals_from_daily = """
        SELECT trainee_id, policy, source::VARCHAR, market, project, sum(reviewed)::BIGINT, sum(correct)::BIGINT
        FROM decision_daily GROUP BY ALL ORDER BY ALL"""
    assert loaded.execute(totals).fetchall() == loaded.execute(totals_from_daily).fetchall() != []
    store.close()


def test_a_store_whose_totals_lost_an_import_has_its_rollups_rebuilt_when_opened(tmp_path: Path) -> None:
    # A store written before migration 13 by an import whose change DuckDB 2.0 hid from tenure and totals
    # (data_sources/rollups.py update_touched): both lack that import's decisions, so the totals no longer sum
    # to the daily rows (here: rows of each deleted by hand).
    from data_sources.sample import load_sample

    path = tmp_path / "store.duckdb"
    store = open_store(path)
    con = store.cursor()
    load_sample(con)
    totals = "SELECT trainee_id, policy, source::VARCHAR, market, project, reviewed, correct FROM decision_totals ORDER BY ALL"
    tenure = "SELECT trainee_id, week, source::VARCHAR, market, reviewed, correct FROM decision_tenure ORDER BY ALL"
    right = con.execute(totals).fetchall(), con.execute(tenure).fetchall()
    assert right[0] and right[1]
    con.execute("DELETE FROM decision_totals WHERE policy = (SELECT min(policy) FROM decision_totals)")
    con.execute("DELETE FROM decision_tenure WHERE week = (SELECT max(week) FROM decision_tenure)")
    con.execute("DELETE FROM schema_migrations WHERE version = 13")
    store.close()

    reopened = open_store(path)
    con = reopened.cursor()
    assert (con.execute(totals).fetchall(), con.execute(tenure).fetchall()) == right
    reopened.close()
