"""The import rules of the data contract, one test per rule or bad input."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from data_sources import imports
from data_sources import write as writing
from data_sources.imports import import_path
from data_sources.plan import CLI_REMEDIES
from data_sources.store import data_version, open_store

ROSTER = "trainee_id,market,name,start_date\nT1,TH,Somchai,2026-03-02\nT2,VN,Nguyễn Thị Lan,2026-03-02\n"
DECISIONS = (
    "decision_id,trainee_id,date,policy,correct,source\n"
    "D1,T1,2026-04-01,Hate Speech,Pass,golden_set\n"
    "D2,T1,2026-04-02,Hate Speech,Fail,golden_set\n"
    "D3,T2,2026-04-02,Bullying,Yes,qa_audit\n"
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return open_store(":memory:").cursor()


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def one(con: duckdb.DuckDBPyConnection, path: Path, **kw: object) -> imports.ImportResult:
    results = import_path(con, path, **kw)  # type: ignore[arg-type]
    assert len(results) == 1
    return results[0]


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def snapshot(con: duckdb.DuckDBPyConnection) -> tuple[int, ...]:
    tables = ["trainees", "decisions", "imports", "rejected_rows", "decision_daily", "labels"]
    return (data_version(con), *(count(con, t) for t in tables))


# ---- files that are not tables -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Excel 97-2003"),
    ],
    ids=["empty", "blank-lines", "binary", "old-xls"],
)
def test_not_a_table_gets_one_clear_message(con, tmp_path, content, expected):
    before = snapshot(con)
    result = one(con, write(tmp_path, "export.csv", content))
    assert result.status == "failed"
    assert expected in result.message and "export.csv" in result.message
    assert snapshot(con) == before


def test_workbook_renamed_to_csv_is_named_as_a_workbook(con, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    result = one(con, write(tmp_path, "roster.csv", buffer.getvalue()))
    assert result.status == "failed"
    assert "Excel workbook" in result.message and ".xlsx" in result.message


def test_header_only_says_there_is_no_data(con, tmp_path):
    result = one(con, write(tmp_path, "roster.csv", "trainee_id,market\n"))
    assert result.status == "failed"
    assert "no data rows" in result.message


def test_unknown_encoding_is_refused_clearly(con, tmp_path):
    # Bytes 0x81 0x8D 0x8F 0x90 0x9D are undefined in Windows-1252 and invalid as UTF-8.
    result = one(con, write(tmp_path, "roster.csv", b"trainee_id,market\nT1,\x81\x8d\x8f\x90\x9d\n"))
    assert result.status == "failed"
    assert "encoding" in result.message


def test_missing_required_column_names_it(con, tmp_path):
    result = one(con, write(tmp_path, "decisions.csv", "Agent ID,QA Date,Result\nT1,2026-04-01,Pass\n"))
    assert result.status == "failed"
    assert "policy" in result.message and "missing" in result.message


def test_columns_matching_no_dataset_say_so(con, tmp_path):
    result = one(con, write(tmp_path, "weather.csv", "city,temperature,humidity\nBangkok,33,80\n"))
    assert result.status == "failed"
    assert "match no Uplift dataset" in result.message and "city" in result.message


# ---- values that do not parse -----------------------------------------------------------------------

def test_bad_dates_reject_the_file_with_row_and_reason(con, tmp_path):
    write(tmp_path, "roster.csv", ROSTER)
    one(con, tmp_path / "roster.csv")
    before = snapshot(con)
    bad = DECISIONS + "D4,T2,31/02/2026,Bullying,Yes,qa_audit\n"
    result = one(con, write(tmp_path, "d.csv", bad))
    assert result.status == "failed"
    assert "row 5: date '31/02/2026' is not a date" in result.message
    assert snapshot(con) == before


def test_keep_going_imports_good_rows_and_keeps_bad_ones_with_reasons(con, tmp_path):
    bad = DECISIONS + "D4,T2,31/02/2026,Bullying,Yes,qa_audit\nD5,T2,2026-04-03,Bullying,maybe,qa_audit\n"
    result = one(con, write(tmp_path, "d.csv", bad), keep_going=True)
    assert result.status == "imported" and result.added == 3 and result.rejected == 2
    kept = imports.rejected(con, result.import_id)
    assert list(kept["row"]) == [5, 6]
    assert "is not yes/no" in kept["reason"].iloc[1]
    assert '"date":"31/02/2026"' in kept["raw"].iloc[0]


def test_rows_with_missing_cells_are_rejected_by_row_number(con, tmp_path):
    text = "trainee_id,market,name\nT1,TH,A\nT2\nT3,VN,C\n"
    result = one(con, write(tmp_path, "r.csv", text), keep_going=True)
    assert result.added == 2 and result.rejected == 1
    kept = imports.rejected(con, result.import_id)
    assert kept["row"].tolist() == [3] and "fewer cells" in kept["reason"].iloc[0]
    rows = con.execute("SELECT trainee_id FROM trainees ORDER BY 1").fetchall()
    assert rows == [("T1",), ("T3",)]


# ---- formats people bring ---------------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_common_delimiter(con, tmp_path, delimiter):
    text = ROSTER.replace(",", delimiter)
    result = one(con, write(tmp_path, "r.csv", text))
    assert result.added == 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
def test_encodings(con, tmp_path, encoding):
    name = "Nguyễn Thị Lan" if encoding != "cp1252" else "Renée Müller"
    text = f"trainee_id;market;name\nT1;VN;{name}\n"
    payload = text.encode(encoding)
    if encoding == "utf-16-le":
        payload = codecs.BOM_UTF16_LE + payload
    result = one(con, write(tmp_path, "r.csv", payload))
    assert result.added == 1, result.message
    assert con.execute("SELECT name FROM trainees").fetchone() == (name,)


def test_headers_are_recognised_by_synonyms(con, tmp_path):
    text = "Agent ID,Audit Date,Policy Area,QA Result,Audit Type\nT1,2026-04-01,Hate Speech,Correct,Golden Set\n"
    result = one(con, write(tmp_path, "qa.csv", text))
    assert result.dataset == "decisions" and result.added == 1
    assert con.execute("SELECT correct, source FROM decisions").fetchone() == (True, "golden_set")


def test_correct_comes_from_labels_when_absent(con, tmp_path):
    text = "trainee_id,date,policy,given_label,expected_label\nT1,2026-04-01,Hate Speech,violating,Violating\nT1,2026-04-01,Hate Speech,violating,benign\n"
    one(con, write(tmp_path, "d.csv", text))
    assert con.execute("SELECT correct FROM decisions ORDER BY correct").fetchall() == [(False,), (True,)]


@pytest.mark.parametrize(
    ("cells", "order", "expected"),
    [
        (["2026-03-04", "2026-03-05"], None, ["2026-03-04", "2026-03-05"]),
        (["04/03/2026", "25/03/2026"], None, ["2026-03-04", "2026-03-25"]),
        (["03/04/2026", "03/25/2026"], None, ["2026-03-04", "2026-03-25"]),
        (["04/03/2026", "05/03/2026"], "mdy", ["2026-04-03", "2026-05-03"]),
        (["46085", "46086"], None, ["2026-03-04", "2026-03-05"]),
        (["2026-03-04 10:15:00", "2026-03-05T08:00:00Z"], None, ["2026-03-04", "2026-03-05"]),
    ],
    ids=["iso", "day-first", "month-first", "ambiguous-chosen", "excel-serial", "timestamps"],
)
def test_dates(con, tmp_path, cells, order, expected):
    text = "trainee_id,date,policy,correct\n" + "".join(f"T1,{c},Hate Speech,1\n" for c in cells)
    result = one(con, write(tmp_path, "d.csv", text), date_order=order)
    assert result.added == 2, result.message
    got = [str(r[0]) for r in con.execute("SELECT date FROM decisions ORDER BY date").fetchall()]
    assert got == expected


def test_ambiguous_dates_need_a_choice_when_strict(con, tmp_path):
    text = "trainee_id,date,policy,correct\nT1,04/03/2026,Hate Speech,1\n"
    result = one(con, write(tmp_path, "d.csv", text), strict_dates=True, remedies=CLI_REMEDIES)
    assert result.status == "failed" and "--date-order" in result.message


@pytest.mark.parametrize(("cell", "expected"), [("92.5%", 0.925), ("0.925", 0.925), ("92,5%", 0.925)])
def test_percentages(con, tmp_path, cell, expected):
    delim = ";" if "," in cell else ","
    text = f"trainee_id{delim}date{delim}policy{delim}reviewed{delim}accuracy\nT1{delim}2026-04-06{delim}Hate Speech{delim}200{delim}{cell}\n"
    result = one(con, write(tmp_path, "counts.csv", text))
    assert result.dataset == "decision_counts", result.message
    assert con.execute("SELECT reviewed, correct FROM decision_counts").fetchone() == (200, round(200 * expected))


@pytest.mark.parametrize(("yes", "no"), [("Pass", "Fail"), ("Yes", "No"), ("1", "0"), ("Correct", "Incorrect"), ("TRUE", "FALSE")])
def test_booleans(con, tmp_path, yes, no):
    text = f"trainee_id,date,policy,correct\nT1,2026-04-01,Hate Speech,{yes}\nT1,2026-04-02,Hate Speech,{no}\n"
    one(con, write(tmp_path, "d.csv", text))
    assert con.execute("SELECT correct FROM decisions ORDER BY date").fetchall() == [(True,), (False,)]


def test_workbook_sheets_are_datasets(con, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Roster"
    for row in [["Agent ID", "Market", "Name"], ["T1", "TH", "Somchai"], ["T2", "VN", "Lan"]]:
        sheet.append(row)
    qa = book.create_sheet("QA")
    import datetime as dt

    for row in [["Agent ID", "QA Date", "Policy", "Result"], ["T1", dt.datetime(2026, 4, 1), "Hate Speech", "Pass"]]:
        qa.append(row)
    book.create_sheet("Empty")
    path = tmp_path / "export.xlsx"
    book.save(path)
    results = import_path(con, path)
    assert [(r.tab, r.dataset, r.added) for r in results] == [("Roster", "trainees", 2), ("QA", "decisions", 1)]
    assert con.execute("SELECT date FROM decisions").fetchone() == (dt.date(2026, 4, 1),)


def test_formula_and_markup_cells_are_kept_as_text(con, tmp_path):
    text = 'trainee_id,market,name\nT1,TH,"=HYPERLINK(""http://x"")"\nT2,TH,<script>alert(1)</script>\n'
    one(con, write(tmp_path, "r.csv", text))
    names = [r[0] for r in con.execute("SELECT name FROM trainees ORDER BY trainee_id").fetchall()]
    assert names == ['=HYPERLINK("http://x")', "<script>alert(1)</script>"]


def test_policy_spelling_first_seen_is_kept(con, tmp_path):
    one(con, write(tmp_path, "a.csv", "trainee_id,date,policy,correct\nT1,2026-04-01,Hate Speech,1\n"))
    one(con, write(tmp_path, "b.csv", "trainee_id,date,policy,correct\nT1,2026-04-02, hate speech ,0\n"))
    assert con.execute("SELECT DISTINCT policy FROM decisions").fetchall() == [("Hate Speech",)]



def test_within_a_file_the_spelling_of_the_first_row_is_kept(con, tmp_path):
    rows = "".join(f"T1,2026-04-0{i + 1},{p},1\n" for i, p in
                   enumerate(["hate speech", "Bullying", "Hate Speech", "BULLYING", "hate speech", "Bullying"]))
    one(con, write(tmp_path, "a.csv", "trainee_id,date,policy,correct\n" + rows))
    assert con.execute("SELECT DISTINCT policy FROM decisions ORDER BY 1").fetchall() == [("Bullying",), ("hate speech",)]

# ---- roster, duplicates, re-import, undo --------------------------------------------------------------

def test_trainee_not_on_roster_is_imported_and_flagged(con, tmp_path):
    one(con, write(tmp_path, "roster.csv", ROSTER))
    text = DECISIONS + "D9,T404,2026-04-03,Bullying,Yes,qa_audit\n"
    result = one(con, write(tmp_path, "d.csv", text))
    assert result.status == "imported" and result.added == 4 and result.flagged == 1
    assert "T404" in result.message and "not on the roster" in result.message
    # It takes no market from the roster, so the rollup says Unknown rather than dropping it.
    assert con.execute("SELECT market FROM decision_daily WHERE trainee_id = 'T404'").fetchone() == ("Unknown",)


def test_duplicate_rows_inside_a_file(con, tmp_path):
    text = DECISIONS + "D3,T2,2026-04-02,Bullying,Yes,qa_audit\nD2,T1,2026-04-02,Hate Speech,Pass,golden_set\n"
    result = one(con, write(tmp_path, "d.csv", text), keep_going=True)
    assert result.duplicates == 1 and result.rejected == 1 and result.added == 3
    reason = imports.rejected(con, result.import_id)["reason"].iloc[0]
    assert reason == "same decision_id as row 3 but different values"


def test_reimport_changes_nothing(con, tmp_path):
    path = write(tmp_path, "d.csv", DECISIONS)
    first = one(con, path)
    before = snapshot(con)
    again = one(con, path)
    assert again.status == "unchanged" and f"#{first.import_id}" in again.message
    # The same rows in a different file (other order, other header spelling) change nothing either.
    lines = DECISIONS.splitlines()
    shuffled = "Decision ID,Agent ID,Date,Policy,Result,Source\n" + "\n".join(reversed(lines[1:])) + "\n"
    third = one(con, write(tmp_path, "d2.csv", shuffled))
    assert third.status == "unchanged" and third.unchanged == 3
    assert snapshot(con) == before


def test_corrected_file_replaces_by_natural_key_and_undo_restores(con, tmp_path):
    one(con, write(tmp_path, "d.csv", DECISIONS))
    corrected = DECISIONS.replace("D2,T1,2026-04-02,Hate Speech,Fail", "D2,T1,2026-04-02,Hate Speech,Pass")
    result = one(con, write(tmp_path, "d2.csv", corrected))
    assert (result.added, result.replaced, result.unchanged) == (0, 1, 2)
    assert count(con, "decisions") == 3
    assert con.execute("SELECT correct FROM decisions WHERE decision_id = 'D2'").fetchone() == (True,)
    version = data_version(con)
    message = imports.undo(con, result.import_id)
    assert "1 earlier rows restored" in message
    assert data_version(con) == version + 1
    assert con.execute("SELECT correct FROM decisions WHERE decision_id = 'D2'").fetchone() == (False,)
    assert count(con, "decisions") == 3
    with pytest.raises(imports.ImportRefused, match="already undone"):
        imports.undo(con, result.import_id)


def test_undo_out_of_order_keeps_the_later_import(con, tmp_path):
    one(con, write(tmp_path, "a.csv", "trainee_id,market\nT1,TH\n"))
    b = one(con, write(tmp_path, "b.csv", "trainee_id,market\nT1,VN\n"))
    c = one(con, write(tmp_path, "c.csv", "trainee_id,market\nT1,MY\n"))
    imports.undo(con, b.import_id)  # B's row was already replaced by C: C stays
    assert con.execute("SELECT market FROM trainees").fetchall() == [("MY",)]
    imports.undo(con, c.import_id)  # now A's row comes back
    assert con.execute("SELECT market FROM trainees").fetchall() == [("TH",)]


def test_undo_updates_rollups(con, tmp_path):
    result = one(con, write(tmp_path, "d.csv", DECISIONS))
    assert count(con, "decision_daily") == 3
    imports.undo(con, result.import_id)
    assert count(con, "decision_daily") == 0


def test_failure_late_in_an_import_leaves_the_store_as_it_was(con, tmp_path, monkeypatch):
    one(con, write(tmp_path, "roster.csv", ROSTER))
    before = snapshot(con)

    def boom(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writing, "update_rollups", boom)
    with pytest.raises(RuntimeError):
        one(con, write(tmp_path, "d.csv", DECISIONS))
    assert snapshot(con) == before


def test_every_import_is_logged(con, tmp_path):
    result = one(con, write(tmp_path, "d.csv", DECISIONS), user="analyst@example.com")
    log = imports.history(con)
    row = log.iloc[0]
    assert (row["import_id"], row["dataset"], row["source"], row["rows_read"], row["rows_added"]) == (
        result.import_id, "decisions", "d.csv", 3, 3)
    assert row["imported_by"] == "analyst@example.com" and row["status"] == "active"
    content_hash = con.execute("SELECT content_hash FROM imports").fetchone()
    assert content_hash is not None and len(content_hash[0]) == 64


def test_saved_mapping_is_used_for_the_next_file_with_those_headers(con, tmp_path):
    from data_sources.readers import read_path

    path = write(tmp_path, "odd.csv", "who,when,what,ok\nT1,2026-04-01,Hate Speech,1\n")
    raw = read_path(con, path)[0]
    plan = imports.plan_import(con, raw, dataset="decisions",
                               mapping={"trainee_id": 0, "date": 1, "policy": 2, "correct": 3})
    imports.save_mapping(con, plan)
    result = one(con, write(tmp_path, "odd2.csv", "who,when,what,ok\nT2,2026-04-02,Bullying,0\n"))
    assert result.dataset == "decisions" and result.added == 1


def test_cohort_defaults_to_start_month(con, tmp_path):
    one(con, write(tmp_path, "r.csv", ROSTER))
    assert con.execute("SELECT DISTINCT cohort FROM trainees").fetchall() == [("2026-03",)]


def test_the_bundled_trainings_say_how_attendees_were_chosen(con, tmp_path):
    """The bundled trainings carry `audience`: every row imported, no header left over, and the planted
    sessions' declared audiences stored as the contract's words (most sessions, as in real exports, blank)."""
    from data_sources.readers import read_path
    from data_sources.sample import EXPORTS

    path = EXPORTS / "trainings.csv"
    rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
    plan = imports.plan_import(con, read_path(con, path, display_name=path.name)[0])
    assert plan.dataset == "trainings" and plan.unmatched_headers == [] and not plan.missing
    result = one(con, path)
    assert result.ok and result.dataset == "trainings" and result.added == rows == count(con, "trainings")
    declared = dict(con.execute("SELECT audience, count(*) FROM trainings GROUP BY ALL").fetchall())
    assert {"random", "low_scorers", "everyone"} <= set(declared) and declared[None] > declared["everyone"]
