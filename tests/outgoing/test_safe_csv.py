"""CSV downloads: no cell can run as a formula or split a row, in any position (issue 10, "CSV exports")."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from outgoing.safe_csv import neutralise, safe_csv

HOSTILE = [
    "\r=1+1",  # the case: a bare carriage return, then a formula
    "ok\r\n=cmd|' /C calc'!A0",
    "line one\n+1+1",
    "name\t=HYPERLINK(\"http://x\")",
    "\t-1+1",
    "a\r@SUM(A1)",
    '=HYPERLINK("http://x")',
    "-",
]


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("value", HOSTILE)
def test_no_line_or_piece_of_a_cell_starts_a_formula(value):
    text = safe_csv(pd.DataFrame({"name": [value], "n": [1]})).decode("utf-8-sig")
    [header, row] = rows_of(text.encode())
    assert header == ["name", "n"] and row[1] == "1"  # quoting kept the cell whole: two rows, two cells
    for piece in row[0].replace("\t", "\n").split("\n"):
        assert not piece.startswith(("=", "+", "-", "@")), (value, row[0])
    # A reader that ends rows at any CR or LF (as some importers do) sees no formula at a line start either.
    for physical in text.replace("\r", "\n").split("\n"):
        assert not physical.lstrip('"').startswith(("=", "+", "@")), (value, physical)
    assert "\r" not in text


def test_values_keep_their_text_apart_from_the_apostrophes():
    assert neutralise("\r=1+1") == "\n'=1+1"
    assert neutralise("a\tb") == "a\tb" and neutralise("Lan") == "Lan"
    assert neutralise("-2.5") == "-2.5" and neutralise(3) == 3


def test_headers_are_neutralised_too():
    [header, _row] = rows_of(safe_csv(pd.DataFrame({"=evil": ["x"]})))
    assert header == ["'=evil"]
