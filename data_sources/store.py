"""The one owner of DuckDB connections.

DuckDB allows one read-write process per file, and one connection must not serve two threads at once
(`connection is busy with another call`). So: one `Store` per process (the app holds it in
`st.cache_resource`), and `store.cursor()` for each session or thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from data_sources.readers import sweep_temp_files
from data_sources.schema import migrate

DEFAULT_PATH = Path("data") / "uplift.duckdb"


class StoreError(Exception):
    """A problem with the database file itself, said for people."""


class StoreBusy(StoreError):
    """Another process (usually the running app) holds the database."""


class StoreDamaged(StoreError):
    """The file opens but part of it is missing or does not match its checksum."""


# How DuckDB 2.0 words the failures people can act on (checked on these machines): a damaged file, a full
# disk, and the stop that follows a failed write of the file (the process must reopen it).
_DAMAGE = ("corrupt database file", "does not match stored checksum", "could not read enough bytes")
_DISK_FULL = ("no space left on device", "disk quota exceeded", "file too large")
_STOPPED = ("database has been invalidated",)


def _says(exc: BaseException, signs: tuple[str, ...]) -> bool:
    text = str(exc).lower()
    return any(sign in text for sign in signs)


def damaged_message(target: str) -> str:
    return (
        f"{target} is damaged (part of it is missing or does not match its checksum), so its data cannot be "
        "trusted. Restore the latest backup with `uplift restore FILE` (backups are in backups/ beside the "
        "database), or move the file away to start empty."
    )


def explain_failure(exc: BaseException, target: str) -> str | None:
    """A sentence for people when a database error has a cause they can act on, else None."""
    if _says(exc, _DISK_FULL):
        return (
            f"the disk holding {target} is full, so nothing was saved; free some space (or move the database "
            "with UPLIFT_DB) and try again"
        )
    if _says(exc, _DAMAGE):
        return damaged_message(target)
    if _says(exc, _STOPPED):
        return (
            f"{target} stopped after a failed write (often a full disk); free some space, then restart the app "
            "or run the command again, and check `uplift imports` for what was saved"
        )
    return None


def is_stopped(exc: BaseException) -> bool:
    """The database instance refuses all work until the process reopens it."""
    return _says(exc, _STOPPED)


def database_file(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return str(rows[0][0]) if rows and rows[0][0] else ":memory:"


class CommitGate:
    """Readers never see half an import.

    DuckDB 2.0 lets a query that starts while a large import is committing see the import's appended
    rows before its other tables (the rollup, the log) are committed (measured here: a reader saw 400,000
    new decisions beside an empty rollup). So a COMMIT of an import or undo takes this gate exclusively and
    the app's reads take it shared: a read waits for the commit to finish, never longer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def committing(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._writing = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


GATE = CommitGate()

# Imports and undos in one process take turns: DuckDB would otherwise abort the second with a write
# conflict on the data version. Other processes cannot open the file while this one holds it.
WRITE_LOCK = threading.Lock()


class WriteFailed(StoreError):
    """An import or undo the database could not save, with the cause people can act on."""


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction for an import or undo; its COMMIT passes the gate, so readers never see half.
    A failure with a cause people can act on (a full disk) is raised as WriteFailed, saying so."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        with GATE.committing():
            con.execute("COMMIT")
    except BaseException as exc:
        _rollback(con)
        explained = explain_failure(exc, _file_or_unknown(con)) if isinstance(exc, duckdb.Error) else None
        if explained:
            raise WriteFailed(explained) from exc
        raise


def _file_or_unknown(con: duckdb.DuckDBPyConnection) -> str:
    try:
        return database_file(con)
    except duckdb.Error:  # a database stopped by the failure answers nothing more
        return "the database"


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, unless DuckDB already has: a COMMIT that fails (a full disk) aborts the transaction
    itself, and a ROLLBACK then would replace the real cause with "no transaction is active"."""
    with suppress(duckdb.TransactionException, duckdb.FatalException):
        con.execute("ROLLBACK")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    """The first cell of a query's one row as an int (0 when the query gives none)."""
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def db_path() -> Path:
    """`UPLIFT_DB` if set, else data/uplift.duckdb under the working directory."""
    return Path(os.environ.get("UPLIFT_DB") or DEFAULT_PATH)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "already open" in text


@dataclass
class Store:
    con: duckdb.DuckDBPyConnection
    path: str

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def close(self) -> None:
        self.con.close()


# The batch command line (imports, undo, sample) is not the app: it runs alone, and a 10M-decision import
# spilled to disk under the app's cap (55 s at 1 GB against 39 s at 4 GB, peak 1.3 GiB against 3.9 GiB,
# on the 2-core benchmark machine). `UPLIFT_CLI_MEMORY_LIMIT` overrides it.
CLI_MEMORY_LIMIT = "4GB"


def open_store(
    path: str | Path | None = None,
    *,
    wait_seconds: float = 5.0,
    memory_limit: str | None = None,
    waiting: Callable[[str], None] | None = None,
    create: bool = True,
) -> Store:
    """Open (creating and migrating if needed) the store at `path`, ":memory:" for tests.

    If another process holds the file, retry for `wait_seconds` (telling `waiting` once), then raise
    StoreBusy; a damaged file raises StoreDamaged, naming `uplift restore`. With `create` false, a missing
    file is an error said before any lock is tried. `memory_limit`
    (DuckDB's syntax, "4GB") replaces the app's cap (`UPLIFT_MEMORY_LIMIT`, default 1GB) for this process.
    """
    target = str(path) if path is not None else str(db_path())
    sweep_temp_files()
    if target != ":memory:":
        _prepare_file(Path(target), create=create)
    con = _connect(target, wait_seconds, memory_limit, waiting)
    try:
        migrate(con)
        _check_complete(con, target)
    except duckdb.Error as exc:
        con.close()
        if _says(exc, _DAMAGE):  # read while migrating: the same damage _check_complete looks for
            raise StoreDamaged(damaged_message(target)) from exc
        raise StoreError(explain_failure(exc, target) or _corrupt_message(target, exc)) from exc
    except StoreDamaged:
        con.close()
        raise
    return Store(con, target)


def _prepare_file(target: Path, *, create: bool) -> None:
    """The path is checked before any lock (a missing folder is created, private), and an existing
    database is made readable by its owner only: it holds people's performance data."""
    if target.is_dir():
        raise StoreError(f"{target} is a folder, not a database file: pass the file's path (e.g. {target / 'uplift.duckdb'})")
    if not create and not target.exists():
        raise StoreError(f"there is no database at {target}: check --db or UPLIFT_DB (nothing was imported there yet)")
    if target.parent.exists() and not target.parent.is_dir():
        raise StoreError(f"{target.parent} is a file, not a folder: choose another place for the database")
    if not target.parent.exists():
        target.parent.mkdir(mode=0o700, parents=True)
    if target.exists():
        private(target)


def private(path: Path) -> None:
    """Owner-only permissions on a file Uplift wrote (database, WAL, backup, export)."""
    with suppress(OSError):  # a file owned by someone else: leave it as it is
        path.chmod(0o600)


def _connect(
    target: str, wait_seconds: float, memory_limit: str | None, waiting: Callable[[str], None] | None
) -> duckdb.DuckDBPyConnection:
    """Connect, retrying while another process holds the file (saying so once through `waiting`)."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    told = False
    while True:
        try:
            with _private_files():
                con = duckdb.connect(target, config=_config(memory_limit))
            if target != ":memory:":
                private(Path(target))
            return con
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise StoreError(explain_failure(exc, target) or _corrupt_message(target, exc)) from exc
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"{target} is in use by another Uplift process (the app?). Import from the app's "
                    "Data page, or stop the app and try again."
                ) from exc
            if waiting is not None and not told:
                waiting(f"{target} is in use by another process; waiting up to {wait_seconds:.0f} s for it")
                told = True
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as exc:
            raise StoreError(explain_failure(exc, target) or _corrupt_message(target, exc)) from exc


@contextmanager
def _private_files() -> Iterator[None]:
    """A database created meanwhile is readable by its owner only. The umask is process-wide: stores are
    opened once per process, before other threads write files. (The WAL, created later at a commit, is
    made private by the CLI's umask, and in the app sits in the owner-only data folder.)"""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _check_complete(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """A file shorter than the blocks its header counts was cut (a copy or a disk that failed half way):
    it opens, and fails later on whichever page reads a missing block. Found here instead, in one query."""
    if target == ":memory:":
        return
    # fetchall: a result left open keeps its transaction open (DuckDB 2.0 streams results), and a
    # CHECKPOINT on another cursor then finds "other write transactions active".
    rows = con.execute(
        "SELECT block_size, total_blocks - free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchall()
    row = rows[0] if rows else None
    if not row or not row[0]:
        return
    # Blocks in use, not all counted: DuckDB 2.0 cuts free blocks off the end of the file while its header
    # still counts them (seen here after undoing the sample data: 26 counted, 24 in the file, 15 free), so
    # a sound file can be shorter than every block counted, never than the blocks in use.
    needed = _HEADER_BYTES + int(row[0]) * int(row[1])
    if Path(target).stat().st_size < needed:
        raise StoreDamaged(damaged_message(target))


# DuckDB's file starts with a main header and two database headers of 4 KiB each, then the blocks.
_HEADER_BYTES = 3 * 4096


def _config(memory_limit: str | None = None) -> dict[str, str | bool | int | float | list[str]]:
    # DuckDB would take 80% of RAM by default; a shared team machine and the 2 GiB target for the app
    # want a cap. Above it, large imports spill to disk instead of growing the process.
    return {"memory_limit": memory_limit or os.environ.get("UPLIFT_MEMORY_LIMIT", "1GB")}


def cli_memory_limit() -> str:
    """The cap for batch commands: `UPLIFT_CLI_MEMORY_LIMIT`, else CLI_MEMORY_LIMIT."""
    return os.environ.get("UPLIFT_CLI_MEMORY_LIMIT") or CLI_MEMORY_LIMIT


def _corrupt_message(target: str, exc: Exception) -> str:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"{target} could not be opened as an Uplift database ({first}). Restore a backup with "
        "`uplift restore FILE`, or move the file away to start empty."
    )


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """A number every import and undo bumps; caches key on it."""
    row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
    return int(row[0]) if row else 0


def bump_data_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version' "
        "RETURNING value"
    ).fetchone()
    return int(row[0]) if row else 0
