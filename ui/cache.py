"""The cache and store boundary between Streamlit and the rest: one store per process, a cursor per script
run, and a cache of measure results keyed on the store's data version."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb
import streamlit as st

from data_sources.store import (
    GATE,
    Store,
    StoreError,
    data_version,
    db_path,
    explain_failure,
    is_stopped,
    open_store,
)
from metrics.stats import one_blas_thread

T = TypeVar("T")
_local = threading.local()


@st.cache_resource(show_spinner=False)
def _store() -> Store:
    # One DuckDB database per process: a second read-write open of the file would be refused.
    return open_store(wait_seconds=10)


def store() -> Store:
    """The process's store, or a clear message and a stop (a corrupt or locked file)."""
    try:
        return _store()
    except StoreError as exc:
        st.error(f"The database could not be opened. {exc}")
        st.stop()
        raise  # unreachable: st.stop() ends the run


def stop_if_broken(exc: BaseException) -> None:
    """A database failing for a cause people can act on (damaged, disk full, stopped after a failed
    write) gets one clear message with the way back, on whichever page met it; a stopped database is
    reopened on the next run. Other errors return, for the caller's own guard."""
    message = explain_failure(exc, str(db_path())) if isinstance(exc, duckdb.Error) else None
    if message is None:
        return
    if is_stopped(exc):
        _store().close()
        _store.clear()
    st.error(message[:1].upper() + message[1:])
    st.stop()


def con() -> duckdb.DuckDBPyConnection:
    """A cursor for this script run. A DuckDB connection must not serve two sessions at once, and each
    session's script runs in its own thread, so the cursor lives in a thread-local."""
    cur = getattr(_local, "cursor", None)
    owner = getattr(_local, "store", None)
    current = store()
    if cur is None or owner is not current:
        cur = current.cursor()
        _local.cursor, _local.store = cur, current
    return cur


def start_run() -> None:
    """Called at the top of every script run (app.py): the run reads the data version afresh, once."""
    _local.version = None


def version() -> int:
    """The store's data version, read once per script run: every measure of a run then comes from the same
    version, and a page with ten measures no longer queries it ten times (3 ms each on the server's busy core).
    A run's thread can serve the next run too, hence start_run; an import in this run resets it (clear_caches)."""
    known: int | None = getattr(_local, "version", None)
    if known is None:
        known = _local.version = data_version(con())
    return known


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(_fn: Callable[..., Any], name: str, data_version: int, args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> Any:
    # Keyed on the data version: every import and undo bumps it, so a result never outlives its data.
    # `_fn` is not hashed (leading underscore); `name` identifies it.
    # Never half an import (data_sources.store.CommitGate); one BLAS thread, as measures do small algebra
    # on small aggregates (metrics.stats.one_blas_thread).
    with GATE.reading(), one_blas_thread():
        return _fn(con(), *args, **dict(kwargs))


def measure(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn(con, *args, **kwargs)` through the cache. Results are small frames or dataclasses."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    result: T = _cached(fn, name, version(), args, tuple(sorted(kwargs.items())))
    return result


@st.cache_data(max_entries=128, show_spinner=False)
def _derived(_fn: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> Any:
    # Keyed on the arguments' values (small frames, hashed by Streamlit), so they carry the data version.
    with one_blas_thread():
        return _fn(*args, **dict(kwargs))


def derived(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn(*args, **kwargs)`, a pure function of measure results that costs real CPU (the learning
    curves' least-squares fits: about 200 ms a run on the server's one busy core), through the cache:
    every session asking for the same figures gets them fitted once."""
    # A page's own functions all live in module "__main__": their file tells two pages' `_lines` apart.
    code = getattr(fn, "__code__", None)
    name = f"{fn.__module__}.{fn.__qualname__}:{code.co_filename if code else ''}"
    result: T = _derived(fn, name, args, tuple(sorted(kwargs.items())))
    return result


def clear_caches() -> None:
    _local.version = None
    _cached.clear()
    _derived.clear()
