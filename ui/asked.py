"""The measure calls sessions asked for lately, so that a new data version can have them ready before they are
asked for again (ui/cache.py's warm-up), kept in a file beside the database so that a restarted app (after
an import from the command line, which needs the app stopped) knows them too.

The file is JSON that names only measures and dataclasses defined in Uplift's `metrics` package: reading it
can call no other code, and a file that does not read back is ignored (the warm-up is an optimisation,
never a need).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ASKED_MAX = 64  # the calls remembered (a page asks for 3-12)
# Where remembered functions and argument classes may come from: the measures, which only read (a function
# of data_sources, such as an undo, is never called from the file; those pages' reads are cheap anyway),
# and the Overview's week, named one by one outside metrics.
_OWN = ("metrics.",)
_ALSO = frozenset({"outgoing.weekly_report:summarise_week"})

Key = tuple[str, tuple[Any, ...], tuple[Any, ...]]  # (function name, args, sorted kwargs)


class Asked:
    """The calls asked for lately, most recent last, at most ASKED_MAX (thread-safe). With a `path`, the
    calls that can be written down are kept there too, and read back by a new instance."""

    def __init__(self, path: Path | None = None) -> None:
        self._calls: dict[Key, Callable[..., Any]] = {}
        self._lock = threading.Lock()
        self.path = path
        if path is not None:
            for fn, name, args, kwargs in _read(path):
                self._calls[(name, args, kwargs)] = fn

    def remember(self, fn: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: tuple[Any, ...]) -> None:
        key = (name, args, kwargs)
        try:
            hash(key)
        except TypeError:
            return  # arguments that cannot be told apart cheaply are not replayed
        with self._lock:
            new = key not in self._calls
            self._calls.pop(key, None)
            self._calls[key] = fn
            while len(self._calls) > ASKED_MAX:
                self._calls.pop(next(iter(self._calls)))
            if new and self.path is not None:
                _write(self.path, list(self._calls.items()))

    def latest_first(self) -> list[tuple[Key, Callable[..., Any]]]:
        with self._lock:
            return list(reversed(self._calls.items()))

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def measure_name(fn: Callable[..., Any]) -> str:
    """How the cache names a measure (ui/cache.py keys its results on it)."""
    return f"{fn.__module__}.{fn.__qualname__}"


# ---- the file --------------------------------------------------------------------------------------------

def _write(path: Path, calls: list[tuple[Key, Callable[..., Any]]]) -> None:
    """The calls that can be written down, replacing the file whole (a reader never sees half of it)."""
    rows = []
    for (_name, args, kwargs), fn in calls:
        try:
            rows.append({"fn": _name_of(fn), "args": [_encode(a) for a in args],
                         "kwargs": [[k, _encode(v)] for k, v in kwargs]})
        except TypeError:
            continue
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only folder: the warm-up then works for this process only


def _read(path: Path) -> list[tuple[Callable[..., Any], str, tuple[Any, ...], tuple[Any, ...]]]:
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    out = []
    for row in rows if isinstance(rows, list) else []:
        try:
            fn = _resolve(row["fn"])
            args = tuple(_decode(a) for a in row["args"])
            kwargs = tuple((str(k), _decode(v)) for k, v in row["kwargs"])
        except (KeyError, TypeError, ValueError, AttributeError, ImportError):
            continue
        out.append((fn, measure_name(fn), args, kwargs))
    return out


def _allowed(name: str) -> bool:
    return (name.startswith(_OWN) or name in _ALSO) and "<locals>" not in name


def _name_of(obj: Any) -> str:
    name = f"{obj.__module__}:{obj.__qualname__}"
    if not _allowed(name):
        raise TypeError(f"{name} is not one of Uplift's own")
    return name


def _resolve(name: str) -> Any:
    """A function or class of Uplift's own measures by `module:qualname`, or ValueError."""
    module, _, qualname = str(name).partition(":")
    if not _allowed(str(name)) or not qualname:
        raise ValueError(f"{name} is not one of Uplift's own")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    # Defined there, not merely imported there (`metrics.stats:os.system` reaches os through an import).
    if not callable(obj) or getattr(obj, "__module__", "") != module or getattr(obj, "__qualname__", "") != qualname:
        raise ValueError(f"{name} is not one of Uplift's own")
    return obj


def _encode(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return {"date": v.isoformat()}
    if isinstance(v, tuple):
        return {"tuple": [_encode(x) for x in v]}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {"class": _name_of(type(v)),
                "fields": {f.name: _encode(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    raise TypeError(f"{type(v).__name__} is not written down")


def _decode(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dict) and set(v) == {"date"}:
        return dt.date.fromisoformat(v["date"])
    if isinstance(v, dict) and set(v) == {"tuple"}:
        return tuple(_decode(x) for x in v["tuple"])
    if isinstance(v, dict) and set(v) == {"class", "fields"}:
        cls = _resolve(v["class"])
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise ValueError(f"{v['class']} is not a dataclass")
        return cls(**{str(k): _decode(x) for k, x in v["fields"].items()})
    raise ValueError("not a value Uplift writes")
