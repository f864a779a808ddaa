"""Load the bundled sample data (sample_data/exports/*.csv) into a store through the real importer."""

from __future__ import annotations

from pathlib import Path

import duckdb

from data_sources.imports import import_path
from data_sources.write import ImportResult

EXPORTS = Path(__file__).resolve().parent.parent / "sample_data" / "exports"
# The roster first, so that other datasets' trainee ids are found on it.
ORDER = ("trainees", "trainings", "attendance", "decisions", "decision_counts", "assessments", "calibration", "feedback")
SAMPLE_USER = "sample data"


def sample_files(folder: Path = EXPORTS) -> list[Path]:
    files = {p.stem: p for p in folder.glob("*.csv")}
    return [files[name] for name in ORDER if name in files]


def load_sample(con: duckdb.DuckDBPyConnection, folder: Path = EXPORTS) -> list[ImportResult]:
    """Import every bundled export; importing twice changes nothing."""
    return [r for path in sample_files(folder) for r in import_path(con, path, user=SAMPLE_USER)]


def is_sample_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """True while everything active in the store came from the bundled sample (for the Home banner)."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE imported_by = ?), count(*) FROM imports WHERE status = 'active'",
        [SAMPLE_USER],
    ).fetchone()
    return bool(row and row[0] > 0 and row[0] == row[1])
