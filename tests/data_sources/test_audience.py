"""The trainings' optional `audience` column: how attendees were chosen, read from the spellings exports use,
a value outside the word list rejected with the accepted ones, missing read as unknown; the migration that
adds it to an older store; replace and undo keep it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from data_sources import imports
from data_sources.contract import AUDIENCES, DATASETS, detect_dataset
from data_sources.imports import import_path
from data_sources.schema import LATEST, MIGRATIONS, column_types, migrate
from data_sources.store import open_store
from data_sources.templates import template_csv
from metrics.selection import AUDIENCE_NAMES

HEADER = "training_id,date,kind,title,policy,audience\n"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return open_store(":memory:").cursor()


def load(con: duckdb.DuckDBPyConnection, tmp_path: Path, rows: str, **kw: object) -> imports.ImportResult:
    path = tmp_path / "trainings.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    (result,) = import_path(con, path, **kw)  # type: ignore[arg-type]
    return result


def audiences(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    return dict(con.execute("SELECT training_id, audience FROM trainings ORDER BY 1").fetchall())


@pytest.mark.parametrize(("cell", "expected"), [
    ("everyone", "everyone"), ("Mandatory", "everyone"), ("All staff", "everyone"),
    ("assigned", "assigned"), ("By team", "assigned"), ("by_market", "assigned"),
    ("low_scorers", "low_scorers"), ("Remedial", "low_scorers"), ("bottom performers", "low_scorers"),
    ("Bottom-Performers", "low_scorers"), ("volunteers", "volunteers"), ("Opt-in", "volunteers"),
    ("voluntary", "volunteers"), ("random", "random"), ("Randomised", "random"), ("randomized", "random"),
    ("", None),
])
def test_audience_spellings_map_to_the_word_list(con, tmp_path, cell, expected):
    result = load(con, tmp_path, f"T1,2026-04-14,refresher,Hate speech,Hate Speech,{cell}\n")
    assert result.status == "imported", result.message
    assert audiences(con) == {"T1": expected}


def test_an_audience_outside_the_word_list_is_a_problem_the_user_sees(con, tmp_path):
    rows = "T1,2026-04-14,refresher,A,Hate Speech,by manager's pick\nT2,2026-04-15,refresher,B,Hate Speech,random\n"
    result = load(con, tmp_path, rows)
    assert result.status == "failed"
    assert "row 2: audience 'by manager's pick' is not one of: everyone, assigned, low_scorers, volunteers, random" \
        in result.message
    kept = load(con, tmp_path, rows, keep_going=True)
    assert kept.added == 1 and kept.rejected == 1
    assert audiences(con) == {"T2": "random"}


def test_trainings_without_the_column_import_with_the_audience_unknown(con, tmp_path):
    path = tmp_path / "trainings.csv"
    path.write_text("training_id,date,kind,title\nT1,2026-04-14,refresher,Hate speech\n", encoding="utf-8")
    (result,) = import_path(con, path)
    assert result.status == "imported"
    assert audiences(con) == {"T1": None}


def test_a_header_synonym_finds_the_column():
    headers = ["Session ID", "Training Date", "Training Type", "Course", "Target Audience"]
    found = detect_dataset(headers)
    assert found.dataset == "trainings" and found.mapping["audience"] == 4


def test_a_corrected_audience_replaces_and_undo_brings_the_old_one_back(con, tmp_path):
    load(con, tmp_path, "T1,2026-04-14,coaching,A,Hate Speech,\n")
    result = load(con, tmp_path, "T1,2026-04-14,coaching,A,Hate Speech,remedial\n")
    assert result.replaced == 1 and audiences(con) == {"T1": "low_scorers"}
    imports.undo(con, result.import_id)
    assert audiences(con) == {"T1": None}


def test_migration_7_adds_the_column_to_a_store_that_lacks_it(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, apply in MIGRATIONS:
        if version < 7:
            apply(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.execute("INSERT INTO trainings (training_id, date, kind, title, import_id) VALUES ('T0', DATE '2026-01-05', "
                "'onboarding', 'Class', 0)")
    assert "audience" not in [r[0] for r in con.execute("DESCRIBE trainings").fetchall()]
    assert migrate(con) == LATEST
    assert con.execute("SELECT training_id, audience FROM trainings").fetchall() == [("T0", None)]
    replaced = [r[0] for r in con.execute("DESCRIBE trainings__replaced").fetchall()]
    assert "audience" in replaced
    assert migrate(con) == LATEST  # applied once


def test_the_template_docs_and_vocabulary_agree():
    assert "audience" in DATASETS["trainings"].column_names and column_types("trainings")["audience"] == "VARCHAR"
    header, example = template_csv("trainings").splitlines()
    assert header.split(",")[-1] == "audience" and example.split(",")[-1] in AUDIENCES
    docs = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text(encoding="utf-8")
    assert all(f"`{a}`" in docs for a in AUDIENCES)
    assert set(AUDIENCE_NAMES) == set(AUDIENCES)  # the effect's words know every value the import accepts
