"""The one owner of DuckDB connections.

DuckDB allows one read-write process per file, and one connection must not serve two threads at once
(`connection is busy with another call`). So: one `Store` per process (the app holds it in
`st.cache_resource`), and `store.cursor()` for each session or thread.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from data_sources.schema import migrate

DEFAULT_PATH = Path("data") / "uplift.duckdb"


class StoreError(Exception):
    """A problem with the database file itself, said for people."""


class StoreBusy(StoreError):
    """Another process (usually the running app) holds the database."""


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

# Writers in one process take turns (imports of files and of rollup folders, undo): DuckDB would otherwise
# abort the second with a write conflict on the data version. Other processes cannot open the file while
# this one holds it.
WRITE_LOCK = threading.Lock()


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
    path: str | Path | None = None, *, wait_seconds: float = 5.0, memory_limit: str | None = None
) -> Store:
    """Open (creating and migrating if needed) the store at `path`, ":memory:" for tests.

    If another process holds the file, retry for `wait_seconds`, then raise StoreBusy. `memory_limit`
    (DuckDB's syntax, "4GB") replaces the app's cap (`UPLIFT_MEMORY_LIMIT`, default 1GB) for this process.
    """
    target = str(path) if path is not None else str(db_path())
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(target, config=_config(memory_limit))
            break
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"{target} is in use by another Uplift process (the app?). Import from the app's "
                        "Data page, or stop the app and try again."
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            raise StoreError(_corrupt_message(target, exc)) from exc
        except duckdb.Error as exc:
            raise StoreError(_corrupt_message(target, exc)) from exc
    try:
        migrate(con)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(_corrupt_message(target, exc)) from exc
    return Store(con, target)


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
