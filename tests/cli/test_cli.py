"""The `uplift` command: exit codes, one-line errors, and waiting for a database another process holds."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import cli
from access.roles import os_user
from tests.cli.held import held

ROSTER = "trainee_id,market\nT1,TH\nT2,VN\n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "u.duckdb")


def run(db: str, *args: str) -> int:
    return cli.main(["--db", db, *args])


def test_import_a_folder_then_log_then_undo(db, tmp_path, capsys):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "roster.csv").write_text(ROSTER)
    (folder / "notes.md").write_text("not an export")
    assert run(db, "import", str(folder)) == 0
    out = capsys.readouterr().out
    assert "imported as trainees (import #1): 2 added" in out
    assert run(db, "imports") == 0
    assert "trainees" in capsys.readouterr().out
    assert run(db, "undo", "1") == 0
    assert "undone: 2 rows removed" in capsys.readouterr().out


def test_failure_is_one_line_and_nonzero(db, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("trainee_id,date,policy,correct\nT1,31/02/2026,Hate Speech,1\n")
    assert run(db, "import", str(bad)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "row 2: date '31/02/2026' is not a date" in err[0]


def test_undo_of_unknown_import_is_an_error(db, capsys):
    assert run(db, "undo", "42") == 1
    assert capsys.readouterr().err.strip() == "uplift: there is no import #42; `uplift imports` lists them"


def test_no_files_found(db, tmp_path, capsys):
    assert run(db, "import", str(tmp_path)) == 2
    assert "no .csv, .tsv or .xlsx files" in capsys.readouterr().err


def test_corrupt_database_gets_a_way_back(tmp_path, capsys):
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"this is not a database" * 100)
    assert cli.main(["--db", str(broken), "imports"]) == 1
    err = capsys.readouterr().err
    assert "could not be opened as an Uplift database" in err and "uplift restore" in err


def test_cli_waits_for_a_database_held_by_another_process_then_says_so(db, tmp_path):
    with held(db):
        (tmp_path / "r.csv").write_text(ROSTER)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "cli", "--db", db, "import", str(tmp_path / "r.csv")],
            capture_output=True, text=True, timeout=60,
        )
        waited = time.monotonic() - started
    assert done.returncode == 1
    assert "in use by another Uplift process" in done.stderr and "Traceback" not in done.stderr
    assert waited >= 4  # it waited briefly before giving up
    # Once the other process is gone, the same command works: nothing was corrupted.
    again = subprocess.run(
        [sys.executable, "-m", "cli", "--db", db, "import", str(tmp_path / "r.csv")],
        capture_output=True, text=True, timeout=60,
    )
    assert again.returncode == 0, again.stderr


def test_backup_and_restore_bring_back_the_data(db, tmp_path, capsys):
    (tmp_path / "r.csv").write_text(ROSTER)
    assert run(db, "import", str(tmp_path / "r.csv")) == 0
    target = tmp_path / "nightly.duckdb"
    assert run(db, "backup", str(target)) == 0
    assert f"backed up to {target}" in capsys.readouterr().out
    assert run(db, "undo", "1") == 0
    assert run(db, "restore", str(target)) == 0
    out = capsys.readouterr().out
    assert "(1 imports)" in out and "before-restore" in out
    from data_sources.store import open_store

    store = open_store(db)
    assert store.con.execute("SELECT count(*) FROM trainees").fetchone() == (2,)
    store.close()


def test_restore_over_a_corrupt_database(tmp_path, db, capsys):
    (tmp_path / "r.csv").write_text(ROSTER)
    assert run(db, "import", str(tmp_path / "r.csv")) == 0
    assert run(db, "backup", str(tmp_path / "b.duckdb")) == 0
    Path(db).write_bytes(b"garbage" * 1000)
    assert run(db, "imports") == 1
    assert run(db, "restore", str(tmp_path / "b.duckdb")) == 0
    assert run(db, "imports") == 0
    assert "trainees" in capsys.readouterr().out


def test_restore_refuses_a_file_that_is_not_an_uplift_database(tmp_path, db, capsys):
    other = tmp_path / "other.duckdb"
    import duckdb

    duckdb.connect(str(other)).execute("CREATE TABLE x (a INT)").close()
    assert run(db, "restore", str(other)) == 1
    assert "not an Uplift database" in capsys.readouterr().err


def test_roles_apply_to_the_cli(db, tmp_path, monkeypatch, capsys):
    roles = tmp_path / "roles.toml"
    # This login may name others with --user (issue 10: --user is believed only when the roles file says so).
    roles.write_text('[users]\n"ana@example.com" = "analyst"\n"val@example.com" = "viewer"\n'
                     f'[cli]\nact_for_others = ["{os_user()}"]\n')
    monkeypatch.setenv("UPLIFT_ROLES", str(roles))
    (tmp_path / "r.csv").write_text(ROSTER)
    assert cli.main(["--db", db, "--user", "val@example.com", "import", str(tmp_path / "r.csv")]) == 3
    assert "val@example.com is a viewer" in capsys.readouterr().err
    assert cli.main(["--db", db, "--user", "ana@example.com", "import", str(tmp_path / "r.csv")]) == 0
    assert cli.main(["--db", db, "--user", "ana@example.com", "backup"]) == 3
    assert cli.main(["--db", db, "--user", "nobody@example.com", "imports"]) == 1
    assert "not in" in capsys.readouterr().err
    from data_sources.store import open_store

    store = open_store(db)
    assert store.con.execute("SELECT imported_by FROM imports").fetchall() == [("ana@example.com",)]
    store.close()


def test_the_installed_command_runs_from_any_folder(tmp_path: Path) -> None:
    """`make run` starts with `.venv/bin/uplift sample --if-empty`: the console script finds every package the
    command imports through the install, not through the working directory (pyproject's package list)."""
    script = Path(sys.executable).parent / "uplift"
    if not script.exists():
        pytest.skip("the project is not installed into this Python (make install does it)")
    done = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "rollup" in done.stdout and "report" in done.stdout
