"""An import updates the rollups for the dates it touched (data_sources.rollups.update_rollups), and so does
its undo; after every import, in any order of adds, replacements and repeats, and after undoing imports in
any order, they must equal a rebuild from the raw rows."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_sources.imports import import_path
from data_sources.rollups import EVERY_ROLLUP, rebuild_decision_daily
from data_sources.store import open_store
from data_sources.undo import undo

POLICIES = ("Hate Speech", "Bullying", "Self-harm")
LABELS = ("allow", "remove", "age-gate")


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def _decision(rng: random.Random, decision_id: str) -> list[object]:
    expected = rng.choice(LABELS)
    given = expected if rng.random() < 0.7 else rng.choice(LABELS)
    # Items and auditors from small pools, so that some items are audited twice (data_sources AUDITED_TWICE).
    return [decision_id, f"T{rng.randint(1, 6)}", f"2026-04-{rng.randint(1, 28):02d}", rng.choice(POLICIES),
            "yes" if given == expected else "no", rng.choice(("qa_audit", "qa_audit", "golden_set")),
            given if rng.random() < 0.8 else None, expected if rng.random() < 0.8 else None,
            rng.choice(("TH", "VN", None, None)), rng.choice(("P1", None)),
            f"I{rng.randint(1, 12)}" if rng.random() < 0.9 else None,
            f"R{rng.randint(1, 4)}" if rng.random() < 0.9 else None]


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    out = {}
    for rollup in EVERY_ROLLUP:
        cols = ", ".join(rollup.column_names)
        out[rollup.name] = con.execute(f"SELECT {cols} FROM {rollup.name} ORDER BY ALL").df()
    return out


def _same_as_a_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    updated = _tables(con)
    rebuild_decision_daily(con)
    rebuilt = _tables(con)
    for name, frame in rebuilt.items():
        pd.testing.assert_frame_equal(updated[name], frame, obj=name)


def _import_batches(con: duckdb.DuckDBPyConnection, tmp_path: Path, rng: random.Random) -> None:
    """A roster, then five imports of decisions that add, replace and repeat rows: the rollups equal a
    rebuild after each."""
    roster = [[f"T{i}", rng.choice(("TH", "VN", "MY")), rng.choice(("P1", "P2", None)),
               rng.choice(("2026-03-30", "2026-04-09", None)), rng.choice(("C1", None))] for i in range(1, 6)]
    _csv(tmp_path / "roster.csv", ["trainee_id", "market", "project", "start_date", "cohort"], roster)
    assert all(r.ok for r in import_path(con, tmp_path / "roster.csv"))
    header = ["decision_id", "trainee_id", "date", "policy", "correct", "source", "given_label", "expected_label",
              "market", "project", "item_id", "reviewer_id"]
    ids = [f"D{i}" for i in range(300)]
    batches = [
        ids[:120],  # the first import: a rebuild
        ids[120:200],  # new rows
        rng.sample(ids[:200], 60) + ids[200:240],  # rows of both earlier imports again, most with new values
        ids[:40],  # the first rows once more: some changed back
        rng.sample(ids[:240], 30) + ids[240:],
    ]
    for k, batch in enumerate(batches):
        rows = [_decision(rng, d) for d in batch]
        path = _csv(tmp_path / f"d{k}.csv", header, rows)
        results = import_path(con, path, dataset="decisions")
        assert all(r.ok for r in results), [r.message for r in results]
        _same_as_a_rebuild(con)
    twice = con.execute("SELECT count(*) FROM audited_twice").fetchone()
    assert twice is not None and twice[0] > 0  # the audits pairing ones were tested too


def _import_counts(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """Two imports of decision counts, the second changing the first's values: a rebuild's rollups after each."""
    counts = [["T1", "2026-04-03", "Bullying", 0, 0], ["T2", "2026-04-03", "Bullying", 5, 4],
              ["T7", "2026-04-05", "Hate Speech", 3, 3]]
    _csv(tmp_path / "c1.csv", ["trainee_id", "date", "policy", "reviewed", "correct"], counts)
    assert all(r.ok for r in import_path(con, tmp_path / "c1.csv", dataset="decision_counts", keep_going=True))
    _same_as_a_rebuild(con)
    # The same keys with other values: the 0-reviewed group stays, T2's and T7's change.
    counts = [["T1", "2026-04-03", "Bullying", 0, 0], ["T2", "2026-04-03", "Bullying", 2, 1],
              ["T7", "2026-04-05", "Hate Speech", 0, 0]]
    _csv(tmp_path / "c2.csv", ["trainee_id", "date", "policy", "reviewed", "correct"], counts)
    assert all(r.ok for r in import_path(con, tmp_path / "c2.csv", dataset="decision_counts"))
    _same_as_a_rebuild(con)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_after_each_import_equal_a_rebuild(tmp_path: Path, seed: int) -> None:
    con = open_store(":memory:").cursor()
    _import_batches(con, tmp_path, random.Random(seed))
    _import_counts(con, tmp_path)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_rollups_after_each_undo_equal_a_rebuild(tmp_path: Path, seed: int) -> None:
    # Undo moves rows both ways: the import's rows go, and the rows it replaced come back, on other dates
    # or items than its own when the import changed those.
    rng = random.Random(seed)
    con = open_store(":memory:").cursor()
    _import_batches(con, tmp_path, rng)
    _import_counts(con, tmp_path)
    imports = [i for (i,) in con.execute("SELECT import_id FROM imports WHERE dataset <> 'trainees'").fetchall()]
    rng.shuffle(imports)
    for import_id in imports:
        undo(con, import_id)
        _same_as_a_rebuild(con)
    assert con.execute("SELECT count(*) FROM decision_daily").fetchone() == (0,)


def test_a_group_whose_rows_all_moved_leaves_the_totals(tmp_path: Path) -> None:
    con = open_store(":memory:").cursor()
    header = ["decision_id", "trainee_id", "date", "policy", "correct"]
    _csv(tmp_path / "a.csv", header, [["D1", "T1", "2026-04-01", "Bullying", "yes"],
                                      ["D2", "T1", "2026-04-02", "Hate Speech", "no"]])
    _csv(tmp_path / "b.csv", header, [["D1", "T1", "2026-04-01", "Hate Speech", "yes"]])
    for name in ("a.csv", "b.csv"):
        assert all(r.ok for r in import_path(con, tmp_path / name))
    policies = con.execute("SELECT policy, reviewed FROM decision_totals ORDER BY policy").fetchall()
    assert policies == [("Hate Speech", 2)]
    _same_as_a_rebuild(con)


def test_an_import_of_more_groups_than_a_row_group_on_new_dates_reaches_every_rollup(tmp_path: Path) -> None:
    # 140,000 trainee x day x policy groups on dates the store has not seen: more than one DuckDB row group
    # (122,880 rows). DuckDB 2.0 hides such an insert from reads when it goes into a table that CREATE TABLE
    # AS made empty in the same transaction; the change tenure and totals take was once built that way, and
    # they missed the whole import.
    con = open_store(":memory:").cursor()
    trainees = [f"T{i}" for i in range(2000)]
    _csv(tmp_path / "roster.csv", ["trainee_id", "market", "start_date"], [[t, "TH", "2026-03-02"] for t in trainees])
    header = ["decision_id", "trainee_id", "date", "policy", "correct"]
    _csv(tmp_path / "a.csv", header, [["D0", "T0", "2026-03-02", "P0", "yes"]])
    policies = [f"P{k}" for k in range(10)]
    rows = [[f"E{t}-{day}-{p}", t, f"2026-04-{day:02d}", p, "yes" if (day + len(t)) % 3 else "no"]
            for t in trainees for day in range(1, 8) for p in policies]
    _csv(tmp_path / "b.csv", header, rows)
    for name in ("roster.csv", "a.csv", "b.csv"):
        assert all(r.ok for r in import_path(con, tmp_path / name))
    daily = con.execute("SELECT count(*), sum(reviewed) FROM decision_daily").fetchone()
    assert daily == (140_001, 140_001)
    for rollup in ("decision_totals", "decision_tenure"):
        assert con.execute(f"SELECT sum(reviewed) FROM {rollup}").fetchone() == (140_001,), rollup
    _same_as_a_rebuild(con)
