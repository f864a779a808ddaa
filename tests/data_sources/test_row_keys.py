"""Each dataset row keeps its natural key (`row_key`, migration 12), so an import matches its rows with the
store's without hashing every stored row again; rows without one, and keys kept by a DuckDB that hashed
differently, still match."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_sources import imports
from data_sources.contract import DATASETS
from data_sources.imports import import_path
from data_sources.keys import key_sql
from data_sources.store import open_store

HEADER = "decision_id,trainee_id,date,policy,correct\n"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return open_store(":memory:").cursor()


def _import(con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, body: str) -> imports.ImportResult:
    path = tmp_path / name
    path.write_text(body)
    [result] = import_path(con, path)
    assert result.ok, result.message
    return result


def _unkeyed(con: duckdb.DuckDBPyConnection) -> int:
    """Stored rows whose kept key is not their key's hash."""
    total = 0
    for ds in DATASETS:
        row = con.execute(f"SELECT count(*) FROM {ds} x WHERE row_key IS DISTINCT FROM {key_sql(ds, 'x')}").fetchone()
        total += int(row[0]) if row else 0
    return total


def test_imports_and_undo_keep_each_rows_key(con, tmp_path):
    _import(con, tmp_path, "roster.csv", "trainee_id,market\nT1,TH\nT2,VN\n")
    _import(con, tmp_path, "a.csv", HEADER + "D1,T1,2026-04-01,Bullying,yes\nD2,T2,2026-04-01,Bullying,no\n")
    b = _import(con, tmp_path, "b.csv", HEADER + "D1,T1,2026-04-02,Bullying,no\nD3,T2,2026-04-02,Bullying,yes\n")
    assert (b.added, b.replaced) == (1, 1)
    assert _unkeyed(con) == 0 and con.execute("SELECT count(*) FROM decisions").fetchone() == (3,)
    imports.undo(con, b.import_id)  # D1's first version comes back from decisions__replaced, keyed
    assert con.execute("SELECT date FROM decisions WHERE decision_id = 'D1'").fetchone()[0].isoformat() == "2026-04-01"
    assert _unkeyed(con) == 0


def test_rows_stored_without_a_key_are_still_replaced(con, tmp_path):
    _import(con, tmp_path, "a.csv", HEADER + "D1,T1,2026-04-01,Bullying,yes\n")
    con.execute("UPDATE decisions SET row_key = NULL")  # as a row inserted by hand would be
    b = _import(con, tmp_path, "b.csv", HEADER + "D1,T1,2026-04-01,Bullying,no\n")
    assert (b.added, b.replaced) == (0, 1)
    assert con.execute("SELECT decision_id, correct FROM decisions").fetchall() == [("D1", False)]


def test_keys_kept_by_a_duckdb_that_hashed_differently_are_made_again(con, tmp_path):
    _import(con, tmp_path, "a.csv", HEADER + "D1,T1,2026-04-01,Bullying,yes\n")
    # What an upgrade of DuckDB with another hash would leave: every kept key and the probe's hash differ.
    con.execute("UPDATE decisions SET row_key = 12345")
    con.execute("UPDATE row_key_hash SET probe = 1")
    b = _import(con, tmp_path, "b.csv", HEADER + "D1,T1,2026-04-01,Bullying,no\n")
    assert (b.added, b.replaced) == (0, 1)  # replaced, not brought in twice
    assert con.execute("SELECT count(*) FROM decisions").fetchone() == (1,)
    assert _unkeyed(con) == 0
