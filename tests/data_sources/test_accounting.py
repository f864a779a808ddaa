"""Every line of a file is accounted for: rows in the file = imported + replaced + already there +
duplicates skipped + rejected, on the command line and the Data page's path alike (issue 10, "Rows lost
without a trace"). Files are generated here, not shipped."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import cli
from data_sources import imports
from data_sources.readers import NotATable, read_path
from data_sources.store import open_store

HEADER = "decision_id,trainee_id,date,policy,correct\n"


def decision_rows(first: int, last: int) -> str:
    return "".join(f"D{i},T{i % 7},2026-03-{1 + i % 28:02d},Hate Speech,{i % 2}\n" for i in range(first, last + 1))


@pytest.fixture
def con():
    store = open_store(":memory:")
    yield store.cursor()
    store.close()


def unclosed_quote_file(folder: Path, rows: int = 20_000, bad_row: int = 101) -> Path:
    """The issue's file, smaller: one unclosed quote in spreadsheet row `bad_row` (line `bad_row`)."""
    path = folder / "decisions.csv"
    bad = f'D{bad_row - 1},T1,2026-03-02,"Hate Speech,1\n'
    path.write_text(HEADER + decision_rows(1, bad_row - 2) + bad + decision_rows(bad_row, rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("keep_going", [False, True])
def test_an_unclosed_quote_is_named_with_its_line_and_nothing_vanishes(tmp_path, capsys, keep_going):
    path = unclosed_quote_file(tmp_path)
    db = str(tmp_path / "u.duckdb")
    code = cli.main(["--db", db, "import", str(path), *(["--keep-going"] if keep_going else [])])
    err = capsys.readouterr().err
    assert code == 1
    assert "line 101 opens a quoted cell that is not closed" in err and "Traceback" not in err
    store = open_store(db)
    assert store.con.execute("SELECT count(*) FROM decisions").fetchone() == (0,)
    store.close()


def test_the_data_page_path_refuses_the_unclosed_quote_too(con, tmp_path):
    with pytest.raises(NotATable, match="line 101 opens a quoted cell"):
        read_path(con, unclosed_quote_file(tmp_path, rows=500))


def test_a_quote_that_closes_much_later_is_named_too(con, tmp_path):
    """A stray quote closed by another many lines on: DuckDB reads one giant row and drops the rest."""
    path = tmp_path / "d.csv"
    stray = 'D0,T1,2026-03-02,"Hate Speech,1\n'
    filler = "".join(f"D{i},T1,2026-03-02,Spam,1 and some more words to fill the line out\n" for i in range(1, 60_000))
    path.write_text(HEADER + stray + filler + 'D9,T1,2026-03-02,Spam",1\n' + decision_rows(100_000, 100_010))
    with pytest.raises(NotATable, match=r"line 2 opens a quoted cell that is not closed, so everything from there to line 60,002"):
        read_path(con, path)


def huge_cell_file(folder: Path, megabytes: int) -> Path:
    path = folder / "roster.csv"
    path.write_text("trainee_id,market,name\nT1,TH,Anan\nT2,VN," + "x" * (megabytes * 1024 * 1024) + "\nT3,ID,Dewi\n")
    return path


@pytest.mark.parametrize("megabytes", [5, 34])
def test_a_cell_too_large_to_read_is_a_rejected_row_with_its_line(con, tmp_path, megabytes):
    """At 34 MB DuckDB's reader drops the row without a reject record; at 5 MB it rejects it."""
    path = huge_cell_file(tmp_path, megabytes)
    [refused] = imports.import_path(con, path)
    assert not refused.ok and "1 of 3 rows cannot be used (row 3: is longer" in refused.message
    [result] = imports.import_path(con, path, keep_going=True)
    assert (result.added, result.rejected) == (2, 1)
    [(row, reason)] = con.execute("SELECT row_number, reason FROM rejected_rows").fetchall()
    assert row == 3 and "than the 2 MB one row may hold" in reason


def test_the_data_page_steps_account_for_a_dropped_row(con, tmp_path):
    """plan -> validate -> commit, as views/data.py drives them."""
    [raw] = read_path(con, huge_cell_file(tmp_path, 34))
    validated = imports.validate(con, imports.plan_import(con, raw))
    assert (validated.rows_read, validated.good, validated.rejected) == (3, 2, 1)
    result = imports.commit(con, validated, keep_going=True)
    imports.discard(con, validated)
    assert result.added + result.replaced + result.unchanged + result.duplicates + result.rejected == 3


def test_rows_in_the_file_equal_the_rows_counted(con, tmp_path):
    """Line breaks inside quoted cells, blank lines, duplicates, a rejected row and rows already there."""
    path = tmp_path / "d.csv"
    body = (
        HEADER + decision_rows(1, 5) + "\n"
        + 'D6,T1,2026-03-02,"Hate\nSpeech",1\n'  # a cell holding a line break: one row on two lines
        + "D1,T1,2026-03-02,Hate Speech,0\n"  # same key as row 2, other values: rejected
        + "D7,T1,2026-03-02,Hate Speech,1\nD7,T1,2026-03-02,Hate Speech,1\n"  # a duplicate
        + "D8,T1,31/02/2026,Hate Speech,1\n"  # not a date: rejected
    )
    path.write_text(body)
    [first] = imports.import_path(con, path, keep_going=True)
    assert first.ok, first.message
    rows_in_file = 10
    assert first.added + first.replaced + first.unchanged + first.duplicates + first.rejected == rows_in_file
    assert (first.duplicates, first.rejected) == (1, 2)


def test_a_row_count_that_does_not_add_up_refuses_the_import(con, tmp_path, monkeypatch):
    """The check itself: a reader that loses a row is caught before anything is written."""
    path = tmp_path / "d.csv"
    path.write_text(HEADER + decision_rows(1, 4))
    [raw] = read_path(con, path)
    con.execute(f"DELETE FROM {raw.table} WHERE rowid = 2")  # a row lost between the file and the staging
    raw.rows -= 1
    result = imports.import_raw(con, raw)
    assert not result.ok and "4 rows in the file but 3 were read or set aside" in result.message
    assert con.execute("SELECT count(*) FROM decisions").fetchone() == (0,)


def test_legit_files_take_the_fast_path(con, tmp_path, monkeypatch):
    """One line per row: the physical count settles it, with no second walk over the file."""
    from data_sources import readers

    def walked(_path: Path) -> readers.LineAudit:
        raise AssertionError("the file was walked a second time")

    monkeypatch.setattr(readers, "audit_lines", walked)
    path = tmp_path / "d.csv"
    path.write_text(HEADER + decision_rows(1, 1000))
    [result] = imports.import_path(con, path)
    assert result.added == 1000


def test_duckdb_is_still_the_reader(con: duckdb.DuckDBPyConnection, tmp_path):
    """Guard for the fast path's assumption: blank lines are skipped by DuckDB's reader, not staged."""
    path = tmp_path / "r.csv"
    path.write_text("trainee_id,market\nT1,TH\n\nT2,VN\n")
    [raw] = read_path(con, path)
    assert (raw.rows, raw.rows_in_file) == (2, 2)
