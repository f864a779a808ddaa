"""AppTest fixtures: the real app on a real DuckDB file, with the sample data or empty."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from google.protobuf import text_format
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from data_sources import sample
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


needs_sample = pytest.mark.skipif(
    not (Path(sample.EXPORTS) / "decisions.csv").exists(), reason="sample_data/exports not generated yet"
)


def open_page(at: AppTest, page: str, *, select_nothing: bool = False) -> AppTest:
    """Run the app, go to `page` (through app.py), and optionally set the sidebar's dates to select nothing."""
    at.run()
    at.switch_page(page).run()
    assert_clean(at)
    assert at.sidebar.children, "the page ran without app.py"
    if select_nothing:
        first, last = at.date_input(key="from").min, at.date_input(key="to").max
        at.date_input(key="from").set_value(last)  # 'From' after 'To': the sidebar selects nothing
        at.date_input(key="to").set_value(first)
        at.run()
    return at


def presenting(make_app: Callable[..., AppTest], sample_db: Path, page: str) -> AppTest:
    """`page` with presenter mode switched on by the URL, as a shared link would."""
    at = open_page(make_app(sample_db, present="1"), page)
    assert at.toggle(key="present").value
    return at


def roster() -> pd.DataFrame:
    """The sample roster as exported (read from the CSV, not through the app)."""
    return pd.read_csv(Path(sample.EXPORTS) / "trainees.csv", dtype=str)


def _nodes(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _arrow_tables(message: object) -> Iterator[str]:
    """Every Arrow IPC stream inside a proto message (a table's cells, a chart's datasets, whatever element
    type carries them), decoded to CSV: names travel there as Arrow, not as text."""
    for field, value in message.ListFields():  # type: ignore[attr-defined]
        single = isinstance(value, Message | bytes | str | int | float | bool)
        for item in [value] if single else value:
            if field.type == field.TYPE_MESSAGE:
                yield from _arrow_tables(item)
            elif field.type == field.TYPE_BYTES and item:
                try:
                    yield pa.ipc.open_stream(item).read_all().to_pandas().to_csv()
                except (pa.ArrowInvalid, OSError):
                    continue  # bytes that are not an Arrow stream


def shown_text(at: AppTest) -> str:
    """Everything the page sends to the browser, as text: every element's message (labels, bodies, help,
    options) and every Arrow payload in it, whatever the element type (table cells, chart data)."""
    parts: list[str] = []
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            proto = getattr(node, "proto", None)
            if proto is None:
                continue
            parts.append(text_format.MessageToString(proto, as_utf8=True))
            parts.extend(_arrow_tables(proto))
    return "\n".join(parts)


def leaks(at: AppTest, secrets: set[str]) -> set[str]:
    """Which of `secrets` (names, ids) appear anywhere the page sends to the browser."""
    text = shown_text(at)
    return {s for s in secrets if s and s in text}


def names_shown(at: AppTest) -> list[str]:
    text = shown_text(at)
    return [n for n in roster()["name"].dropna() if n in text]


def ids_shown(at: AppTest) -> list[str]:
    text = shown_text(at)
    return [t for t in roster()["trainee_id"] if re.search(rf"\b{re.escape(t)}\b", text)]
