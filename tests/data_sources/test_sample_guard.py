"""Sample and real people never share an id: an import that would mix them is refused and says how to
remove the sample; removing it leaves real imports exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_sources.imports import import_path
from data_sources.sample import EXPORTS, load_sample, remove_sample, sample_state
from data_sources.store import Store, open_store

needs_sample = pytest.mark.skipif(not (EXPORTS / "trainees.csv").exists(), reason="sample exports not generated")
pytestmark = needs_sample


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store(":memory:")
    yield s
    s.close()


@pytest.fixture
def con(store: Store) -> duckdb.DuckDBPyConnection:
    return store.cursor()


def sample_ids() -> list[str]:
    return pd.read_csv(EXPORTS / "trainees.csv", dtype=str)["trainee_id"].head(3).tolist()


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ("trainees", "decisions", "calibration", "imports", "decision_daily")
    return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}  # type: ignore[index]


def test_a_real_roster_with_sample_ids_is_refused_and_says_how_to_remove_the_sample(con, tmp_path: Path):
    assert all(r.ok for r in load_sample(con))
    before = counts(con)
    first, second, _ = sample_ids()
    roster = tmp_path / "roster.csv"
    roster.write_text(f"trainee_id,market,name\n{first},TH,Real Person\n{second},VN,Another\nR-9,TH,New\n")
    [result] = import_path(con, roster)
    assert result.status == "failed"
    assert f"2 rows have the same trainee_id as rows of the sample data (e.g. {first})" in result.message
    assert "Remove the sample data" in result.message and "uplift sample --remove" in result.message
    assert counts(con) == before  # nothing replaced: the sample trainees are as they were


def test_real_decisions_naming_sample_trainees_are_refused_too(con, tmp_path: Path):
    assert all(r.ok for r in load_sample(con))
    first = sample_ids()[0]
    decisions = tmp_path / "qa.csv"
    decisions.write_text(f"trainee_id,date,policy,correct\n{first},2026-05-04,Spam,Pass\n")
    [result] = import_path(con, decisions)
    assert result.status == "failed" and f"same trainee_id as rows of the sample data (e.g. {first})" in result.message


def test_after_removing_the_sample_the_real_roster_goes_in(con, tmp_path: Path):
    assert all(r.ok for r in load_sample(con))
    mine = tmp_path / "mine.csv"
    mine.write_text("session_id,item_id,rater_id,label\nMY-1,i1,me,yes\nMY-1,i1,you,no\n")
    [kept] = import_path(con, mine)  # ids the sample does not use: imported beside it
    assert kept.status == "imported"
    assert sample_state(con).loaded and not sample_state(con).only_sample
    removal = remove_sample(con)
    assert removal.imports == 7 and removal.rows > 40_000
    after = counts(con)
    assert after["trainees"] == 0 and after["decisions"] == 0 and after["decision_daily"] == 0
    assert con.execute("SELECT count(*) FROM calibration").fetchone() == (2,)  # the real import stays
    first = sample_ids()[0]
    roster = tmp_path / "roster.csv"
    roster.write_text(f"trainee_id,market\n{first},TH\n")
    [result] = import_path(con, roster)
    assert result.status == "imported", result.message
    assert not sample_state(con).loaded


def test_the_sample_is_not_loaded_over_real_people_with_its_ids(con, tmp_path: Path):
    first = sample_ids()[0]
    roster = tmp_path / "roster.csv"
    roster.write_text(f"trainee_id,market\n{first},TH\n")
    [mine] = import_path(con, roster)
    assert mine.status == "imported"
    results = load_sample(con)
    refused = [r for r in results if not r.ok]
    assert refused and "rows of the sample data have the same trainee_id as your own data" in refused[0].message
    assert con.execute("SELECT market FROM trainees WHERE trainee_id = ?", [first]).fetchone() == ("TH",)
