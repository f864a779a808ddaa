"""Undoing an import exactly: the store becomes what it would be had the import never happened.

Each natural key has a stack of versions. The store's row is the top version; the versions it replaced wait
in `<dataset>__replaced`. A version's owners are the import that created it (the row's `import_id`) and the
later imports that delivered the same row again (`row_owners`: a weekly export repeating last week's rows).
Undoing import u drops u from every version it owns; a version left with an owner is handed to the earliest
(its new `import_id`), a version left with none goes, and where a top version went, the newest waiting
version of that key comes back. Versions stay ordered by owner (every owner of a lower version came before
every owner of a higher one), so the top is always the version of the latest active import that delivered
the key: the same as replaying the active imports in order.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from access.roles import os_user
from data_sources.keys import key_sql
from data_sources.plan import ImportRefused
from data_sources.rollups import (
    AFFECTS_ROLLUP,
    LAKE_DATASET,
    forget_lake_import,
    live_manifest,
    note_touched,
    rebuild_decision_daily,
    update_touched,
)
from data_sources.schema import column_types
from data_sources.store import WRITE_LOCK, WriteFailed, bump_data_version, scalar, transaction


def undo(con: duckdb.DuckDBPyConnection, import_id: int, *, user: str | None = None) -> str:
    """Take an import back exactly (see the module docstring). Returns a sentence for people."""
    with WRITE_LOCK:
        row = con.execute("SELECT dataset, status, source FROM imports WHERE import_id = ?", [import_id]).fetchone()
        if row is None:
            raise ImportRefused(f"there is no import #{import_id}; `uplift imports` lists them")
        dataset, status, source = row
        if status != "active":
            raise ImportRefused(f"import #{import_id} ({source}) was already undone")
        if dataset == LAKE_DATASET:
            return undo_rollups(con, import_id, source, user)
        try:
            removed, restored = _undo_in_transaction(con, dataset, import_id, user)
        except WriteFailed as exc:
            raise ImportRefused(f"import #{import_id} was not undone: {exc}") from exc
    return f"import #{import_id} ({source}) undone: {removed} rows removed, {restored} earlier rows restored."


def _undo_in_transaction(
    con: duckdb.DuckDBPyConnection, dataset: str, import_id: int, user: str | None
) -> tuple[int, int]:
    """The undo's steps in one transaction. Returns (rows removed, rows restored)."""
    with transaction(con):
        # The rollups change where the import's rows and the rows they replaced lie: noted before they move.
        incremental = dataset in AFFECTS_ROLLUP and note_touched(con, dataset, import_id, undoing=True)
        _hand_over(con, dataset, import_id)
        removed, restored = _drop_orphans(con, dataset, import_id)
        if incremental:
            update_touched(con, dataset)
        elif dataset in AFFECTS_ROLLUP:
            rebuild_decision_daily(con)
        con.execute(
            "UPDATE imports SET status = 'undone', undone_at = ?, undone_by = ? WHERE import_id = ?",
            [dt.datetime.now(), user or os_user(), import_id],
        )
        bump_data_version(con)
    return removed, restored


def _hand_over(con: duckdb.DuckDBPyConnection, dataset: str, import_id: int) -> None:
    """The import stops owning what it delivered again; versions it created that a later active import also
    delivered pass to the earliest such import."""
    con.execute("DELETE FROM row_owners WHERE dataset = ? AND import_id = ?", [dataset, import_id])
    heirs = "undo_heirs"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {heirs} AS
            SELECT key, min(import_id) AS heir FROM row_owners WHERE dataset = ? AND version_import = ?
            GROUP BY key""",
        [dataset, import_id],
    )
    if scalar(con, f"SELECT count(*) FROM {heirs}"):
        for table in (dataset, f"{dataset}__replaced"):
            con.execute(
                f"""UPDATE {table} AS x SET import_id = h.heir FROM {heirs} h
                    WHERE x.import_id = ? AND {key_sql(dataset, 'x')} = h.key""",
                [import_id],
            )
        con.execute(
            f"""UPDATE row_owners AS o SET version_import = h.heir FROM {heirs} h
                WHERE o.dataset = ? AND o.version_import = ? AND o.key = h.key""",
            [dataset, import_id],
        )
        # The heir now owns the version as its creator, not as a repeat.
        con.execute("DELETE FROM row_owners WHERE dataset = ? AND version_import = import_id", [dataset])
    con.execute(f"DROP TABLE {heirs}")


def _drop_orphans(con: duckdb.DuckDBPyConnection, dataset: str, import_id: int) -> tuple[int, int]:
    """Versions the import still creates have no other owner: they go, and where a key's top version went,
    its newest waiting version comes back. Returns (rows removed, rows restored)."""
    cols = ", ".join(column_types(dataset))
    died, back = "undo_died", "undo_back"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {died} AS SELECT {key_sql(dataset, 'x')} AS key FROM {dataset} x WHERE import_id = ?",
        [import_id],
    )
    removed = len(con.execute(f"DELETE FROM {dataset} WHERE import_id = ? RETURNING 1", [import_id]).fetchall())
    con.execute(f"DELETE FROM {dataset}__replaced WHERE import_id = ?", [import_id])
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {back} AS
            SELECT arg_max(r.rowid, r.import_id) AS rid
            FROM (SELECT rowid, import_id, {key_sql(dataset, 'x')} AS key FROM {dataset}__replaced x) r
            JOIN {died} USING (key) GROUP BY r.key"""
    )
    restored = len(con.execute(
        f"""INSERT INTO {dataset} ({cols}, import_id, row_key)
            SELECT {cols}, import_id, {key_sql(dataset, 'x')} FROM {dataset}__replaced x
            WHERE rowid IN (SELECT rid FROM {back}) RETURNING 1"""
    ).fetchall())
    con.execute(f"DELETE FROM {dataset}__replaced WHERE rowid IN (SELECT rid FROM {back})")
    con.execute(f"DROP TABLE {died}")
    con.execute(f"DROP TABLE {back}")
    return removed, restored


def undo_rollups(con: duckdb.DuckDBPyConnection, import_id: int, source: str, user: str | None) -> str:
    """A rollup folder's import (data_sources/rollup_import.py): its rows go; an earlier folder's come back.
    Called holding WRITE_LOCK."""
    with transaction(con):
        was_live = live_manifest(con) == import_id
        removed = forget_lake_import(con, import_id)
        con.execute("UPDATE imports SET status = 'undone', undone_at = ?, undone_by = ? WHERE import_id = ?",
                    [dt.datetime.now(), user or os_user(), import_id])
        bump_data_version(con)
        live = live_manifest(con)
    back = f"; the rollups of import #{live} are in use again" if was_live and live is not None else ""
    return f"import #{import_id} ({source}) undone: {removed} rollup rows removed{back}."
