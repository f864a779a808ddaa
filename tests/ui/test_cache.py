"""The cache boundary: pure functions of measure results computed once for the same figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st

from data_sources.store import bump_data_version
from ui import cache
from ui.cache import derived


def test_derived_computes_the_same_figures_once_and_new_figures_again() -> None:
    calls: list[int] = []

    def total(frame: pd.DataFrame, *, times: int) -> int:
        calls.append(1)
        return int(frame["x"].sum()) * times

    st.cache_data.clear()
    frame = pd.DataFrame({"x": [1, 2]})
    assert derived(total, frame, times=2) == 6
    assert derived(total, frame.copy(), times=2) == 6  # equal values, another object: from the cache
    assert len(calls) == 1
    assert derived(total, pd.DataFrame({"x": [1, 3]}), times=2) == 8
    assert derived(total, frame, times=3) == 9
    assert len(calls) == 3


@pytest.fixture
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("UPLIFT_DB", str(tmp_path / "uplift.duckdb"))
    st.cache_resource.clear()
    yield
    cache.store().close()
    st.cache_resource.clear()


def test_a_run_reads_the_data_version_once_and_an_import_in_it_reads_it_again(app_store: None) -> None:
    cache.start_run()
    before = cache.version()
    bump_data_version(cache.con())  # another session's import, while this run draws
    assert cache.version() == before  # every measure of this run from the same version
    cache.start_run()  # the next run sees the import
    assert cache.version() == before + 1
    bump_data_version(cache.con())  # an import in this run, which then clears the caches
    cache.clear_caches()
    assert cache.version() == before + 2


@pytest.fixture
def warming(app_store: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A process that warms (as a server does), fresh: no version seen, nothing remembered or cached."""
    monkeypatch.setattr(cache, "WARM_UP", True)
    cache._warm_state.update(seen=None, thread=None, asked=None)
    cache.clear_caches()
    yield
    cache.warming(timeout=30)
    cache._warm_state.update(seen=None, thread=None, asked=None)


def test_a_new_data_version_warms_what_sessions_asked_for(warming: None) -> None:
    from data_sources.store import data_version

    calls: list[tuple[int, int]] = []

    def doubled(con: object, x: int) -> int:
        calls.append((x, data_version(con)))  # type: ignore[arg-type]
        return 2 * x

    cache.start_run()
    first = cache.version()
    assert cache.measure(doubled, 21) == 42 and calls == [(21, first)]
    bump_data_version(cache.con())  # an import in the app
    cache.start_run()
    assert cache.version() == first + 1  # the run that meets the new version starts the warm-up
    assert cache.warming(timeout=30)
    assert calls == [(21, first), (21, first + 1)]  # computed again, in the background
    assert cache.measure(doubled, 21) == 42
    assert len(calls) == 2  # ready when asked for


def test_an_app_restarted_after_an_import_warms_what_was_asked_before(
    warming: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt
    import functools

    import metrics.rates
    from metrics.filters import Filters

    f = Filters(start=dt.date(2026, 1, 1), markets=("TH",))
    cache.start_run()
    cache.measure(metrics.rates.rates, f, by=("week",))
    kept = cache.asked().path
    assert kept is not None and "metrics.rates:rates" in kept.read_text()

    counted: list[int] = []
    real = metrics.rates.rates

    @functools.wraps(real)
    def rates(*args: object, **kwargs: object) -> object:
        counted.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(metrics.rates, "rates", rates)
    # A new process: nothing seen or cached; it reads what the file remembers on its first version.
    cache._warm_state.update(seen=None, thread=None, asked=None)
    cache.clear_caches()
    cache.start_run()
    cache.version()
    assert cache.warming(timeout=30) and counted == [1]
    cache.measure(rates, f, by=("week",))
    assert counted == [1]  # the first visitor finds it ready


def test_the_kept_calls_name_only_uplifts_own_code(tmp_path: Path) -> None:
    from ui.asked import Asked

    kept = tmp_path / "uplift.duckdb.figures.json"
    kept.write_text('[{"fn": "os:system", "args": ["touch /tmp/x"], "kwargs": []},'
                    ' {"fn": "metrics.rates:rates", "args": [{"class": "subprocess:Popen", "fields": {}}], "kwargs": []},'
                    ' {"fn": "builtins:eval", "args": ["1"], "kwargs": []}, "junk", {"fn": 3},'
                    ' {"fn": "metrics.stats:os.system", "args": ["touch /tmp/x"], "kwargs": []},'
                    ' {"fn": "data_sources.undo:undo", "args": [1], "kwargs": []},'
                    ' {"fn": "outgoing.weekly_report:write_report", "args": [], "kwargs": []}]')
    assert Asked(kept).latest_first() == []
    kept.write_text("not json")
    assert Asked(kept).latest_first() == []


def test_the_warm_up_remembers_the_latest_calls_only() -> None:
    from ui.asked import ASKED_MAX, Asked

    asked = Asked()
    for i in range(ASKED_MAX + 5):
        asked.remember(print, "f", (i,), ())
    asked.remember(print, "f", (10,), ())  # asked again: the most recent now
    asked.remember(print, "f", ([1],), ())  # unhashable arguments are not remembered
    latest = [args for (_n, args, _k), _fn in asked.latest_first()]
    assert len(latest) == ASKED_MAX and latest[0] == (10,) and (4,) not in latest and (5,) in latest


def test_each_caller_gets_its_own_copy_of_a_cached_frame() -> None:
    results = cache.Results(max_entries=4)
    calls: list[int] = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": [1, 2]})

    first = results.get(("m", 1, (), ()), compute)
    first.loc[0, "x"] = 99  # a page changing what it was given
    first["y"] = 0
    second = results.get(("m", 1, (), ()), compute)
    assert second.equals(pd.DataFrame({"x": [1, 2]})) and len(calls) == 1


def test_the_cache_keeps_the_most_recently_used_results_and_no_failures() -> None:
    results = cache.Results(max_entries=2)
    calls: list[str] = []

    def value(name: str) -> object:
        def compute() -> str:
            calls.append(name)
            return name
        return compute

    for name in ("a", "b", "a", "c", "a", "b"):  # "b" is the least recently used when "c" comes in
        assert results.get((name, 1, (), ()), value(name)) == name
    assert calls == ["a", "b", "c", "b"]
    assert results.get(("a", 2, (), ()), value("a")) == "a"  # a new data version computes again
    assert calls == ["a", "b", "c", "b", "a"]

    def failing() -> object:
        calls.append("boom")
        raise ValueError("no")

    for _ in range(2):
        with pytest.raises(ValueError):
            results.get(("f", 1, (), ()), failing)
    assert calls.count("boom") == 2  # a failure is not kept: the next asker tries again


def test_callers_asking_at_once_for_a_missing_result_wait_for_one_computation() -> None:
    import threading
    import time

    results = cache.Results(max_entries=4)
    calls: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.3)
        return 7

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(results.get(("s", 1, (), ()), slow))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert got == [7] * 6 and calls == [1]
