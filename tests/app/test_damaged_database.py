"""A damaged database: every page says so in one message with the way back (`uplift restore`), instead of
Streamlit's generic error (issue 10, "Errors that hide their cause")."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.cli.test_errors import overwrite_block_of

PAGES = ["views/home.py", "views/overview.py", "views/training.py", "views/weak_spots.py", "views/learning.py"]


def _says_restore(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    errors = [str(e.value) for e in at.error]
    assert any("is damaged" in e and "uplift restore" in e for e in errors), errors
    assert not any("Something went wrong" in e for e in errors), errors


@pytest.mark.parametrize("page", PAGES)
def test_a_block_with_a_bad_checksum_is_named_on_every_page(make_app, sample_db, tmp_path: Path, page):
    bad = tmp_path / "bad.duckdb"
    shutil.copy(sample_db, bad)
    # The rollups the pages read: the sidebar on every page reads decision_totals, most measures decision_daily.
    for table in ("decision_daily", "decision_totals"):
        overwrite_block_of(bad, table)
    at = make_app(bad)
    at.run()
    if page != "views/home.py":
        at.switch_page(page).run()
    _says_restore(at)


def test_a_cut_database_is_named_before_any_page(make_app, sample_db, tmp_path: Path):
    cut = tmp_path / "cut.duckdb"
    shutil.copy(sample_db, cut)
    os.truncate(cut, cut.stat().st_size // 2)
    at = make_app(cut)
    at.run()
    _says_restore(at)
