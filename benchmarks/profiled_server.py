"""Streamlit's server with every script run sampled, for benchmarks.page_profile.

    UPLIFT_PROFILE_DIR=/tmp/p python -m benchmarks.profiled_server run app.py --server.port 8600

A sampler thread reads the stack of every running script thread (Streamlit runs each session's script in a
thread of its own) every `UPLIFT_PROFILE_INTERVAL` seconds (default 0.002) and weighs each sample by the time
since that thread's previous one, so a long call that holds the GIL is charged to the frame found after it.
A sampler adds little to the run it measures, where cProfile slowed Python-heavy code (Altair's schema
validation) three to four times more than C code and changed the picture.

Each run writes `NNNN.json`: the page asked for, the query string, the run's wall and CPU time (of its
thread), the seconds (wall and CPU) spent in the garbage collection Streamlit forces after every run (`runner.postScriptGC`; the sampler cannot run
while it holds the GIL, so it is timed apart), and the sampled stacks. The server's other side is
measured too: ForwardMsg serialisation is timed, and the main thread (the event loop: websocket I/O,
session bookkeeping, the file watcher's updates after each run) is sampled while it is not idle. Each file
carries what both did since the previous run started, which is the previous run's share once its client
has read its script_finished message.

The store's cursors are wrapped in `TimedConnection`, whose methods are Python functions, so a sample taken
while DuckDB runs a query or converts its result shows a frame of its own. Not part of the app: a measuring
tool only.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from streamlit.runtime.scriptrunner import script_runner
from streamlit.web.server.starlette import starlette_websocket

from data_sources.store import Store

OUT = Path(os.environ.get("UPLIFT_PROFILE_DIR", "profiles"))
INTERVAL = float(os.environ.get("UPLIFT_PROFILE_INTERVAL", "0.002"))
MAX_DEPTH = 200  # frames kept per sample, innermost first
_lock = threading.Lock()
_sending: dict[str, float] = {"seconds": 0.0, "bytes": 0, "messages": 0}
_runs = [0]


class TimedConnection:
    """A DuckDB cursor whose query and fetch calls show in a sampled stack under their own names."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, *args: Any, **kwargs: Any) -> TimedConnection:
        self._con.execute(*args, **kwargs)  # DuckDB returns the connection itself: return the wrapper
        return self

    def executemany(self, *args: Any, **kwargs: Any) -> TimedConnection:
        self._con.executemany(*args, **kwargs)
        return self

    def sql(self, *args: Any, **kwargs: Any) -> Any:
        return self._con.sql(*args, **kwargs)

    def df(self, *args: Any, **kwargs: Any) -> Any:
        return self._con.df(*args, **kwargs)

    def fetchdf(self, *args: Any, **kwargs: Any) -> Any:
        return self._con.fetchdf(*args, **kwargs)

    def fetchall(self) -> Any:
        return self._con.fetchall()

    def fetchone(self) -> Any:
        return self._con.fetchone()

    def fetchmany(self, *args: Any, **kwargs: Any) -> Any:
        return self._con.fetchmany(*args, **kwargs)

    def fetchnumpy(self) -> Any:
        return self._con.fetchnumpy()

    def to_arrow_table(self, *args: Any, **kwargs: Any) -> Any:
        return self._con.to_arrow_table(*args, **kwargs)

    def cursor(self) -> TimedConnection:
        return TimedConnection(self._con.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


DUCKDB_METHODS = frozenset(n for n in vars(TimedConnection) if not n.startswith("_") and n != "cursor")


class Recording:
    """One script run's samples: stack (innermost first) -> seconds."""

    def __init__(self) -> None:
        self.stacks: dict[tuple[str, ...], float] = defaultdict(float)
        self.last = time.perf_counter()
        self.gc_seconds = 0.0
        self.gc_cpu_seconds = 0.0  # the collection's CPU time: what it costs on a machine that is not idle
        self.tracked = -1  # objects tracked by the garbage collector after the run's collection
        self.census_seconds = 0.0  # counting them: left out of the run's wall time
        self.census_cpu_seconds = 0.0  # and CPU time
        self.gc_found = 0  # unreachable objects the collection found


_active: dict[int, Recording] = {}  # script thread id -> its current run


def _frame_name(code: Any) -> str:
    return f"{code.co_filename}:{code.co_firstlineno}:{code.co_name}"


_loop = Recording()  # the main thread's samples (the server's event loop) since the last run started
IDLE = ("selectors.py", "select")  # the event loop waiting for something to do


def _stack(frame: Any) -> tuple[str, ...]:
    stack = []
    while frame is not None and len(stack) < MAX_DEPTH:
        stack.append(_frame_name(frame.f_code))
        frame = frame.f_back
    return tuple(stack)


def _sample_forever() -> None:
    loop_thread = threading.main_thread().ident
    while True:
        time.sleep(INTERVAL)
        with _lock:
            targets = dict(_active)
        frames = sys._current_frames()
        now = time.perf_counter()
        for tid, rec in targets.items():
            rec.stacks[_stack(frames.get(tid))] += now - rec.last
            rec.last = now
        with _lock:
            stack = _stack(frames.get(loop_thread))
            if stack and not (stack[0].split(":")[0].endswith(IDLE[0]) and stack[0].endswith(":" + IDLE[1])):
                _loop.stacks[stack] += now - _loop.last
            _loop.last = now


def _sampled_run_script(original: Any) -> Any:
    def run_script(self: Any, rerun_data: Any) -> None:
        rec = Recording()
        tid = threading.get_ident()
        with _lock:
            seq = _runs[0]
            _runs[0] += 1
            sent = dict(_sending)
            _sending.update(seconds=0.0, bytes=0, messages=0)
            loop = dict(_loop.stacks)
            _loop.stacks.clear()
            _active[tid] = rec
        began, cpu = time.perf_counter(), time.thread_time()
        try:
            original(self, rerun_data)
        finally:
            wall = time.perf_counter() - began - rec.census_seconds
            cpu = time.thread_time() - cpu - rec.census_cpu_seconds
            with _lock:
                _active.pop(tid, None)
            frames: dict[str, int] = {}
            stacks = [[[frames.setdefault(f, len(frames)) for f in stack], seconds]
                      for stack, seconds in rec.stacks.items()]
            loop_stacks = [[[frames.setdefault(f, len(frames)) for f in stack], seconds]
                           for stack, seconds in loop.items()]
            record = {"seq": seq, "page": rerun_data.page_name, "query": rerun_data.query_string, "wall": wall, "cpu": cpu,
                      "gc_seconds": rec.gc_seconds, "gc_cpu_seconds": rec.gc_cpu_seconds, "gc_tracked": rec.tracked, "gc_found": rec.gc_found, "previous_run_sent": sent,
                      "frames": list(frames), "stacks": stacks, "previous_run_loop": loop_stacks}
            (OUT / f"{seq:04d}.json").write_text(json.dumps(record))

    return run_script


def _timed_gc(original: Any) -> Any:
    def collect(*args: Any, **kwargs: Any) -> int:
        began, cpu = time.perf_counter(), time.thread_time()
        found: int = original(*args, **kwargs)
        rec = _active.get(threading.get_ident())
        if rec is not None:
            rec.gc_seconds += time.perf_counter() - began
            rec.gc_cpu_seconds += time.thread_time() - cpu
            rec.last = time.perf_counter()  # the collection is timed here, not by the samples' weights
            rec.gc_found += found
            if rec.tracked < 0:  # what a full collection has to walk: the objects the collector tracks
                census, census_cpu = time.perf_counter(), time.thread_time()
                rec.tracked = len(gc.get_objects())
                rec.census_seconds = time.perf_counter() - census
                rec.census_cpu_seconds = time.thread_time() - census_cpu
        return found

    return collect


def _timed_serialize(original: Any) -> Any:
    def serialize(msg: Any) -> bytes:
        began = time.perf_counter()
        payload: bytes = original(msg)
        with _lock:
            _sending["seconds"] += time.perf_counter() - began
            _sending["bytes"] += len(payload)
            _sending["messages"] += 1
        return payload

    return serialize


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    Store.cursor = lambda self: TimedConnection(self.con.cursor())  # type: ignore[method-assign,assignment,return-value]
    script_runner.ScriptRunner._run_script = _sampled_run_script(  # type: ignore[method-assign]
        script_runner.ScriptRunner._run_script)
    gc.collect = _timed_gc(gc.collect)  # script_runner calls gc.collect(2) through the module at run time
    # The websocket client imports the function by name: patch the name it calls.
    starlette_websocket.serialize_forward_msg = _timed_serialize(starlette_websocket.serialize_forward_msg)
    threading.Thread(target=_sample_forever, name="uplift-sampler", daemon=True).start()
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
