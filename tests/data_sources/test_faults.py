"""Faults: a killed import, readers during an import, two imports at once."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb

from data_sources.imports import import_path
from data_sources.store import GATE, open_store
from tests.data_sources.test_large_file import write_big_csv

ROSTER = "trainee_id,market\nT1,TH\nT2,VN\n"


def state(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
    row = con.execute(
        "SELECT (SELECT count(*) FROM decisions), (SELECT coalesce(sum(reviewed), 0) FROM decision_daily), "
        "(SELECT count(*) FROM imports), (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version')"
    ).fetchone()
    assert row is not None
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


KILLED_CHILD = """
import sys, time
from pathlib import Path
from data_sources.imports import import_raw
from data_sources.readers import read_path
from data_sources.store import open_store
con = open_store(sys.argv[1]).cursor()
[raw] = read_path(con, Path(sys.argv[2]))

def progress(fraction, message):
    if fraction >= 0.8:  # the rows are in, the rollup and the log not yet: inside the transaction
        print("writing:", message, flush=True)
        time.sleep(60)

import_raw(con, raw, progress=progress)
"""


def test_an_import_killed_part_way_leaves_the_store_as_it_was(tmp_path: Path):
    db = tmp_path / "u.duckdb"
    store = open_store(db)
    (tmp_path / "r.csv").write_text(ROSTER)
    import_path(store.cursor(), tmp_path / "r.csv")
    before = state(store.cursor())
    store.close()
    big = tmp_path / "big.csv"
    write_big_csv(big, 1_500_000)
    # The child stops for good inside the transaction, once rows are being written, and says so; then it is
    # killed there. (A fixed sleep would race the import's speed.)
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(db), str(big)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    assert line.startswith("writing:"), (line, child.stderr.read() if child.poll() is not None else "")
    child.send_signal(signal.SIGKILL)
    child.wait()
    reopened = open_store(db)
    assert state(reopened.cursor()) == before
    # And the store still takes the same import afterwards.
    [result] = import_path(reopened.cursor(), big)
    assert result.added == 1_500_000
    reopened.close()


def test_readers_see_the_old_data_or_the_new_never_half(tmp_path: Path):
    store = open_store(tmp_path / "u.duckdb")
    big = tmp_path / "big.csv"
    write_big_csv(big, 400_000)
    before = state(store.cursor())
    seen: set[tuple[int, int]] = set()
    done = threading.Event()

    def read() -> None:
        cur = store.cursor()
        while not done.is_set():
            with GATE.reading():  # as the app's reads do
                decisions, rolled_up, _imports, _version = state(cur)
            seen.add((decisions, rolled_up))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        [result] = import_path(store.cursor(), big)
    finally:
        done.set()
        reader.join()
    after = state(store.cursor())
    assert result.added == 400_000
    assert seen <= {before[:2], after[:2]}, seen
    store.close()


def test_two_imports_at_once_are_serialised(tmp_path: Path):
    store = open_store(tmp_path / "u.duckdb")
    files = []
    for n in range(2):
        path = tmp_path / f"part{n}.csv"
        write_big_csv(path, 200_000, first_id=n * 1_000_000)  # disjoint decision ids
        files.append(path)
    results: list[object] = []

    def run(path: Path) -> None:
        results.extend(import_path(store.cursor(), path))

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == ["imported", "imported"], [r.message for r in results]  # type: ignore[attr-defined]
    assert sorted(r.import_id for r in results) == [1, 2]  # type: ignore[attr-defined]
    assert store.con.execute("SELECT count(*), count(DISTINCT decision_id) FROM decisions").fetchone() == (400_000, 400_000)
    assert store.con.execute("SELECT sum(reviewed) FROM decision_daily").fetchone() == (400_000,)
    store.close()
