"""Undo is exact: the store after undoing an import is the store as if that import had never happened,
whatever came after it (issue 10, "Undo removes rows another import still holds")."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_sources.imports import import_path
from data_sources.store import open_store
from data_sources.undo import undo

KEYS = ("T1", "T2", "T3", "T4")
MARKETS = ("TH", "VN", "ID")


@pytest.fixture
def con():
    store = open_store(":memory:")
    yield store.cursor()
    store.close()


def roster(folder: Path, name: str, rows: dict[str, str]) -> Path:
    path = folder / name
    path.write_text("trainee_id,market\n" + "".join(f"{k},{m}\n" for k, m in rows.items()), encoding="utf-8")
    return path


def stored(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT trainee_id, market FROM trainees").fetchall())


def test_undoing_week_one_keeps_the_rows_week_two_also_delivered(con, tmp_path):
    [week1] = import_path(con, roster(tmp_path, "week1.csv", {"T1": "TH", "T2": "VN"}))
    [week2] = import_path(con, roster(tmp_path, "week2.csv", {"T1": "TH", "T2": "VN", "T3": "ID"}))
    assert (week2.added, week2.unchanged) == (1, 2)
    undo(con, week1.import_id)
    assert stored(con) == {"T1": "TH", "T2": "VN", "T3": "ID"}
    undo(con, week2.import_id)
    assert stored(con) == {}


def test_reimporting_a_file_after_undoing_an_earlier_one_works(con, tmp_path):
    a = roster(tmp_path, "a.csv", {"T1": "TH"})
    b = roster(tmp_path, "b.csv", {"T1": "VN", "T2": "ID"})
    [first] = import_path(con, a)
    [second] = import_path(con, b)
    undo(con, first.import_id)
    assert stored(con) == {"T1": "VN", "T2": "ID"}
    [again] = import_path(con, a)
    assert again.status == "imported" and stored(con) == {"T1": "TH", "T2": "ID"}
    undo(con, second.import_id)
    assert stored(con) == {"T1": "TH"}


class Model:
    """The store as the issue defines it: the active recorded imports replayed in order, each row replacing
    the row with its key. An import is not recorded when its file is the same as an active import's, or when
    every row is already in the store as it is (then nothing changes and there is nothing to undo)."""

    def __init__(self) -> None:
        self.active: list[tuple[int, dict[str, str]]] = []

    def state(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for _id, rows in self.active:
            out.update(rows)
        return out

    def imported(self, import_id: int, rows: dict[str, str]) -> bool:
        """Whether an import of `rows` is recorded; records it under `import_id` if so."""
        if any(r == rows and list(r) == list(rows) for _i, r in self.active):
            return False
        current = self.state()
        if all(current.get(k) == m for k, m in rows.items()):
            return False
        self.active.append((import_id, rows))
        return True

    def undone(self, import_id: int) -> None:
        self.active = [(i, r) for i, r in self.active if i != import_id]


rows_strategy = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(MARKETS), min_size=1, max_size=4)
step = st.one_of(
    st.tuples(st.just("import"), rows_strategy),
    st.tuples(st.just("cumulative"), rows_strategy),  # everything stored so far, plus these rows
    st.tuples(st.just("undo"), st.integers(min_value=0, max_value=5)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=9))
def test_any_sequence_of_imports_and_undos_matches_the_model(steps):
    store = open_store(":memory:")
    con = store.cursor()
    model = Model()
    names = itertools.count(1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            for kind, arg in steps:
                if kind == "undo":
                    if not model.active:
                        continue
                    import_id = model.active[arg % len(model.active)][0]
                    undo(con, import_id)
                    model.undone(import_id)
                else:
                    rows = {**model.state(), **arg} if kind == "cumulative" else arg
                    [result] = import_path(con, roster(Path(folder), f"f{next(names)}.csv", rows))
                    assert result.ok, result.message
                    recorded = model.imported(result.import_id or -1, rows)
                    assert (result.status == "imported") == recorded, (result.message, rows, model.active)
                assert stored(con) == model.state(), steps
    finally:
        store.close()
