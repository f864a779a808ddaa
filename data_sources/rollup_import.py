"""`uplift import DIR` for a folder written by `uplift rollup`: its rollups into the store, all or nothing.

The folder's Parquet goes into the `lake_*` tables under a new import id, is checked against the
manifest's row counts and sums (per month where the rollup has months), and the store's rollups are
rebuilt with it (data_sources/rollups.py). The import is logged like any other; undoing it
(data_sources/undo.py) takes its rows out again, and the folder imported before it, if any, is back in use.
One folder is in use at a time: a newer one replaces the older (re-run `uplift rollup` over all the raw
data, or with --since, and import the folder again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb

from access.roles import os_user
from data_sources import manifest as M
from data_sources.rollups import (
    LAKE_DATASET,
    ROLLUPS,
    Rollup,
    lake_table,
    live_manifest,
    rebuild_decision_daily,
)
from data_sources.store import WRITE_LOCK, WriteFailed, bump_data_version, transaction
from data_sources.write import ImportResult


def is_rollup_folder(path: Path) -> bool:
    """A folder holding a `_manifest.json`, as `uplift rollup` writes."""
    return path.is_dir() and (path / M.MANIFEST_NAME).is_file()


def content_hash(manifest: M.Manifest) -> str:
    """Same inputs and same figures, same hash: running the job again over unchanged files and importing
    the folder again changes nothing."""
    return hashlib.sha256(json.dumps(manifest.comparable(), sort_keys=True).encode("utf-8")).hexdigest()


def import_rollups(con: duckdb.DuckDBPyConnection, folder: Path, *, user: str | None = None) -> ImportResult:
    """Load a rollup folder into the store. Never raises for a bad folder: failures are results."""
    label = str(folder)
    try:
        manifest, _bytes_hash = M.read(folder)
    except M.ManifestError as exc:
        return ImportResult(label, None, LAKE_DATASET, "failed", str(exc))
    digest = content_hash(manifest)
    with WRITE_LOCK:
        same = con.execute(
            "SELECT import_id FROM imports WHERE content_hash = ? AND dataset = ? AND status = 'active' "
            "ORDER BY import_id DESC LIMIT 1", [digest, LAKE_DATASET]).fetchone()
        if same and live_manifest(con) == int(same[0]):
            return ImportResult(label, None, LAKE_DATASET, "unchanged",
                                f"{label}: already imported (import #{same[0]}); nothing changed.",
                                import_id=int(same[0]))
        try:
            with transaction(con):
                return _load(con, folder, manifest, digest, user or os_user())
        except (M.ManifestError, WriteFailed, duckdb.Error) as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return ImportResult(label, None, LAKE_DATASET, "failed", f"{label}: {text}. Nothing was imported.")


def _files(folder: Path, rollup: Rollup) -> str:
    return str(folder / rollup.name / "*" / "*.parquet") if rollup.by_month else str(folder / rollup.name / "*.parquet")


def _load_table(con: duckdb.DuckDBPyConnection, folder: Path, rollup: Rollup, expected: M.TableFigures,
                import_id: int) -> int:
    """One rollup's files into its lake table, checked against the manifest; returns its rows."""
    if not M.local_files(str(folder / rollup.name), (".parquet",)):
        if expected.total.rows:
            raise M.ManifestError(f"{rollup.name} has no Parquet files, but the manifest counts "
                                  f"{expected.total.rows:,} rows: the folder is incomplete")
        return 0
    source = ("read_parquet(?, hive_partitioning = true, hive_types = {'month': 'VARCHAR'})" if rollup.by_month
              else "read_parquet(?)")
    found = {name: str(kind) for name, kind, *_rest in con.execute(f"DESCRIBE SELECT * FROM {source}",
                                                                  [_files(folder, rollup)]).fetchall()}
    for column, kind in rollup.columns:
        if found.get(column) != kind:
            raise M.ManifestError(f"{rollup.name}: column {column} is {found.get(column, 'missing')}, expected {kind} "
                                  "(was the folder written by another version of `uplift rollup`?)")
    cols = ", ".join(rollup.column_names)
    con.execute(f"INSERT INTO {lake_table(rollup)} ({cols}, import_id) SELECT {cols}, ? FROM {source}",
                [import_id, _files(folder, rollup)])
    _check(con, rollup, expected, import_id)
    return expected.total.rows


def _check(con: duckdb.DuckDBPyConnection, rollup: Rollup, expected: M.TableFigures, import_id: int) -> None:
    """The rows loaded add up to the manifest's figures, in total and month by month."""
    sums = ", ".join(f"CAST(sum({m}) AS BIGINT)" for m in rollup.measures)
    month = "strftime(date, '%Y-%m')" if rollup.by_month else "'all'"
    rows = con.execute(f"SELECT {month}, count(*), {sums} FROM {lake_table(rollup)} WHERE import_id = ? GROUP BY 1",
                       [import_id]).fetchall()
    found = {str(r[0]): M.Figures(int(r[1]), dict(zip(rollup.measures, map(int, r[2:]), strict=True))) for r in rows}
    nothing = M.Figures(0, dict.fromkeys(rollup.measures, 0))
    total = M.Figures(sum(f.rows for f in found.values()),
                      {m: sum(f.sums[m] for f in found.values()) for m in rollup.measures})
    # Month by month first: the first month that differs says most about what is missing.
    pairs = [(f"{rollup.name} {key}", found.get(key, nothing), expected.months.get(key, nothing))
             for key in sorted(set(found) | set(expected.months))] if rollup.by_month else []
    pairs.append((rollup.name, total, expected.total))
    for where, have, want in pairs:
        if have != want:
            raise M.ManifestError(
                f"the files do not match the manifest ({where}: {_said(have)} in the files, {_said(want)} in "
                f"{M.MANIFEST_NAME}); the folder may be incomplete or still being written: run `uplift rollup` again")


def _said(f: M.Figures) -> str:
    return f"{f.rows:,} rows, " + ", ".join(f"{k} {v:,}" for k, v in f.sums.items())


def _load(con: duckdb.DuckDBPyConnection, folder: Path, manifest: M.Manifest, digest: str, user: str) -> ImportResult:
    label = str(folder)
    row = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
    import_id = int(row[0]) if row else 1
    previous = live_manifest(con)
    replaced = _rows_of(con, previous) if previous is not None else 0
    added = sum(_load_table(con, folder, r, manifest.tables[r.name], import_id) for r in ROLLUPS)
    con.execute("INSERT INTO rollup_manifests VALUES (?, ?, ?)", [import_id, str(folder.resolve()), manifest.to_json()])
    rebuild_decision_daily(con)
    flagged, notes = _flags(con, import_id, manifest)
    con.execute(
        """INSERT INTO imports (import_id, source, tab, dataset, content_hash, rows_read, rows_added,
               rows_replaced, rows_unchanged, rows_duplicate, rows_rejected, rows_flagged, flag_note,
               imported_at, imported_by)
           VALUES (?, ?, NULL, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?)""",
        [import_id, label, LAKE_DATASET, digest, added, added, replaced, flagged, " ".join(notes) or None,
         dt.datetime.now(), user])
    bump_data_version(con)
    d = manifest.decisions
    span = f", {manifest.months[0]} to {manifest.months[-1]}" if manifest.months else ""
    message = (f"{label}: imported as rollups (import #{import_id}): {added:,} rollup rows for {manifest.reviewed:,} "
               f"decisions ({manifest.correct:,} correct{span}), rolled up by {manifest.engine} "
               f"{manifest.engine_version} on {manifest.created_at[:10]}"
               + (f" (months from {manifest.since[:7]} recomputed" if manifest.since else " (")
               + f" from {d.read:,} raw rows: {d.duplicates:,} duplicates, {sum(d.rejected.values()):,} rejected).")
    if previous is not None:
        message += f" It replaces the rollups of import #{previous} (undo #{import_id} to bring them back)."
    return ImportResult(label, None, LAKE_DATASET, "imported", " ".join([message, *notes]), import_id=import_id,
                        rows_read=added, added=added, replaced=replaced, flagged=flagged)


def _rows_of(con: duckdb.DuckDBPyConnection, import_id: int) -> int:
    total = 0
    for rollup in ROLLUPS:
        row = con.execute(f"SELECT count(*) FROM {lake_table(rollup)} WHERE import_id = ?", [import_id]).fetchone()
        total += int(row[0]) if row else 0
    return total


def _flags(con: duckdb.DuckDBPyConnection, import_id: int, manifest: M.Manifest) -> tuple[int, list[str]]:
    """What is worth a look: trainees the store's roster lacks, and decisions counted twice."""
    notes = []
    row = con.execute(
        """SELECT count(DISTINCT trainee_id), coalesce(sum(reviewed), 0), min(trainee_id) FROM lake_decision_daily d
           WHERE import_id = ? AND NOT EXISTS (SELECT 1 FROM trainees t WHERE t.trainee_id = d.trainee_id)""",
        [import_id]).fetchone()
    people, flagged, example = (int(row[0]), int(row[1]), row[2]) if row else (0, 0, None)
    if people:
        notes.append(f"{flagged:,} decisions name {people:,} trainee id(s) not on the store's roster (e.g. {example}): "
                     "import the roster to give them a cohort, a name and a start date.")
    overlap = con.execute("SELECT count(*) FROM decisions WHERE strftime(date, '%Y-%m') IN (SELECT unnest(?::VARCHAR[]))",
                          [manifest.months]).fetchone()
    if overlap and overlap[0]:
        notes.append(f"{int(overlap[0]):,} decisions imported from files fall in the folder's months and are counted "
                     "beside it: undo their import if the folder already holds them.")
    return flagged, notes
