"""A store built from a rollup folder (`uplift rollup` then `uplift import DIR`) answers every page as a store
built by importing the raw decisions does; the folder's import is checked, all or nothing, logged, undoable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cli
from data_sources import manifest as M
from data_sources.engines import DuckDBEngine, SparkEngine
from data_sources.imports import import_path
from data_sources.log import dataset_counts, history
from data_sources.rollup_import import import_rollups
from data_sources.rollup_job import JobSpec, run
from data_sources.sample import EXPORTS, sample_files
from data_sources.store import Store, data_version, open_store
from data_sources.undo import undo
from metrics import learning, options, rates, trainee, training, weak_spots, weekly
from metrics.filters import Filters
from metrics.raw_decisions import wrong_decisions
from metrics.rows import decisions_behind
from sample_data import planted

FILTERS = [
    Filters(),
    Filters(markets=("TH", "VN")),
    Filters(cohorts=("2026-03", "2026-05")),
    Filters(projects=("Live",)),
    Filters(policies=("Hate Speech",), source="qa_audit"),
    Filters(start=dt.date(2026, 5, 1), end=dt.date(2026, 6, 30)),
]

# The bundled sample's decisions (one per line after the header, none duplicate or rejected).
SAMPLE_DECISIONS = sum(1 for _ in (EXPORTS / "decisions.csv").open(encoding="utf-8")) - 1


def sample_decisions_parquet(folder: Path, where: str = "TRUE") -> Path:
    """The bundled decisions as a lakehouse keeps them: typed Parquet with the contract's column names."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "decisions.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv(?) WHERE {where}) TO '{target}' (FORMAT parquet)",
                [str(EXPORTS / "decisions.csv")])
    return target


def rollup(engine: str, decisions: Path, output: Path, spark: object | None = None) -> M.Manifest:
    eng = SparkEngine(session=spark) if engine == "spark" else DuckDBEngine(memory_limit="1GB")
    try:
        return run(JobSpec(str(decisions), str(EXPORTS / "trainees.csv"), output), eng)
    finally:
        eng.close()


def store_without_decisions() -> Store:
    """Every bundled export but the decisions, imported as usual."""
    store = open_store(":memory:")
    for path in sample_files():
        if path.stem != "decisions":
            assert all(r.ok for r in import_path(store.cursor(), path))
    return store


def page_figures(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What each page shows, measure by measure, over several sidebar filters."""
    out: dict[str, Any] = {"options": options.filter_options(con)}
    for i, f in enumerate(FILTERS):
        spots = weak_spots.weak_spots(con, f)
        out |= {
            f"{i} headline": rates.headline(con, f),
            f"{i} rates by market and week": rates.rates(con, f, ["market", "week", "source"]),
            f"{i} weak spots": spots,
            f"{i} weak spots qa": weak_spots.weak_spots(con, f.with_(source="qa_audit")),
            f"{i} cell details": [weak_spots.cell_detail(con, f, m, p) for m, p in spots[["market", "policy"]].head(4).values],
            f"{i} coaching list": trainee.coaching_list(con, f),
            f"{i} trainee list": trainee.trainee_list(con, f),
            f"{i} learning curves": learning.learning_curves(con, f),
            f"{i} weekly impact": weekly.weekly_impact(con, f, dt.date(2026, 9, 7)),
            f"{i} p-chart": weekly.p_chart(con, f, dt.date(2026, 9, 7), "golden_set"),
            f"{i} trainings": training.trainings(con, f),
        }
    out |= {
        "trainee trend": trainee.trainee_trend(con, "T0001"),
        "policy strengths": trainee.policy_strengths(con, "T0001"),
        "time to proficiency": learning.time_to_proficiency(con, n_boot=100),
        "refresher effect": training.training_effect(con, [planted.REFRESHER_TRAINING_ID],
                                                     design=training.EffectDesign(n_boot=200)),
        "refresher timeline": training.timeline(con, [planted.REFRESHER_TRAINING_ID]),
    }
    return out


# Floats agree to 1e-6 relative: rows stored in another order are summed in another order, and a prior fitted
# by maximum likelihood (policy strengths, the coaching list) stops within its optimiser's tolerance.
RTOL = 1e-6


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal figures (floats to RTOL)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=RTOL, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=False, rtol=RTOL, obj=where)
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RTOL), (where, a, b)
    else:
        assert a == b, (where, a, b)


@pytest.fixture(scope="module")
def decisions_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_decisions_parquet(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def normal_figures(sample_store: Store) -> dict[str, Any]:
    return page_figures(sample_store.cursor())


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_every_page_reads_the_same_from_rollups_as_from_raw_decisions(
    engine: str, decisions_parquet: Path, normal_figures: dict[str, Any], tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    rollup(engine, decisions_parquet, tmp_path / "rollups", spark)
    store = store_without_decisions()
    result = import_rollups(store.cursor(), tmp_path / "rollups")
    assert result.ok and result.status == "imported", result.message
    lake = page_figures(store.cursor())
    assert lake.keys() == normal_figures.keys()
    for key, value in normal_figures.items():
        assert_same(value, lake[key], key)
    assert lake["0 headline"].quality.reviewed > 20_000  # the comparison is not between two empty stores


@pytest.fixture(scope="module")
def folders(decisions_parquet: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The whole sample, and its first four months only (as a folder written before the rest arrived)."""
    base = tmp_path_factory.mktemp("folders")
    early = sample_decisions_parquet(base / "early-input", "date < DATE '2026-07-01'")
    out = {"all": base / "all", "early": base / "early"}
    rollup("duckdb", decisions_parquet, out["all"])
    rollup("duckdb", early, out["early"])
    return out


@pytest.fixture
def store() -> Iterator[Store]:
    s = store_without_decisions()
    yield s
    s.close()


def reviewed(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(sum(reviewed), 0) FROM decision_daily").fetchone()
    return int(row[0]) if row else 0


def test_the_rows_behind_a_figure_count_the_folders_reviews(store: Store, folders: dict[str, Path]) -> None:
    con = store.cursor()
    assert decisions_behind(con, Filters()).in_folder == 0
    import_rollups(con, folders["all"])
    rows = decisions_behind(con, Filters())
    assert rows.total == 0 and rows.in_folder == SAMPLE_DECISIONS
    one = decisions_behind(con, Filters(markets=("VN",), policies=("Hate Speech",)), trainee_id=None)
    assert 0 < one.in_folder < SAMPLE_DECISIONS


def test_import_is_logged_and_undo_takes_it_back(store: Store, folders: dict[str, Path]) -> None:
    con = store.cursor()
    before = data_version(con)
    assert "rollups" not in set(dataset_counts(con)["dataset"])
    result = import_rollups(con, folders["all"], user="ana@example.com")
    assert result.status == "imported" and f"{SAMPLE_DECISIONS:,} decisions" in result.message
    assert reviewed(con) == SAMPLE_DECISIONS and data_version(con) > before
    counts = dataset_counts(con).set_index("dataset")
    assert counts.loc["rollups", "rows"] == SAMPLE_DECISIONS and counts.loc["decisions", "rows"] == 0
    log = history(con).iloc[0]
    assert (log["dataset"], log["source"], log["imported_by"], log["status"]) == (
        "rollups", str(folders["all"]), "ana@example.com", "active")
    assert log["rows_added"] == sum(t.total.rows for t in M.read(folders["all"])[0].tables.values())
    assert import_rollups(con, folders["all"]).status == "unchanged"  # the same folder again changes nothing
    message = undo(con, int(log["import_id"]), user="ana@example.com")
    assert "rollup rows removed" in message
    assert reviewed(con) == 0 and "rollups" not in set(dataset_counts(con)["dataset"])
    for table in ("decision_daily", "decision_tenure", "decision_totals", "decision_confusions"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    assert history(con).iloc[0]["status"] == "undone"


def test_a_newer_folder_replaces_the_older_and_undo_brings_it_back(store: Store, folders: dict[str, Path]) -> None:
    con = store.cursor()
    early = import_rollups(con, folders["early"])
    early_reviewed, early_figures = reviewed(con), page_figures(con)
    later = import_rollups(con, folders["all"])
    assert later.ok and f"replaces the rollups of import #{early.import_id}" in later.message
    assert reviewed(con) == SAMPLE_DECISIONS > early_reviewed
    assert later.import_id is not None and early.import_id is not None
    assert "are in use again" in undo(con, later.import_id)
    assert reviewed(con) == early_reviewed
    after_undo = page_figures(con)
    for key, value in early_figures.items():  # exactly as before the newer folder came
        assert_same(value, after_undo[key], key)
    # Undoing an import that a later one has replaced changes no figure.
    again = import_rollups(con, folders["all"])
    assert again.import_id is not None
    undo(con, early.import_id)
    assert reviewed(con) == SAMPLE_DECISIONS
    undo(con, again.import_id)
    assert reviewed(con) == 0


def test_a_roster_import_after_the_folder_keeps_its_rollups(store: Store, folders: dict[str, Path], tmp_path: Path) -> None:
    con = store.cursor()
    import_rollups(con, folders["all"])
    roster = pd.read_csv(EXPORTS / "trainees.csv", dtype=str)
    roster.loc[0, "name"] = "Renamed Person"
    roster.to_csv(tmp_path / "trainees.csv", index=False)
    assert all(r.ok for r in import_path(con, tmp_path / "trainees.csv"))
    assert reviewed(con) == SAMPLE_DECISIONS


def test_raw_decisions_in_the_store_are_added_to_the_folders(store: Store, folders: dict[str, Path], tmp_path: Path) -> None:
    con = store.cursor()
    late = tmp_path / "late.csv"
    pd.read_csv(EXPORTS / "decisions.csv", dtype=str).query("date >= '2026-07-01'").to_csv(late, index=False)
    assert all(r.ok for r in import_path(con, late))
    result = import_rollups(con, folders["early"])
    assert result.ok and "counted beside it" not in result.message  # no month in both
    assert reviewed(con) == SAMPLE_DECISIONS
    assert_same(rates.headline(con, Filters()), rates.headline(open_store_with_sample(), Filters()), "headline")


def open_store_with_sample() -> duckdb.DuckDBPyConnection:
    s = open_store(":memory:")
    for path in sample_files():
        import_path(s.cursor(), path)
    return s.cursor()


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def assert_nothing_imported(con: duckdb.DuckDBPyConnection, version: int, imports: int) -> None:
    assert data_version(con) == version and len(history(con)) == imports and reviewed(con) == 0
    for table in ("lake_decision_daily", "lake_decision_confusions", "lake_decision_tenure", "lake_decision_totals",
                  "rollup_manifests"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_a_folder_missing_a_month_is_refused_whole(store: Store, folders: dict[str, Path], tmp_path: Path) -> None:
    con = store.cursor()
    version, imports = data_version(con), len(history(con))
    folder = _copy(folders["all"], tmp_path)
    shutil.rmtree(folder / "decision_confusions" / "month=2026-06")
    result = import_rollups(con, folder)
    assert result.status == "failed"
    assert "decision_confusions 2026-06: 0 rows" in result.message and "Nothing was imported" in result.message
    assert_nothing_imported(con, version, imports)


def test_a_total_that_does_not_match_the_manifest_is_refused(store: Store, folders: dict[str, Path], tmp_path: Path) -> None:
    con = store.cursor()
    version, imports = data_version(con), len(history(con))
    folder = _copy(folders["all"], tmp_path)
    path = folder / M.MANIFEST_NAME
    path.write_text(path.read_text().replace(f'"reviewed": {SAMPLE_DECISIONS}', f'"reviewed": {SAMPLE_DECISIONS + 1}', 1))
    result = import_rollups(con, folder)
    assert result.status == "failed" and "do not match the manifest" in result.message
    assert_nothing_imported(con, version, imports)


def test_a_measure_written_as_double_is_refused(store: Store, folders: dict[str, Path], tmp_path: Path) -> None:
    """The trap of a DuckDB SUM (HUGEINT) written to Parquet without a cast: it lands as DOUBLE."""
    con = store.cursor()
    version, imports = data_version(con), len(history(con))
    folder = _copy(folders["all"], tmp_path)
    for file in (folder / "decision_totals").glob("*.parquet"):
        table = pq.read_table(file)
        i = table.schema.get_field_index("reviewed")
        pq.write_table(table.set_column(i, "reviewed", table.column(i).cast(pa.float64())), file)
    result = import_rollups(con, folder)
    assert result.status == "failed" and "column reviewed is DOUBLE, expected BIGINT" in result.message
    assert_nothing_imported(con, version, imports)


def test_a_folder_without_a_manifest_says_what_writes_one(store: Store, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = import_rollups(store.cursor(), tmp_path / "empty")
    assert result.status == "failed" and "uplift rollup --output DIR" in result.message


def test_the_command_line_rolls_up_imports_and_undoes(decisions_parquet: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    db, out = str(tmp_path / "u.duckdb"), tmp_path / "rollups"
    code = cli.main(["--db", db, "rollup", "--engine", "duckdb", "--input", str(decisions_parquet),
                     "--roster", str(EXPORTS / "trainees.csv"), "--output", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert f"{SAMPLE_DECISIONS:,} decisions read" in printed.out and f"uplift import {out}" in printed.out
    roster = tmp_path / "roster"
    roster.mkdir()
    shutil.copy(EXPORTS / "trainees.csv", roster)
    assert cli.main(["--db", db, "import", str(roster), str(out)]) == 0
    printed = capsys.readouterr()
    assert "imported as trainees (import #1)" in printed.out and "imported as rollups (import #2)" in printed.out
    assert "not on the store's roster" not in printed.out  # the roster went in first
    assert cli.main(["--db", db, "undo", "2"]) == 0
    assert "rollup rows removed" in capsys.readouterr().out


def test_the_command_line_says_what_is_wrong_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "u.duckdb")
    code = cli.main(["--db", db, "rollup", "--input", str(tmp_path / "none" / "*.parquet"), "--roster",
                     str(EXPORTS / "trainees.csv"), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("uplift: decisions: no files match") and len(err.strip().splitlines()) == 1
    code = cli.main(["--db", db, "rollup", "--input", "x.parquet", "--roster", "y.csv", "--output", "o",
                     "--since", "June"])
    assert code == 1 and "--since 'June' is not a date" in capsys.readouterr().err


def test_wrong_decisions_come_from_the_raw_files_when_reachable(store: Store, folders: dict[str, Path],
                                                               decisions_parquet: Path) -> None:
    con = store.cursor()
    import_rollups(con, folders["all"])
    raw = wrong_decisions(con, Filters(), "VN", "Hate Speech")
    assert raw.notes == [] and len(raw.rows) == 25 and set(raw.rows["found_in"]) == {"raw files"}
    normal = wrong_decisions(open_store_with_sample(), Filters(), "VN", "Hate Speech")
    assert set(normal.rows["found_in"]) == {"store"}
    pd.testing.assert_frame_equal(raw.rows.drop(columns="found_in"), normal.rows.drop(columns="found_in"))
    detail = weak_spots.cell_detail(con, Filters(), "VN", "Hate Speech")
    assert set(raw.rows["expected_label"] + raw.rows["given_label"]) <= set(
        detail.confusions["expected_label"] + detail.confusions["given_label"])


def test_wrong_decisions_say_so_when_the_raw_files_are_gone(store: Store, tmp_path: Path) -> None:
    moved = sample_decisions_parquet(tmp_path / "lake")
    rollup("duckdb", moved, tmp_path / "rollups")
    con = store.cursor()
    import_rollups(con, tmp_path / "rollups")
    moved.write_bytes(moved.read_bytes())  # rewritten: same rows, a new modification time
    changed = wrong_decisions(con, Filters(), "VN", "Hate Speech")
    assert len(changed.rows) == 25 and "changed after the rollups were computed" in changed.notes[0]
    moved.unlink()
    gone = wrong_decisions(con, Filters(), "VN", "Hate Speech")
    assert gone.rows.empty and len(gone.notes) == 1
    assert f"are at {moved}, which this machine cannot reach" in gone.notes[0]


def test_a_manifest_of_another_version_or_not_json_is_refused(store: Store, folders: dict[str, Path],
                                                              tmp_path: Path) -> None:
    folder = _copy(folders["all"], tmp_path)
    path = folder / M.MANIFEST_NAME
    text = path.read_text()
    path.write_text(text.replace('"schema_version": 1', '"schema_version": 99'))
    result = import_rollups(store.cursor(), folder)
    assert result.status == "failed" and "schema version 99" in result.message and "run `uplift rollup` again" in result.message
    path.write_text(text[: len(text) // 2])
    result = import_rollups(store.cursor(), folder)
    assert result.status == "failed" and "cannot be read as a rollup manifest" in result.message
