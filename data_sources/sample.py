"""Load the bundled sample data (sample_data/exports/*.csv) into a store through the real importer, say
whether it is there, and take it out again in one action.

Sample rows are the imports recorded as by SAMPLE_USER. Generated and real people never share an id: an
import that would mix them is refused (data_sources/write.py), so a real roster whose ids match sample
ids is imported after `remove_sample`, never over the sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from data_sources.imports import import_path
from data_sources.log import dataset_counts
from data_sources.undo import undo
from data_sources.write import SAMPLE_USER, ImportResult

EXPORTS = Path(__file__).resolve().parent.parent / "sample_data" / "exports"
# The roster first, so that other datasets' trainee ids are found on it.
ORDER = ("trainees", "trainings", "attendance", "decisions", "decision_counts", "assessments", "calibration", "feedback")
__all__ = ["EXPORTS", "ORDER", "SAMPLE_USER", "SampleState", "is_sample_loaded", "load_sample", "remove_sample",
           "sample_files", "sample_state"]


def sample_files(folder: Path = EXPORTS) -> list[Path]:
    files = {p.stem: p for p in folder.glob("*.csv")}
    return [files[name] for name in ORDER if name in files]


def load_sample(con: duckdb.DuckDBPyConnection, folder: Path = EXPORTS) -> list[ImportResult]:
    """Import every bundled export; importing twice changes nothing."""
    return [r for path in sample_files(folder) for r in import_path(con, path, user=SAMPLE_USER)]


@dataclass(frozen=True)
class SampleState:
    """How much of what is active in the store came from the bundled sample."""

    sample_imports: int
    other_imports: int

    @property
    def loaded(self) -> bool:
        return self.sample_imports > 0

    @property
    def only_sample(self) -> bool:
        return self.sample_imports > 0 and self.other_imports == 0


def sample_state(con: duckdb.DuckDBPyConnection) -> SampleState:
    """Active imports from the sample and from everyone else (for the Home banner and the Data page)."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE imported_by = ?), count(*) FILTER (WHERE imported_by <> ?) FROM imports "
        "WHERE status = 'active'",
        [SAMPLE_USER, SAMPLE_USER],
    ).fetchone()
    return SampleState(int(row[0]), int(row[1])) if row else SampleState(0, 0)


def is_sample_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """True while everything active in the store came from the bundled sample (for the Home banner)."""
    return sample_state(con).only_sample


@dataclass(frozen=True)
class SampleRemoval:
    imports: int  # sample imports undone
    rows: int  # rows they had in the store

    @property
    def message(self) -> str:
        if not self.imports:
            return "the sample data is not loaded: nothing to remove"
        return f"sample data removed: {self.imports} imports undone, {self.rows:,} rows taken out"


def remove_sample(con: duckdb.DuckDBPyConnection, *, user: str | None = None) -> SampleRemoval:
    """Undo every active sample import, newest first (each an exact undo in its own transaction), leaving
    the store as if the sample had never been loaded; imports of real data stay."""
    ids = [int(i) for (i,) in con.execute(
        "SELECT import_id FROM imports WHERE status = 'active' AND imported_by = ? ORDER BY import_id DESC",
        [SAMPLE_USER],
    ).fetchall()]
    before = _stored_rows(con)
    for import_id in ids:
        undo(con, import_id, user=user)
    return SampleRemoval(len(ids), before - _stored_rows(con))


def _stored_rows(con: duckdb.DuckDBPyConnection) -> int:
    return sum(int(rows) for rows in dataset_counts(con)["rows"])
