"""Every measure `make bench` times runs on the sample store with the arguments the benchmark passes, so the
benchmark cannot drift from the measures' signatures unnoticed (it runs outside `make test`)."""

from __future__ import annotations

import duckdb
import pytest

from benchmarks.cases import CASES, context


@pytest.fixture
def ctx(sample_con: duckdb.DuckDBPyConnection):  # -> benchmarks.cases.Context
    return context(sample_con)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.page}: {c.name}" for c in CASES])
def test_each_benchmarked_measure_runs_as_the_benchmark_calls_it(sample_con, ctx, case) -> None:
    assert case.call(sample_con, ctx) is not None
    if case.sql is not None:
        sql, params = case.sql(ctx)
        sample_con.execute(sql, params).fetchall()
