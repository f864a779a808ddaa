"""How benchmarks.page_profile charges sampled time: to the innermost anchor on a stack, the forced garbage
collection apart, and nothing lost."""

from __future__ import annotations

import pytest

from benchmarks import page_profile as pp

ROOT = str(pp.ROOT)
SITE = "/x/.venv/lib/python3.11/site-packages"
RUN = "/x/site-packages/streamlit/runtime/scriptrunner/script_runner.py:600:_run_script"
PAGE = f"{ROOT}/views/overview.py:86:control_chart"
MEASURE = f"{ROOT}/metrics/weekly.py:20:weekly_impact"
PANDAS = f"{SITE}/pandas/core/frame.py:300:merge"
DUCKDB = f"{ROOT}/benchmarks/profiled_server.py:54:execute"
CHART = f"{ROOT}/ui/charts.py:60:p_chart"
ALTAIR = f"{SITE}/altair/utils/schemapi.py:1040:_deep_copy"
GC = f"{ROOT}/benchmarks/profiled_server.py:160:collect"
WEAKREF = "/usr/lib/python3.11/weakref.py:369:remove"


def test_neutral_code_counts_for_the_anchor_that_called_it() -> None:
    assert pp.category(PANDAS) is None
    assert pp.category(MEASURE) == "metrics"
    assert pp.category(DUCKDB) == "DuckDB"
    assert pp.category(ALTAIR) == pp.category(CHART) == "Altair"
    assert pp.category(PAGE) == "pages+ui"
    assert pp.category(RUN) == "Streamlit"


def test_each_sample_goes_to_the_innermost_anchor_and_the_rest_of_the_wall_is_other() -> None:
    run = pp.Sampled(wall=1.0, gc_seconds=0.2, gc_tracked=1000, stacks=[
        ((PANDAS, MEASURE, PAGE, RUN), 0.3),  # pandas inside a measure: metrics
        ((DUCKDB, MEASURE, PAGE, RUN), 0.1),  # the measure's query: DuckDB
        ((ALTAIR, CHART, PAGE, RUN), 0.25),
        ((WEAKREF, GC, RUN), 0.15),  # a weakref callback inside the collection: already in gc_seconds
    ])
    out = pp.breakdown(run)
    assert out["metrics"] == pytest.approx(0.3)
    assert out["DuckDB"] == pytest.approx(0.1)
    assert out["Altair"] == pytest.approx(0.25)
    assert out["gc"] == pytest.approx(0.2)
    assert "Streamlit" not in out
    assert out["other"] == pytest.approx(0.15)  # 1.0 - 0.85: unsampled time is shown, not lost
    assert sum(out.values()) == pytest.approx(run.wall)


def test_project_functions_are_ranked_by_inclusive_time_per_run() -> None:
    runs = [pp.Sampled(1.0, 0.0, 0, [((PANDAS, MEASURE, PAGE, RUN), 0.4), ((ALTAIR, CHART, PAGE, RUN), 0.2)]),
            pp.Sampled(1.0, 0.0, 0, [((DUCKDB, MEASURE, PAGE, RUN), 0.2)])]
    calls = dict(pp.top_project_calls(runs, 5))
    assert calls["views/overview.py:86 control_chart"] == pytest.approx(0.4)  # (0.6 + 0.2) / 2 runs
    assert calls["metrics/weekly.py:20 weekly_impact"] == pytest.approx(0.3)
    assert calls["ui/charts.py:60 p_chart"] == pytest.approx(0.1)
