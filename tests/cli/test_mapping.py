"""The command line as analysts meet it: columns mapped with --map or a saved mapping's name, files it
cannot place answered with the command that would import them, header names from annotation and QA
exports, calibration labels' order, and every refusal naming the flag that helps."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import cli
from data_sources.label_order import saved_order
from data_sources.plan import plan_import, save_mapping
from data_sources.readers import drop, read_path
from data_sources.store import open_store

ROOT = Path(__file__).resolve().parents[2]
# An annotation platform's export: annotator and round rather than rater and session, and a verdict column
# no contract name covers.
ANNOTATIONS = (
    "Round,Tweet ID,Annotator,Verdict,Annotated At\n"
    "R1,t1,ann_1,hateful,2026-05-04\nR1,t1,ann_2,hateful,2026-05-04\nR1,t1,ann_3,normal,2026-05-04\n"
    "R1,t2,ann_1,normal,2026-05-04\nR1,t2,ann_2,NA,2026-05-04\nR1,t2,ann_3,normal,2026-05-04\n"
    "R2,t3,ann_1,offensive,2026-05-11\nR2,t3,ann_2,hateful,2026-05-11\n"
)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "u.duckdb")


def run(db: str, *args: str) -> int:
    return cli.main(["--db", db, *args])


def query(db: str, sql: str) -> list[tuple]:
    # Plain DuckDB: the command's store stays open in this process (a command's process ends with it), and
    # DuckDB hands a second connection the same database.
    with duckdb.connect(db) as con:
        return con.execute(sql).fetchall()


def test_an_annotator_round_export_imports_with_map(db, tmp_path, capsys):
    export = tmp_path / "annotations.csv"
    export.write_text(ANNOTATIONS)
    code = run(db, "import", str(export), "--dataset", "calibration", "--map", "annotator=rater_id",
               "--map", "round=session_id", "--map", "Verdict=label")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "imported as calibration (import #1): 7 added, 0 replaced, 1 skipped as missing" in out.out
    assert "1 label is missing (a rating not given: skipped)" in out.out
    assert query(db, "SELECT session_id, item_id, rater_id, label FROM calibration ORDER BY ALL")[:3] == [
        ("R1", "t1", "ann_1", "hateful"), ("R1", "t1", "ann_2", "hateful"), ("R1", "t1", "ann_3", "normal")]
    assert query(db, "SELECT count(DISTINCT rater_id), count(DISTINCT session_id) FROM calibration") == [(3, 2)]
    # The labels are names: the command says how to give their order.
    assert "--label-order" in out.out


def test_a_file_it_cannot_place_gets_its_headers_the_closest_dataset_and_the_command(db, tmp_path, capsys):
    export = tmp_path / "annotations.csv"
    export.write_text(ANNOTATIONS)
    assert run(db, "import", str(export)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Round, Tweet ID, Annotator, Verdict, Annotated At" in err  # its headers
    assert "for calibration, required column label is missing" in err  # closest dataset, what it lacks
    command = err.split("Import it with: ")[1]
    assert command == f"uplift --db {db} import {export} --dataset calibration --map Verdict=label"
    # The command it gives imports the file.
    assert cli.main(["--db", db, *shlex.split(command)[1:]]) == 0
    assert query(db, "SELECT count(*) FROM calibration") == [(7,)]


def test_a_file_matching_nothing_names_the_closest_dataset_and_what_to_fill_in(db, tmp_path, capsys):
    export = tmp_path / "scores.csv"
    export.write_text("Learner,Exam Score\nA1,70\n")
    assert run(db, "import", str(export)) == 1
    err = capsys.readouterr().err
    assert "its columns (Learner, Exam Score) match no Uplift dataset; the closest is assessments" in err
    assert "required columns date, assessment and score are missing" in err
    assert "--map HEADER=date --map HEADER=assessment --map 'Exam Score=score'" in err
    assert "(with HEADER the column that holds it)" in err


def test_map_names_a_header_the_file_lacks(db, tmp_path, capsys):
    export = tmp_path / "annotations.csv"
    export.write_text(ANNOTATIONS)
    assert run(db, "import", str(export), "--map", "coder=rater_id", "--map", "Verdict=label") == 1
    err = capsys.readouterr().err
    assert "annotations.csv has no column 'coder'; its columns are Round, Tweet ID, Annotator" in err
    assert run(db, "import", str(export), "--map", "Verdict=verdict_label") == 1
    assert "verdict_label: not a column Uplift knows" in capsys.readouterr().err


def test_a_mapping_saved_and_named_in_the_app_is_used_by_name(db, tmp_path, capsys):
    first = tmp_path / "week1.csv"
    first.write_text(ANNOTATIONS)
    store = open_store(db)
    con = store.cursor()
    (raw,) = read_path(con, first)
    save_mapping(con, plan_import(con, raw, renames={"Verdict": "label"}), "vendor votes")
    drop(con, raw)
    store.close()
    assert run(db, "mappings") == 0
    listed = capsys.readouterr().out
    assert listed.startswith("vendor votes\tcalibration\tround -> session_id, tweet id -> item_id, annotator -> ")
    # Next week's export has the columns in another order and one more: the saved mapping still places them.
    second = tmp_path / "week2.csv"
    second.write_text("Annotator,Verdict,Round,Tweet ID,Confidence\nann_1,normal,R3,t9,0.9\nann_2,normal,R3,t9,0.4\n")
    assert run(db, "import", str(second), "--mapping", "Vendor Votes") == 0
    assert query(db, "SELECT session_id, item_id, label FROM calibration ORDER BY rater_id") == [
        ("R3", "t9", "normal"), ("R3", "t9", "normal")]
    capsys.readouterr()
    assert run(db, "import", str(second), "--mapping", "nope") == 1
    assert "no saved mapping called 'nope': saved mappings are called vendor votes (`uplift mappings`" in (
        capsys.readouterr().err)


def test_qa_exports_decisions_are_the_given_and_expected_labels_and_an_auditor_is_the_reviewer(db, tmp_path):
    export = tmp_path / "qa.csv"
    export.write_text(
        "Agent ID,QA Date,Policy,Moderator Decision,Expected Decision,Auditor\n"
        "A1,2026-05-04,Spam,remove,remove,qa_1\nA1,2026-05-05,Spam,approve,remove,qa_2\n"
    )
    assert run(db, "import", str(export)) == 0
    assert query(db, "SELECT given_label, expected_label, correct, reviewer_id FROM decisions ORDER BY date") == [
        ("remove", "remove", True, "qa_1"), ("approve", "remove", False, "qa_2")]


@pytest.mark.parametrize("header", ["annotator", "Annotator ID", "coder", "labeller", "Labeler", "grader", "auditor"])
def test_an_annotation_export_is_recognised_by_its_rater_header(db, tmp_path, header):
    export = tmp_path / "votes.csv"
    export.write_text(f"batch,example id,{header},label\nB1,e1,x,yes\nB1,e1,y,no\n")
    assert run(db, "import", str(export)) == 0
    assert query(db, "SELECT session_id, item_id, rater_id FROM calibration ORDER BY 3") == [
        ("B1", "e1", "x"), ("B1", "e1", "y")]


def test_a_duplicate_key_refusal_names_keep_going(db, tmp_path, capsys):
    export = tmp_path / "votes.csv"
    export.write_text("session_id,item_id,rater_id,label\nS1,i1,a,yes\nS1,i1,a,no\nS1,i2,a,yes\n")
    assert run(db, "import", str(export)) == 1
    err = capsys.readouterr().err
    assert "same session_id and item_id and rater_id as row 2 but different values" in err
    assert "rerun with --keep-going" in err
    assert run(db, "import", str(export), "--keep-going") == 0


def test_label_order_is_saved_and_labels_outside_it_are_refused_naming_the_flag(db, tmp_path, capsys):
    export = tmp_path / "severity.csv"
    export.write_text("session_id,item_id,rater_id,label\nS1,i1,a,none\nS1,i1,b,mild\nS1,i2,a,severe\n")
    assert run(db, "import", str(export), "--label-order", "none,mild,moderate") == 1
    assert "the labels severe are not in the order given (none, mild, moderate); add them to --label-order" in (
        capsys.readouterr().err)
    assert run(db, "import", str(export), "--label-order", "none,mild,moderate,severe") == 0
    assert "saved the order of calibration labels: none < mild < moderate < severe" in capsys.readouterr().out
    with duckdb.connect(db) as con:
        assert saved_order(con) == ("none", "mild", "moderate", "severe")


def test_label_order_is_for_calibration(db, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("trainee_id,market\nT1,TH\n")
    assert run(db, "import", str(roster), "--dataset", "trainees", "--label-order", "a,b") == 2
    assert "--label-order orders calibration labels" in capsys.readouterr().err


def test_ambiguous_dates_name_date_order(db, tmp_path, capsys):
    export = tmp_path / "qa.csv"
    export.write_text("trainee_id,date,policy,correct\nT1,04/03/2026,Spam,1\n")
    assert run(db, "import", str(export)) == 1
    assert "say which with --date-order dmy or --date-order mdy" in capsys.readouterr().err


def uplift(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, as people run it (the sample is large enough that the store
    must be closed between commands, which a process's end does)."""
    return subprocess.run([sys.executable, "-m", "cli", "--db", db, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def test_sample_remove_takes_out_only_the_sample(db, tmp_path):
    assert uplift(db, "sample").returncode == 0
    mine = tmp_path / "votes.csv"
    mine.write_text("session_id,item_id,rater_id,label\nMY-1,i1,me,yes\n")
    assert uplift(db, "import", str(mine)).returncode == 0
    removed = uplift(db, "sample", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("sample data removed: ") and "imports undone" in removed.stdout
    assert query(db, "SELECT count(*) FROM trainees") == [(0,)]
    assert query(db, "SELECT session_id FROM calibration") == [("MY-1",)]
    assert query(db, "SELECT count(*) FROM imports WHERE status = 'active'") == [(1,)]
    again = uplift(db, "sample", "--remove")
    assert again.returncode == 0 and "not loaded: nothing to remove" in again.stdout
