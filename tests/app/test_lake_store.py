"""Every page on a store whose decisions came as a rollup folder (`uplift rollup` + `uplift import DIR`),
with no raw decisions in it: the pages run, Home counts the folder's decisions, and the weak spot's raw rows
come from the files the folder was computed from, or a sentence says why they cannot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from data_sources.engines import DuckDBEngine
from data_sources.imports import import_path
from data_sources.rollup_import import import_rollups
from data_sources.rollup_job import JobSpec, run
from data_sources.sample import EXPORTS, sample_files
from data_sources.store import open_store
from tests.app.conftest import assert_clean, frame_with, open_page
from ui import pages

PAGES = [p.file for p in pages.PAGES if p.file != "views/home.py"]

# The bundled sample's decisions (one per line after the header, none duplicate or rejected).
SAMPLE_DECISIONS = sum(1 for _ in (EXPORTS / "decisions.csv").open(encoding="utf-8")) - 1


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store file with every bundled export but the decisions, and the decisions as a rollup folder."""
    base = tmp_path_factory.mktemp("lake-app")
    raw = base / "decisions.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_csv(?)) TO '{raw}' (FORMAT parquet)",
                             [str(EXPORTS / "decisions.csv")])
    engine = DuckDBEngine(memory_limit="1GB")
    try:
        run(JobSpec(str(raw), str(EXPORTS / "trainees.csv"), base / "rollups"), engine)
    finally:
        engine.close()
    store = open_store(base / "lake.duckdb")
    for path in sample_files():
        if path.stem != "decisions":
            assert all(r.ok for r in import_path(store.cursor(), path))
    assert import_rollups(store.cursor(), base / "rollups").ok
    store.close()
    return {"db": base / "lake.duckdb", "raw": raw}


def test_every_page_runs_on_a_store_built_from_rollups(make_app: Callable[..., AppTest], lake: dict[str, Path]) -> None:
    at = make_app(lake["db"]).run()
    assert_clean(at)
    counts = frame_with(at, "dataset").set_index("dataset")
    assert int(counts.loc["rollups", "rows"]) == SAMPLE_DECISIONS and int(counts.loc["decisions", "rows"]) == 0
    assert any(m.value == f"{SAMPLE_DECISIONS:,}" for m in at.metric)  # decision rows on Home include the folder's
    for page in PAGES:
        open_page(make_app(lake["db"]), page)


def raw_rows_text(at: AppTest) -> tuple[list[str], list[str]]:
    """The notes and the `found_in` values of the weak spot's raw rows."""
    expander = next(e for e in at.expander if "raw files" in e.label)
    found = [str(v) for f in expander.dataframe for v in f.value.get("found_in", [])]
    return [t.value for t in expander.text], found


def test_the_weak_spot_reads_raw_rows_from_the_files_or_says_why_not(make_app: Callable[..., AppTest],
                                                                    lake: dict[str, Path]) -> None:
    at = open_page(make_app(lake["db"]), "views/weak_spots.py")
    notes, found = raw_rows_text(at)
    assert notes == [] and found and set(found) == {"raw files"}
    moved = lake["raw"].with_suffix(".away")
    lake["raw"].rename(moved)
    try:
        at = open_page(make_app(lake["db"]), "views/weak_spots.py")
        notes, found = raw_rows_text(at)
        assert found == [] and len(notes) == 1 and "which this machine cannot reach" in notes[0]
    finally:
        moved.rename(lake["raw"])
