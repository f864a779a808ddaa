"""CSV for people to open in Excel or Sheets: cells that a spreadsheet would run as formulas are
neutralised (OWASP's CSV-injection advice: a leading apostrophe)."""

from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # A negative number stays a number; anything else starting like a formula is made inert text.
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV (with BOM, so Excel reads non-Latin names) with formula cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    return safe.to_csv(index=False).encode("utf-8-sig")
