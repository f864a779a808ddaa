"""Backups of the store: a consistent copy of the database file, and restoring one in its place."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from data_sources.store import StoreError, open_store, private


def backup(db: Path, target: Path | None = None) -> Path:
    """Copy the database to `target` (default: backups/<name>-<timestamp>.duckdb beside it).

    The store is opened (so no other process is writing: DuckDB's lock) and checkpointed, so the file on
    disk holds every committed import before it is copied."""
    store = open_store(db, create=False)
    try:
        store.con.execute("CHECKPOINT")
        if target is None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            target = db.parent / "backups" / f"{db.stem}-{stamp}.duckdb"
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_copy(db, target)
    finally:
        store.close()
    _check(target)
    return target


def _check(path: Path) -> int:
    """The number of imports in an Uplift database file, or StoreError if it is not one."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"{path} is not a readable DuckDB database ({str(exc).splitlines()[0]})") from exc
    try:
        row = con.execute("SELECT count(*) FROM imports").fetchone()
        con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except duckdb.Error as exc:
        raise StoreError(f"{path} is a DuckDB file but not an Uplift database") from exc
    finally:
        con.close()
    return int(row[0]) if row else 0


def restore(db: Path, source: Path) -> tuple[int, Path | None]:
    """Put the backup `source` in place of `db`. The current file, if any, is kept beside it as
    `<name>.before-restore-<timestamp>.duckdb`, so a restore can itself be undone.
    Returns (imports in the restored store, where the previous file went)."""
    if not source.exists():
        raise StoreError(f"{source}: no such backup file")
    imports = _check(source)
    kept: Path | None = None
    if db.exists():
        try:
            # Refuse while another process (the app) holds the file: it would keep writing to the old one.
            duckdb.connect(str(db)).close()
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(f"{db} is in use by another Uplift process (the app?): stop it, then restore") from exc
        except duckdb.Error:
            pass  # a corrupt file is exactly what a restore replaces
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        kept = db.with_name(f"{db.stem}.before-restore-{stamp}{db.suffix}")
        db.rename(kept)
        wal = db.with_name(db.name + ".wal")
        if wal.exists():
            wal.rename(kept.with_name(kept.name + ".wal"))
    db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private_copy(source, db)
    return imports, kept


def _private_copy(source: Path, target: Path) -> None:
    """Copy into a file readable by its owner only, from the first byte: backups hold everyone's data."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, 4 * 1024 * 1024)
    private(target)  # an existing file keeps its mode through O_TRUNC
