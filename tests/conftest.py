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
