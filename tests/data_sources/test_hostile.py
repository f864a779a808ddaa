"""Hostile input: random bytes, headers and cells never crash an import, never corrupt the store, and
cells come back exactly as text. Plus static checks that no user value reaches HTML or SQL strings."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_sources.contract import MISSING_VALUES, detect_dataset
from data_sources.imports import import_path
from data_sources.store import open_store
from outgoing.safe_csv import safe_csv

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STORE = open_store(":memory:")


def consistent() -> bool:
    row = STORE.con.execute(
        "SELECT (SELECT count(*) FROM decisions) = (SELECT coalesce(sum(reviewed), 0) FROM decision_daily) "
        "- (SELECT coalesce(sum(reviewed), 0) FROM decision_counts)"
    ).fetchone()
    return bool(row and row[0])


@SETTINGS
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(payload):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(payload)
        results = import_path(STORE.cursor(), path, keep_going=True)
    assert results and all(r.message for r in results)
    assert all("Traceback" not in r.message for r in results)
    assert consistent()


@SETTINGS
@given(st.lists(st.text(max_size=30), max_size=20))
def test_random_headers_never_raise(headers):
    detection = detect_dataset(headers)
    assert detection.dataset is None or not detection.missing or detection.mapping


# Control characters are left out here: a file full of them is refused as binary, which is its own test.
cells = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


def _text(cell: str) -> str | None:
    """A cell as the store keeps it: trimmed; None when blank or a missing value's spelling."""
    kept = cell.strip()
    return kept if kept and kept not in MISSING_VALUES else None


@SETTINGS
@given(st.lists(st.tuples(cells | st.sampled_from(MISSING_VALUES), cells | st.sampled_from(MISSING_VALUES)),
                min_size=1, max_size=8))
def test_names_round_trip_as_text(rows):
    """Whatever a name cell holds (formulas, markup, quotes, scripts), it is stored exactly, trimmed; a cell
    spelling a missing value (`NULL`, `NA` ...: the data contract's list) is missing, never a name."""
    store = open_store(":memory:")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["trainee_id", "market", "name"])
    expected = {}
    for n, (name, market) in enumerate(rows):
        writer.writerow([f"T{n}", _text(market) or "TH", name])  # a roster row needs a market
        expected[f"T{n}"] = _text(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        [result] = import_path(store.cursor(), path, keep_going=True)
    stored = dict(store.con.execute("SELECT trainee_id, name FROM trainees").fetchall())
    assert result.ok, result.message
    for trainee, name in stored.items():
        assert name == expected[trainee]


def test_csv_exports_neutralise_formulas():
    import pandas as pd

    frame = pd.DataFrame({"name": ['=HYPERLINK("http://x")', "+1+1", "@SUM(A1)", "-2.5", "Lan"], "n": [1, 2, 3, 4, 5]})
    text = safe_csv(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1+1" in text and "'@SUM" in text
    assert "\n-2.5," in text  # a negative number stays a number


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_no_value_reaches_unsafe_html():
    """unsafe_allow_html only ever carries fixed markup (a string literal with no f-string fields)."""
    offenders = []
    for path in [*_python_files("views", "ui"), ROOT / "app.py"]:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"st\.(?:markdown|html|write)\((.*?)unsafe_allow_html\s*=\s*True", text, re.S):
            if re.search(r"\bf[\"']|\.format\(|%\s*\(|\+\s*\w", match.group(1)):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)[:80]}")
    assert not offenders, offenders


def test_pages_build_no_sql():
    """Pages call metrics and data_sources; SQL strings live there, parameterised."""
    offenders = []
    for path in [*_python_files("views", "ui"), ROOT / "app.py"]:
        text = path.read_text(encoding="utf-8")
        if re.search(r"\.execute\(|\.sql\(|\bSELECT\b.+\bFROM\b", text) and path.name != "state.py" and path.name != "presenter.py":
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
