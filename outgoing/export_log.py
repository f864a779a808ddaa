"""The export log: every download of data from the app is attributed, as every import is."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd


def log_export(con: duckdb.DuckDBPyConnection, *, user: str, what: str, rows: int, presenter: bool) -> None:
    con.execute("INSERT INTO export_log VALUES (?, ?, ?, ?, ?)", [dt.datetime.now(), user, what, rows, presenter])


def export_history(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """The newest downloads first."""
    return con.execute(
        "SELECT exported_at, exported_by, what, rows, presenter FROM export_log ORDER BY exported_at DESC LIMIT ?",
        [limit],
    ).df()
