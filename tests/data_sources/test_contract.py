"""The contract's column rules are the importer's rules: typing follows the rule a column declares."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from data_sources import contract
from data_sources.contract import DATASETS
from data_sources.imports import import_path
from data_sources.store import open_store
from data_sources.templates import dataset_docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data.md"


@pytest.fixture
def con():
    store = open_store(":memory:")
    yield store.cursor()
    store.close()


def _with_column(monkeypatch: pytest.MonkeyPatch, dataset: str, name: str, **changes: object) -> None:
    ds = DATASETS[dataset]
    columns = tuple(dataclasses.replace(c, **changes) if c.name == name else c for c in ds.columns)
    monkeypatch.setitem(DATASETS, dataset, dataclasses.replace(ds, columns=columns))


def test_a_range_changed_in_the_contract_changes_what_imports(con, tmp_path, monkeypatch):
    path = tmp_path / "feedback.csv"
    path.write_text("training_id,trainee_id,rating\nTR1,T1,7\n")
    [refused] = import_path(con, path)
    assert not refused.ok and "rating '7' is above 5" in refused.message
    _with_column(monkeypatch, "feedback", "rating", high=10)
    [taken] = import_path(con, path)
    assert taken.ok and taken.added == 1


def test_a_word_list_changed_in_the_contract_changes_what_imports(con, tmp_path, monkeypatch):
    path = tmp_path / "trainings.csv"
    path.write_text("training_id,date,kind,title\nTR1,2026-03-02,masterclass,Hate Speech\n")
    [refused] = import_path(con, path)
    assert not refused.ok and "kind 'masterclass' is not one of" in refused.message
    words = {**contract.TRAINING_KIND_WORDS, "masterclass": ("masterclass",)}
    _with_column(monkeypatch, "trainings", "kind", words=words)
    [taken] = import_path(con, path)
    assert taken.ok and con.execute("SELECT kind FROM trainings").fetchall() == [("masterclass",)]


def test_the_rule_not_the_name_decides(con, tmp_path, monkeypatch):
    """A column named like a ranged one but declared without a range takes any number."""
    _with_column(monkeypatch, "feedback", "rating", low=None, high=None)
    path = tmp_path / "feedback.csv"
    path.write_text("training_id,trainee_id,rating\nTR1,T1,9\n")
    [taken] = import_path(con, path)
    assert taken.ok


def test_templates_and_docs_say_the_contract_rules():
    docs = DOCS.read_text(encoding="utf-8")
    table = {row["dataset"]: row["values"] for row in dataset_docs()}
    assert "rating: 1 to 5" in table["feedback"]
    assert "attempt: 1 or more" in table["assessments"]
    for ds in DATASETS.values():
        for column in ds.columns:
            if column.words and column.strict:
                for word in column.words:
                    assert f"`{word}`" in docs, f"docs/data.md does not name {ds.name}.{column.name} value {word}"
            if column.rule:
                assert f"{column.name}: {column.rule}" in table[ds.name]
    assert "`rating` (1 to 5)" in docs
