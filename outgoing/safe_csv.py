"""CSV for people to open in Excel or Sheets: nothing in a cell can run as a formula or split a row.

OWASP's CSV-injection advice, applied wherever a spreadsheet or an importer may start reading a value: a
cell, every line inside a cell and every tab-separated piece of it (pasting splits on tabs) that begins with
= + - @ (or a tab) gets a leading apostrophe. Bare carriage returns become line feeds, so a reader that
takes a lone CR for the end of a row still sees one quoted cell; a cell holding a line break is quoted.
"""

from __future__ import annotations

import re

import pandas as pd

# A formula can start at the start of the cell, after a line break, or after a tab.
_FORMULA_AT = re.compile(r"(^|\n|\t)(?=[=+\-@\t])")


def neutralise(value: object) -> object:
    """The value as inert text for a spreadsheet; numbers (including negative ones) stay numbers."""
    if not isinstance(value, str):
        return value
    try:
        float(value)
        return value  # "-2.5" is a number, not a formula
    except ValueError:
        pass
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return _FORMULA_AT.sub(r"\1'", text)


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV (with BOM, so Excel reads non-Latin names) with formula cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    # Line feeds end rows, so any cell holding one (every former carriage return too) is quoted.
    return safe.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
