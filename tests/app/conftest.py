"""AppTest fixtures: the real app on a real DuckDB file, with the sample data or empty."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_sources.sample import load_sample
from data_sources.store import open_store

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("app") / "sample.duckdb"
    store = open_store(path)
    results = load_sample(store.cursor())
    assert all(r.ok for r in results)
    store.close()
    return path


def _clear() -> None:
    # Caches survive across AppTest instances in one process; each test starts from a cold app.
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    def make(db: Path, **query: str) -> AppTest:
        monkeypatch.setenv("UPLIFT_DB", str(db))
        monkeypatch.chdir(ROOT)
        _clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        for key, value in query.items():
            at.query_params[key] = value
        return at

    yield make
    _clear()


@pytest.fixture
def sample_app(make_app: Callable[..., AppTest], sample_db: Path) -> AppTest:
    return make_app(sample_db)


@pytest.fixture
def empty_app(make_app: Callable[..., AppTest], tmp_path: Path) -> AppTest:
    return make_app(tmp_path / "empty.duckdb")


def assert_clean(at: AppTest) -> None:
    """No exception element and no error box from the page's guard."""
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert not any("Something went wrong" in str(v) for v in errors), errors


def frame_with(at: AppTest, column: str):  # -> pd.DataFrame
    """The first dataframe element that has `column` (AppTest does not expose dataframe keys)."""
    for element in at.dataframe:
        if column in element.value.columns:
            return element.value
    raise AssertionError(f"no dataframe with a {column!r} column")
