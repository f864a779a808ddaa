"""Undoing an import: its rows go, the rows it replaced come back."""

from __future__ import annotations

import datetime as dt

import duckdb

from access.roles import os_user
from data_sources.keys import key_sql
from data_sources.plan import ImportRefused
from data_sources.rollups import AFFECTS_ROLLUP, rebuild_decision_daily
from data_sources.schema import column_types
from data_sources.store import WRITE_LOCK, bump_data_version, transaction


def undo(con: duckdb.DuckDBPyConnection, import_id: int, *, user: str | None = None) -> str:
    """Take an import back: its rows go, the rows it replaced return. Returns a sentence for people."""
    with WRITE_LOCK:
        row = con.execute("SELECT dataset, status, source FROM imports WHERE import_id = ?", [import_id]).fetchone()
        if row is None:
            raise ImportRefused(f"there is no import #{import_id}; `uplift imports` lists them")
        dataset, status, source = row
        if status != "active":
            raise ImportRefused(f"import #{import_id} ({source}) was already undone")
        cols = ", ".join(column_types(dataset))
        with transaction(con):
            removed = len(con.execute(f"DELETE FROM {dataset} WHERE import_id = ? RETURNING 1", [import_id]).fetchall())
            # A row this import replaced comes back, unless a later import has since taken its key: then it
            # waits behind that import, so undoing that one too brings it back.
            con.execute(
                f"""UPDATE {dataset}__replaced AS r SET replaced_by = h.import_id
                    FROM (SELECT {key_sql(dataset, 'x')} AS key, import_id FROM {dataset} x) h
                    WHERE r.replaced_by = ? AND {key_sql(dataset, 'r')} = h.key""",
                [import_id],
            )
            restored = len(con.execute(
                f"""INSERT INTO {dataset} ({cols}, import_id)
                    SELECT {cols}, import_id FROM {dataset}__replaced WHERE replaced_by = ? RETURNING 1""",
                [import_id],
            ).fetchall())
            con.execute(f"DELETE FROM {dataset}__replaced WHERE replaced_by = ? OR import_id = ?", [import_id, import_id])
            if dataset in AFFECTS_ROLLUP:
                rebuild_decision_daily(con)
            con.execute(
                "UPDATE imports SET status = 'undone', undone_at = ?, undone_by = ? WHERE import_id = ?",
                [dt.datetime.now(), user or os_user(), import_id],
            )
            bump_data_version(con)
    return f"import #{import_id} ({source}) undone: {removed} rows removed, {restored} earlier rows restored."
