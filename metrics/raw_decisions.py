"""Raw decisions behind a weak spot, for its drill-down beside `weak_spots.cell_detail` (which counts them
from the rollups): from the store's own `decisions`, and from the files an imported rollup folder was
computed from (its manifest names them) when this machine can read them. When it cannot, the result says
so, and why: the pages' counts come from the rollups either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from data_sources import manifest as M
from data_sources.engines import column_kind
from data_sources.rollup_job import typed_decisions_sql
from data_sources.rollups import live_manifest
from metrics.filters import RESOLVED_DECISIONS, Filters, resolved_decisions, where

RAW_COLUMNS = ["date", "source", "item_id", "expected_label", "given_label", "error_type", "found_in"]


@dataclass(frozen=True)
class RawDecisions:
    """Wrong decisions of one market x policy cell, latest first (see RAW_COLUMNS; `found_in` says
    where each row was read), and sentences about raw rows that could not be read."""

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "date" else "object") for c in RAW_COLUMNS})


def wrong_decisions(
    con: duckdb.DuckDBPyConnection, filters: Filters, market: str, policy: str, *, limit: int = 25
) -> RawDecisions:
    """Which wrong decisions make up this cell? The latest `limit`, from the store's decisions and from the
    raw files behind the imported rollups (the measure: filters.source, as weak_spots.cell_detail chose it)."""
    cell = filters.with_(source=filters.source or "golden_set", markets=(market,), policies=(policy,))
    w = where(cell, alias="r", trainee_alias="r")
    frames = [_select(con, RESOLVED_DECISIONS, w.sql, w.params, "store", limit)]
    notes: list[str] = []
    live = live_manifest(con)
    if live is not None:
        lake, note = _from_lake(con, live, w.sql, w.params, limit)
        frames.append(lake)
        notes += [note] if note else []
    found = [f for f in frames if not f.empty]
    if not found:
        return RawDecisions(_empty(), notes)
    rows = pd.concat(found, ignore_index=True).sort_values(["date", "item_id"], ascending=[False, True], kind="stable")
    return RawDecisions(rows.head(limit).reset_index(drop=True)[RAW_COLUMNS], notes)


def _select(con: duckdb.DuckDBPyConnection, resolved: str, condition: str, params: list[object], origin: str,
            limit: int, prefix: str = "", prefix_params: list[object] | None = None) -> pd.DataFrame:
    # `resolved` and `condition` are built here and by where(); values are bound as parameters.
    return con.execute(
        f"""{prefix} SELECT DISTINCT r.date, r.source, r.item_id, r.expected_label, r.given_label, r.error_type,
                   ? AS found_in
            FROM ({resolved}) r WHERE NOT r.correct AND {condition}
            ORDER BY r.date DESC, r.item_id LIMIT ?""",
        [*(prefix_params or []), origin, *params, limit],
    ).df()


def _from_lake(con: duckdb.DuckDBPyConnection, import_id: int, condition: str, params: list[object],
               limit: int) -> tuple[pd.DataFrame, str | None]:
    """The cell's wrong decisions from the raw files of the rollup folder in use, or why they cannot be read."""
    row = con.execute("SELECT manifest FROM rollup_manifests WHERE import_id = ?", [import_id]).fetchone()
    manifest = M.parse(str(row[0]), f"import #{import_id}") if row else None
    if manifest is None:
        return _empty(), None
    source = manifest.input
    where_text = f"The raw decisions behind the imported rollups (import #{import_id}) are at {source.pattern}"
    if M.is_remote(source.pattern):
        return _empty(), f"{where_text}, which the app does not read; the counts come from the rollups."
    files = M.local_files(source.pattern, (".parquet", ".pq", ".csv"))
    if not files:
        return _empty(), (f"{where_text}, which this machine cannot reach (no files there now); the counts come "
                          "from the rollups. Mount or copy the files there to see the rows behind them.")
    note = None
    if M.fingerprint(source.pattern, source.format, files).fingerprint != source.fingerprint:
        note = (f"The files at {source.pattern} changed after the rollups were computed ({manifest.created_at}): "
                "the rows shown may not match the counts until `uplift rollup` runs again.")
    reader = ("read_csv(?, header = true, all_varchar = true)" if source.format == "csv"
              else "read_parquet(?, union_by_name = true)")
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}", [[str(f) for f in files]]).fetchall()
        columns = {str(r[0]): column_kind(str(r[1])) for r in described}
        typed = f"(SELECT * FROM ({typed_decisions_sql(columns, 'raw_decisions')}) WHERE problem IS NULL)"
        frame = _select(con, resolved_decisions("typed"), condition, params, "raw files", limit,
                        prefix=f"WITH raw_decisions AS (SELECT * FROM {reader}), typed AS {typed}",
                        prefix_params=[[str(f) for f in files]])
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _empty(), f"{where_text}, which could not be read here ({first}); the counts come from the rollups."
    return frame, note
