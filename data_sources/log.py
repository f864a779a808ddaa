"""The import log as people read it: imports newest first, the rows an import kept aside, and what the
store holds per dataset."""

from __future__ import annotations

import duckdb
import pandas as pd

from data_sources.contract import DATASETS
from data_sources.rollups import LAKE_COUNTS
from data_sources.schema import column_types


def history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The import log, newest first."""
    return con.execute(
        """SELECT import_id, imported_at, imported_by, dataset, source, tab, rows_read, rows_added,
                  rows_replaced, rows_unchanged, rows_duplicate, rows_rejected, rows_skipped, rows_flagged, flag_note,
                  status, undone_at, undone_by
           FROM imports ORDER BY import_id DESC"""
    ).df()


def rejected(con: duckdb.DuckDBPyConnection, import_id: int) -> pd.DataFrame:
    """Rows an import kept aside, with their reasons."""
    return con.execute(
        "SELECT row_number AS row, reason, raw FROM rejected_rows WHERE import_id = ? ORDER BY row_number",
        [import_id],
    ).df()


def dataset_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per dataset and the dates they span, for the Home page; `rollups`: the decisions the rollup
    folder in use sums up."""
    parts = []
    for name in DATASETS:
        has_date = "date" in column_types(name)
        span = "min(date), max(date)" if has_date else "NULL::DATE, NULL::DATE"
        parts.append(f"SELECT '{name}' AS dataset, count(*) AS rows, {span} FROM {name}")
    parts.append(LAKE_COUNTS)
    frame = con.execute(" UNION ALL ".join(parts)).df()
    frame.columns = ["dataset", "rows", "first_date", "last_date"]
    return frame
