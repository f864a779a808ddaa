"""Fixtures shared by all tests: a real DuckDB store (in memory) with the bundled sample data imported."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from data_sources.sample import load_sample
from data_sources.store import Store, open_store


@pytest.fixture(scope="session")
def sample_store() -> Iterator[Store]:
    """The bundled sample data, imported once per test run. Tests must not write to it."""
    store = open_store(":memory:")
    results = load_sample(store.cursor())
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    yield store
    store.close()


@pytest.fixture
def sample_con(sample_store: Store) -> duckdb.DuckDBPyConnection:
    return sample_store.cursor()


@pytest.fixture
def empty_store() -> Iterator[Store]:
    store = open_store(":memory:")
    yield store
    store.close()


# Spark's first queries compile and warm up the JVM: on a busy 2-core machine a first small rollup has taken
# 100-200 s, more than the 300 s default leaves once a module's fixtures are counted in.
SPARK_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("spark"):
            item.add_marker(pytest.mark.timeout(SPARK_TIMEOUT))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local[2] SparkSession for the test run (it takes 5-7 s to start, longer on a busy machine), with
    the rollup job's own settings: UTC, no UI, few shuffle partitions, the loopback address. Fails, not
    skips, without pyspark or Java: `make test` installs both (`-m "not spark"` leaves these tests out)."""
    from data_sources.engines import start_spark

    session = start_spark("local[2]")
    yield session
    session.stop()
