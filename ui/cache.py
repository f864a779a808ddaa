"""The cache and store boundary between Streamlit and the rest: one store per process, a cursor per script
run, and a cache of measure results keyed on the store's data version."""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb
import streamlit as st
from streamlit import runtime
from streamlit.logger import get_logger

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
from ui.asked import Asked, measure_name

T = TypeVar("T")
_log = get_logger(__name__)  # Streamlit's: its level and format, in the server's log
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
    A run's thread can serve the next run too, hence start_run; an import in this run resets it (clear_caches).
    A version this process has not seen before (an import, here or from the command line) starts the warm-up."""
    known: int | None = getattr(_local, "version", None)
    if known is None:
        known = _local.version = data_version(con())
        _warm_for(known)
    return known


Key = tuple[str, int, tuple[Any, ...], tuple[Any, ...]]


class Results:
    """Measure results by (name, data version, args, kwargs), the most recently used `max_entries` kept.

    Not st.cache_data: a hit there hashes the arguments by value and unpickles the result, 3-7 ms per
    measure on the sample data (a page's rerun asks for five to ten), while the arguments here are already
    hashable (ui.asked keys on them) and a deep copy of a small frame costs a tenth of that. Each caller
    gets its own copy, as from st.cache_data, so a page changing a frame cannot change another's. Callers
    asking for the same missing result at once wait for one computation (a room opening the Overview)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._values: OrderedDict[Key, Any] = OrderedDict()
        self._computing: dict[Key, threading.Lock] = {}

    def _get(self, key: Key) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._values:
                return False, None
            self._values.move_to_end(key)
            return True, self._values[key]

    def stored(self, key: Key, compute: Callable[[], Any]) -> Any:
        """The kept result for `key` (not a copy: for callers that only fill the cache), computed if missing."""
        found, value = self._get(key)
        if found:
            return value
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found, value = self._get(key)
            if found:
                return value
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            # Kept and its lock released in one step: a caller arriving in between would compute it again.
            with self._lock:
                self._values[key] = value
                self._computing.pop(key, None)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
            return value

    def get(self, key: Key, compute: Callable[[], Any]) -> Any:
        """A copy of the result for `key`, computed if missing."""
        return copy.deepcopy(self.stored(key, compute))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


@st.cache_resource(show_spinner=False)
def _results() -> Results:
    # A resource, so that clearing Streamlit's resources (a new store in tests and benchmarks) clears it too.
    return Results(max_entries=512)


def _computed(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> Callable[[], Any]:
    def compute() -> Any:
        # Never half an import (data_sources.store.CommitGate); one BLAS thread, as measures do small algebra
        # on small aggregates (metrics.stats.one_blas_thread).
        with GATE.reading(), one_blas_thread():
            return fn(con(), *args, **dict(kwargs))

    return compute


def _cached(fn: Callable[..., Any], name: str, data_version: int, args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> Any:
    """Fill the cache (the warm-up): keyed on the data version, which every import and undo bumps, so a
    result never outlives its data; `name` identifies `fn`."""
    return _results().stored((name, data_version, args, kwargs), _computed(fn, args, kwargs))


def measure(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn(con, *args, **kwargs)` through the cache. Results are small frames or dataclasses."""
    name = measure_name(fn)
    keyed = tuple(sorted(kwargs.items()))
    asked().remember(fn, name, args, keyed)
    result: T = _results().get((name, version(), args, keyed), _computed(fn, args, keyed))
    return result


# ---- the warm-up after an import -------------------------------------------------------------------------
# An import changes the data version, so every figure is computed again on its first view, and at 10M
# decisions the heavy ones (the coaching list, item health) take seconds. What sessions asked for lately is
# remembered here, and when a new version appears a background thread computes it again, most recent first,
# so that the people who open those pages next find them ready. Nothing is shown from it: it fills the cache.

# Whether to warm: None = only inside a Streamlit server (not in AppTest, whose runs must not share the CPU
# with a warm-up they did not ask for); tests of the warm-up set True.
WARM_UP: bool | None = None
_warm_lock = threading.Lock()
_warm_state: dict[str, Any] = {"seen": None, "thread": None, "asked": None}


def _warms() -> bool:
    if WARM_UP is not None:
        return WARM_UP
    # A server's runtime; AppTest's is a stand-in (a MagicMock with Runtime's spec in streamlit 1.67).
    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime


def asked() -> Asked:
    """This process's remembered calls, kept beside the database file when the process warms (ui/asked.py),
    so that an app restarted after a command-line import warms what was asked for before."""
    path = db_path()
    kept = path.with_name(path.name + ".figures.json") if _warms() and str(path) != ":memory:" else None
    with _warm_lock:
        current: Asked | None = _warm_state["asked"]
        if current is None or current.path != kept:
            current = _warm_state["asked"] = Asked(kept)
        return current


def _warm_for(seen: int) -> None:
    """Start the warm-up when `seen` is a version this process has not met: after an import in the app, or,
    on the process's first version, with what the kept file remembers."""
    if not _warms():
        return
    calls = asked()
    with _warm_lock:
        if _warm_state["seen"] == seen:
            return
        _warm_state["seen"] = seen
        if not calls.latest_first():
            return
        thread = threading.Thread(target=_warm, args=(seen, calls), name="uplift-warm-up", daemon=True)
        _warm_state["thread"] = thread
    thread.start()


def _warm(seen: int, calls: Asked) -> None:
    """Compute the remembered calls for version `seen`; stop if a newer version arrives meanwhile. A call
    that fails is left for its page, which shows the failure where it belongs."""
    began, ready = time.perf_counter(), 0
    for (name, args, kwargs), fn in calls.latest_first():
        if _warm_state["seen"] != seen:
            return
        try:
            _cached(fn, name, seen, args, kwargs)
            ready += 1
        except Exception:  # the page that asks for it again reports it
            _log.info("warm-up: %s failed; its page will say why", name, exc_info=True)
    _log.info("warm-up: %d figures ready for data version %d in %.1f s", ready, seen, time.perf_counter() - began)


def warming(timeout: float | None = None) -> bool:
    """Wait for the current warm-up (for tests and benchmarks); True when none is running."""
    thread = _warm_state["thread"]
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


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
    """Forget every result (an import in this process): the next run reads the new version, which warms."""
    _local.version = None
    _results().clear()
    _derived.clear()
