"""Missing values: `NA`, `N/A`, `n/a`, `#N/A`, `null`, `NULL`, `None`, `-`, `?` and blank cells are missing in
every dataset, never a label, a name or a category; counted per column; a missing rating is skipped, not
rejected, and every line of the file is still accounted for."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from data_sources import imports
from data_sources.contract import MISSING_VALUES
from data_sources.imports import import_path
from data_sources.label_order import save_order
from data_sources.readers import read_path
from data_sources.store import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return open_store(":memory:").cursor()


def one(con: duckdb.DuckDBPyConnection, path: Path, **kw: object) -> imports.ImportResult:
    results = import_path(con, path, **kw)  # type: ignore[arg-type]
    assert len(results) == 1
    return results[0]


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_the_docs_list_the_contracts_missing_values():
    """One list: the contract's, which docs/data.md repeats for users."""
    docs = (ROOT / "docs" / "data.md").read_text()
    line = next(ln for ln in docs.splitlines() if "are missing in every dataset" in ln)
    assert tuple(re.findall(r"`([^`]+)`", line.split("are missing")[0])) == MISSING_VALUES


@pytest.mark.parametrize("token", [*MISSING_VALUES, "", "  "])
def test_every_missing_spelling_is_missing_in_optional_columns(con, tmp_path, token):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"trainee_id,market,name,cohort\nT1,TH,{token},{token}\nT2,VN,Lan,2026-03\n")
    assert one(con, roster).status == "imported"
    assert rows(con, "SELECT name, cohort FROM trainees WHERE trainee_id = 'T1'") == [(None, None)]


def test_a_calibration_label_NA_is_a_missing_rating_not_a_third_label(con, tmp_path):
    export = tmp_path / "votes.csv"
    export.write_text(
        "session_id,item_id,rater_id,label\n"
        "S1,i1,a,spam\nS1,i1,b,NA\nS1,i1,c,ham\n"
        "S1,i2,a,ham\nS1,i2,b,#N/A\nS1,i2,c,\n"
        "S1,i3,a,spam\nS1,i3,b,spam\nS1,i3,c,null\n"
    )
    result = one(con, export)
    assert result.status == "imported", result.message
    assert rows(con, "SELECT DISTINCT label FROM calibration ORDER BY 1") == [("ham",), ("spam",)]
    # Nothing rejected, nothing lost: 9 lines = 5 added + 4 skipped as missing ratings.
    assert (result.rows_read, result.added, result.rejected, result.skipped) == (9, 5, 0, 4)
    assert "4 labels are missing (ratings not given: skipped)" in result.message
    logged = rows(con, "SELECT rows_read, rows_added, rows_rejected, rows_skipped FROM imports")
    assert logged == [(9, 5, 0, 4)]
    assert rows(con, "SELECT count(*) FROM rejected_rows") == [(0,)]


def test_a_missing_required_id_rejects_its_row_with_a_plain_reason(con, tmp_path):
    export = tmp_path / "roster.csv"
    export.write_text("trainee_id,market\nT1,TH\nNA,VN\n-,MY\n")
    result = one(con, export)
    assert result.status == "failed"
    assert "row 3: trainee_id is missing" in result.message and "--keep-going" not in result.message
    kept = one(con, export, keep_going=True)
    assert (kept.added, kept.rejected) == (1, 2)


def test_the_preview_counts_missing_cells_per_column(con, tmp_path):
    lines = ["session_id,item_id,rater_id,label,policy"]
    lines += [f"S1,i{i},r{i % 7},{'NA' if i < 311 else 'yes'},{'' if i % 2 else 'Spam'}" for i in range(400)]
    export = tmp_path / "big.csv"
    export.write_text("\n".join(lines) + "\n")
    (raw,) = read_path(con, export)
    validated = imports.validate(con, imports.plan_import(con, raw))
    try:
        assert validated.missing == {"label": 311, "policy": 200}
        assert validated.missing_words() == [
            "311 labels are missing (ratings not given: skipped)", "200 policies are missing"]
        assert (validated.rows_read, validated.good, validated.skipped) == (400, 89, 311)
    finally:
        imports.discard(con, validated)


def test_none_in_lower_case_is_a_label_and_an_order_that_names_None_keeps_it(con, tmp_path):
    """`None` (as pandas writes a missing value) is missing; `none` (a severity level) is a label; and a
    label order that names `None` as a level keeps it as one."""
    export = tmp_path / "severity.csv"
    export.write_text("session_id,item_id,rater_id,label\nS1,i1,a,none\nS1,i1,b,None\nS1,i1,c,mild\n")
    assert one(con, export).skipped == 1
    assert rows(con, "SELECT label FROM calibration ORDER BY rater_id") == [("none",), ("mild",)]
    ordered = tmp_path / "severity2.csv"
    ordered.write_text("session_id,item_id,rater_id,label\nS2,i1,a,None\nS2,i1,b,Mild\n")
    save_order(con, ["None", "Mild", "Severe"])
    result = one(con, ordered)
    assert (result.added, result.skipped) == (2, 0)
    assert rows(con, "SELECT label FROM calibration WHERE session_id = 'S2' ORDER BY rater_id") == [("None",), ("Mild",)]


def test_a_blank_rating_in_feedback_is_skipped_and_an_out_of_range_one_rejected(con, tmp_path):
    export = tmp_path / "feedback.csv"
    export.write_text("training_id,trainee_id,rating\nTR1,T1,5\nTR1,T2,N/A\nTR1,T3,9\n")
    result = one(con, export, keep_going=True)
    assert (result.added, result.skipped, result.rejected) == (1, 1, 1)
