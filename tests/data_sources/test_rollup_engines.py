"""`uplift rollup` on DuckDB and on Spark: the same rollups, row for row, from raw decisions with the awkward
cases a lakehouse export has (nulls in optional columns, unicode policies and markets, decisions at midnight
and at a month's last second, duplicates by decision id, trainees missing from the roster, unusable rows)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_sources import manifest as M
from data_sources.engines import DuckDBEngine, SparkEngine
from data_sources.rollup_job import JobSpec, RollupError, run
from data_sources.rollups import ROLLUPS, Rollup

UTC = dt.UTC
POLICIES = ["Hate Speech", "ヘイトスピーチ", "Ngôn từ thù địch", "การกลั่นแกล้ง", "Bullying & Harassment", " Self-harm "]
MARKETS = ["TH", "VN", "ไทย", "Việt Nam", "日本"]
LABELS = ["hate", "Hate", "bully", "ok", "ĐÚNG", "İyi"]
GHOSTS = ["GHOST-1", "GHOST-2"]  # decide things, never on the roster
EDGE = "T-EDGE"  # on the roster: decisions at midnight and at the month's last second

# Rows planted to be rejected, by the reason the job gives.
PLANTED_REJECTS = {
    "policy is empty": 7,
    "correct is empty and given_label/expected_label are not both there": 5,
    "source is neither qa_audit nor golden_set": 4,
    "trainee_id is empty": 3,
}
EXACT_COPIES, CONFLICTING_COPIES, NO_ID_COPIES = 120, 40, 25


def roster_table() -> pa.Table:
    """40 trainees plus the edge trainee; cohorts missing on some (taken from the start month), start dates
    missing on others; one trainee listed twice as is, one twice with a later start and another market."""
    ids = [f"T{i:03d}" for i in range(40)] + [EDGE]
    rows = []
    for i, tid in enumerate(ids):
        start = dt.date(2026, 3, 2) + dt.timedelta(weeks=i % 9)
        rows.append({"trainee_id": tid, "market": MARKETS[i % len(MARKETS)],
                     "project": ["Short Video", "ライブ", None][i % 3], "cohort": None if i % 3 == 0 else f"C{i % 4}",
                     "start_date": None if i % 7 == 6 else start, "name": f"名前 {i}"})
    rows.append(dict(rows[1]))
    rows.append({**rows[2], "market": "VN", "start_date": dt.date(2026, 5, 4)})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        ("trainee_id", pa.string()), ("market", pa.string()), ("project", pa.string()), ("cohort", pa.string()),
        ("start_date", pa.date32()), ("name", pa.string())]))


DECISION_SCHEMA = pa.schema([
    ("decision_id", pa.string()), ("trainee_id", pa.string()), ("date", pa.timestamp("us", tz="UTC")),
    ("policy", pa.string()), ("correct", pa.bool_()), ("source", pa.string()), ("item_id", pa.string()),
    ("given_label", pa.string()), ("expected_label", pa.string()), ("reviewer_id", pa.string()),
    ("error_type", pa.string()), ("market", pa.string()), ("project", pa.string())])


def _decision(rng: np.random.Generator, i: int, trainees: list[str]) -> dict[str, object]:
    day = dt.datetime(2026, 3, 1, tzinfo=UTC) + dt.timedelta(days=int(rng.integers(0, 122)))
    at = day if rng.random() < 0.1 else day + dt.timedelta(seconds=int(rng.integers(0, 86_400)))
    expected = LABELS[int(rng.integers(0, len(LABELS)))]
    given = expected if rng.random() < 0.8 else LABELS[int(rng.integers(0, len(LABELS)))]
    labelled = rng.random() > 0.1
    correct = given.lower() == expected.lower() if labelled else bool(rng.random() < 0.8)
    pick = rng.random()
    return {
        "decision_id": None if rng.random() < 0.03 else f"D{i:06d}",
        "trainee_id": GHOSTS[i % 2] if rng.random() < 0.03 else trainees[int(rng.integers(0, len(trainees)))],
        "date": at, "policy": POLICIES[int(rng.integers(0, len(POLICIES)))],
        # Stated, or left to the labels when both are there (compared without ASCII case: "Hate" = "hate").
        "correct": None if labelled and rng.random() < 0.15 else correct,
        "source": ["qa_audit", "golden_set", None, "Golden Set", "QA"][int(pick * 5)],
        "item_id": None if rng.random() < 0.2 else f"I{int(rng.integers(0, 500))}",
        "given_label": given if labelled else None, "expected_label": expected if labelled else None,
        "reviewer_id": None if rng.random() < 0.5 else "QA01",
        "error_type": None if correct or rng.random() < 0.3 else ["missed violation", "sai chính sách"][i % 2],
        "market": [None, None, "TH", "VN", "ไทย", "Việt Nam", ""][int(rng.integers(0, 7))],
        "project": [None, None, "Short Video", "ライブ", " "][int(rng.integers(0, 5))],
    }


def decision_rows(seed: int = 11, n: int = 4000) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    trainees = [f"T{i:03d}" for i in range(40)]
    rows = [_decision(rng, i, trainees) for i in range(n)]
    edge = {**rows[0], "trainee_id": EDGE, "policy": "Hate Speech", "correct": True}
    rows += [  # the last second of March and the first of April, midnight UTC
        {**edge, "decision_id": "EDGE-1", "date": dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)},
        {**edge, "decision_id": "EDGE-2", "date": dt.datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC)},
        {**edge, "decision_id": "EDGE-3", "date": dt.datetime(2026, 4, 30, 0, 0, 0, tzinfo=UTC)},
    ]
    rejects = iter(range(100, 100 + sum(PLANTED_REJECTS.values())))
    for reason, count in PLANTED_REJECTS.items():
        for k in range(count):
            row = rows[next(rejects)]
            row.update({"policy": "Hate Speech", "source": "qa_audit", "trainee_id": "T001", "correct": True})
            if reason == "policy is empty":
                row["policy"] = [None, "", "   "][k % 3]
            elif reason.startswith("correct"):
                row.update(correct=None, given_label=None)
            elif reason.startswith("source"):
                row["source"] = "bogus"
            else:
                row["trainee_id"] = None
    with_id = [r for r in rows[200:] if r["decision_id"] is not None and r["trainee_id"] is not None]
    without_id = [r for r in rows[200:] if r["decision_id"] is None and r["trainee_id"] is not None]
    rows += [dict(r) for r in with_id[:EXACT_COPIES]]
    # The same decision id again, re-exported three days later with the other verdict: the later one counts.
    rows += [{**r, "date": r["date"] + dt.timedelta(days=3), "correct": not r["correct"] if r["correct"] is not None
              else True} for r in with_id[EXACT_COPIES:EXACT_COPIES + CONFLICTING_COPIES]]  # type: ignore[operator]
    rows += [dict(r) for r in without_id[:NO_ID_COPIES]]
    return rows


def write_inputs(folder: Path, rows: list[dict[str, object]]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    decisions, roster = folder / "decisions.parquet", folder / "trainees.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=DECISION_SCHEMA), decisions)
    pq.write_table(roster_table(), roster)
    return decisions, roster


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_inputs(tmp_path_factory.mktemp("lake"), decision_rows())


def rollup_with(engine_name: str, spec: JobSpec, spark: object | None = None) -> M.Manifest:
    engine = SparkEngine(session=spark) if engine_name == "spark" else DuckDBEngine(memory_limit="1GB")
    try:
        return run(spec, engine)
    finally:
        engine.close()


def relation(folder: Path, rollup: Rollup) -> str:
    files = folder / rollup.name / ("*/*.parquet" if rollup.by_month else "*.parquet")
    return f"read_parquet('{files}', hive_partitioning = {str(rollup.by_month).lower()})"


def assert_same_rollups(a: Path, b: Path) -> None:
    """Same schema, same row counts, and EXCEPT ALL empty both ways, for every rollup (month included)."""
    con = duckdb.connect()
    for rollup in ROLLUPS:
        left, right = relation(a, rollup), relation(b, rollup)
        assert con.execute(f"DESCRIBE SELECT * FROM {left}").fetchall() == \
            con.execute(f"DESCRIBE SELECT * FROM {right}").fetchall(), rollup.name
        counts = [con.execute(f"SELECT count(*) FROM {side}").fetchone() for side in (left, right)]
        assert counts[0] == counts[1] and counts[0] is not None and counts[0][0] > 0, (rollup.name, counts)
        for x, y in ((left, right), (right, left)):
            extra = con.execute(f"SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y} LIMIT 5").fetchall()
            assert extra == [], (rollup.name, extra)


@pytest.fixture(scope="module")
def both(inputs: tuple[Path, Path], spark: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    decisions, roster = inputs
    out = {}
    for name in ("duckdb", "spark"):
        folder = tmp_path_factory.mktemp(f"rollups-{name}")
        rollup_with(name, JobSpec(str(decisions), str(roster), folder), spark)
        out[name] = folder
    return out


@pytest.mark.spark
def test_both_engines_write_the_same_rollups_row_for_row(both: dict[str, Path]) -> None:
    assert_same_rollups(both["duckdb"], both["spark"])


@pytest.mark.spark
def test_both_manifests_agree_and_account_for_every_row(both: dict[str, Path]) -> None:
    (duck, _), (spark, _) = M.read(both["duckdb"]), M.read(both["spark"])
    assert (duck.engine, spark.engine) == ("duckdb", "spark")
    assert duck.comparable() == spark.comparable()
    d = duck.decisions
    assert d.rejected == PLANTED_REJECTS
    assert d.duplicates == EXACT_COPIES + CONFLICTING_COPIES + NO_ID_COPIES
    assert d.read == 4003 + EXACT_COPIES + CONFLICTING_COPIES + NO_ID_COPIES
    assert d.read == d.used + d.duplicates + sum(d.rejected.values())
    assert duck.reviewed == d.used  # every usable decision is counted once in the daily rollup
    assert duck.months[:4] == ["2026-03", "2026-04", "2026-05", "2026-06"]  # re-exports may reach July


@pytest.mark.spark
def test_the_awkward_cases_come_out_as_the_rules_say(both: dict[str, Path]) -> None:
    con = duckdb.connect()
    folder = both["spark"]
    daily = relation(folder, ROLLUPS[0])
    edge = con.execute(f"SELECT month, date FROM {daily} WHERE trainee_id = ? ORDER BY date", [EDGE]).fetchall()
    # The session time zone is UTC in both engines: the last second of March stays in March.
    assert edge == [("2026-03", dt.date(2026, 3, 31)), ("2026-04", dt.date(2026, 4, 1)), ("2026-04", dt.date(2026, 4, 30))]
    policies = {r[0] for r in con.execute(f"SELECT DISTINCT policy FROM {daily}").fetchall()}
    assert policies == {p.strip() for p in POLICIES}  # unicode kept as is, surrounding spaces trimmed
    markets = {r[0] for r in con.execute(f"SELECT DISTINCT market FROM {daily} WHERE trainee_id LIKE 'GHOST%'").fetchall()}
    assert "Unknown" in markets and "" not in markets  # off the roster and no market of their own: Unknown
    tenure = relation(folder, next(r for r in ROLLUPS if r.name == "decision_tenure"))
    assert con.execute(f"SELECT count(*) FROM {tenure} WHERE trainee_id LIKE 'GHOST%'").fetchone() == (0,)
    # T002 is on the roster twice: the row with the later start (2026-05-04, not 2026-03-16) is the one used,
    # so its tenure weeks count from May (decisions end in early July: at most week 9, not 15).
    weeks = con.execute(f"SELECT count(*), max(week) FROM {tenure} WHERE trainee_id = 'T002'").fetchone()
    assert weeks is not None and weeks[0] > 0 and weeks[1] <= 9
    rejected = con.execute(f"SELECT reason, count(*) FROM read_parquet('{folder}/_rejected/*.parquet') GROUP BY 1").fetchall()
    assert dict(rejected) == PLANTED_REJECTS


@pytest.mark.spark
def test_csv_input_with_unreadable_cells_gives_the_same_rollups(tmp_path: Path, spark: object) -> None:
    rows = decision_rows(seed=5, n=300)[:300]
    con = duckdb.connect()
    con.register("arrow_rows", pa.Table.from_pylist(rows, schema=DECISION_SCHEMA))
    text = con.execute(
        "SELECT * REPLACE (strftime(date AT TIME ZONE 'UTC', '%Y-%m-%d') AS date, CAST(correct AS VARCHAR) AS correct) "
        "FROM arrow_rows").df()
    text.loc[3, "date"], text.loc[4, "correct"], text.loc[5, "date"] = "31/03/2026", "maybe", None
    csv = tmp_path / "decisions.csv"
    text.to_csv(csv, index=False)
    roster = tmp_path / "trainees.parquet"
    pq.write_table(roster_table(), roster)
    folders = {}
    for name in ("duckdb", "spark"):
        folders[name] = tmp_path / name
        manifest = rollup_with(name, JobSpec(str(csv), str(roster), folders[name]), spark)
        assert manifest.decisions.rejected["date is not a date"] == 1
        assert manifest.decisions.rejected["date is empty"] == 1
        assert manifest.decisions.rejected["correct is not true or false"] == 1
        assert manifest.input.format == "csv"
    assert_same_rollups(folders["duckdb"], folders["spark"])
    assert M.read(folders["duckdb"])[0].comparable() == M.read(folders["spark"])[0].comparable()


@pytest.mark.spark
def test_since_recomputes_later_months_and_keeps_earlier_ones(tmp_path: Path, spark: object) -> None:
    """A full run over May's data, then a --since run (on Spark) over data with June added and some of May
    changed, equals a full run over the new data."""
    rows = [r for r in decision_rows(seed=3, n=1500) if r["date"].month <= 5]  # type: ignore[union-attr]
    before, roster = write_inputs(tmp_path / "v1", rows)
    later = [{**r, "decision_id": f"J{i}", "date": r["date"] + dt.timedelta(days=40)}  # type: ignore[operator]
             for i, r in enumerate(rows) if r["date"].month == 5]  # type: ignore[union-attr]
    changed = [{**r, "correct": not r["correct"]} if r["date"].month == 5 and r["correct"] is not None and i % 4 == 0  # type: ignore[union-attr]
               else r for i, r in enumerate(rows)]
    after, _ = write_inputs(tmp_path / "v2", changed + later)
    incremental, full = tmp_path / "incremental", tmp_path / "full"
    rollup_with("duckdb", JobSpec(str(before), str(roster), incremental))
    kept = {p.name: p.stat().st_mtime_ns for p in (incremental / "decision_daily").glob("month=2026-0[34]/*.parquet")}
    manifest = rollup_with("spark", JobSpec(str(after), str(roster), incremental, since=dt.date(2026, 5, 10)), spark)
    rollup_with("duckdb", JobSpec(str(after), str(roster), full))
    assert_same_rollups(incremental, full)
    assert manifest.since == "2026-05-10" and manifest.tables == M.read(full)[0].tables
    assert {p.name: p.stat().st_mtime_ns for p in (incremental / "decision_daily").glob("month=2026-0[34]/*.parquet")} == kept


def test_since_needs_an_earlier_run_with_the_same_roster(tmp_path: Path) -> None:
    decisions, roster = write_inputs(tmp_path / "in", decision_rows(seed=2, n=300))
    out = tmp_path / "out"
    with pytest.raises(RollupError, match="run without --since first"):
        rollup_with("duckdb", JobSpec(str(decisions), str(roster), out, since=dt.date(2026, 4, 1)))
    rollup_with("duckdb", JobSpec(str(decisions), str(roster), out))
    changed = roster_table().to_pylist()
    changed[0]["market"] = "KR"
    pq.write_table(pa.Table.from_pylist(changed, schema=roster_table().schema), roster)
    with pytest.raises(RollupError, match="the roster changed"):
        rollup_with("duckdb", JobSpec(str(decisions), str(roster), out, since=dt.date(2026, 4, 1)))


def test_input_without_the_contracts_columns_is_refused_in_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"agent": ["a"], "day": ["2026-03-01"]}), bad)
    roster = tmp_path / "trainees.parquet"
    pq.write_table(roster_table(), roster)
    with pytest.raises(RollupError, match="lack column trainee_id, date, policy, correct"):
        rollup_with("duckdb", JobSpec(str(bad), str(roster), tmp_path / "out"))
    with pytest.raises(RollupError, match="no files match"):
        rollup_with("duckdb", JobSpec(str(tmp_path / "nothing" / "*.parquet"), str(roster), tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_an_output_inside_the_input_pattern_is_refused(tmp_path: Path) -> None:
    decisions, roster = write_inputs(tmp_path / "lake", decision_rows(seed=6, n=300))
    rollup_with("duckdb", JobSpec(str(decisions), str(roster), tmp_path / "lake" / "rollups"))
    with pytest.raises(RollupError, match="takes in files of the output folder"):
        rollup_with("duckdb", JobSpec(str(tmp_path / "lake" / "**" / "*.parquet"), str(roster),
                                      tmp_path / "lake" / "rollups"))


def test_a_failed_rerun_leaves_no_manifest_to_import(tmp_path: Path) -> None:
    decisions, roster = write_inputs(tmp_path / "in", decision_rows(seed=4, n=200))
    out = tmp_path / "out"
    rollup_with("duckdb", JobSpec(str(decisions), str(roster), out))
    assert json.loads((out / M.MANIFEST_NAME).read_text())["engine"] == "duckdb"
    pq.write_table(pa.Table.from_pylist([], schema=DECISION_SCHEMA), decisions)
    with pytest.raises(RollupError, match="no usable decisions"):
        rollup_with("duckdb", JobSpec(str(decisions), str(roster), out))
    assert (out / M.MANIFEST_NAME).exists()  # nothing was written: the earlier run stands
