"""The order of calibration labels (a severity scale: none < mild < moderate < severe), saved in the store
so that agreement is computed at the ordinal level on every page and for everyone."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import duckdb

from data_sources.store import bump_data_version

_KEY = "calibration_label_order"


def saved_order(con: duckdb.DuckDBPyConnection) -> tuple[str, ...] | None:
    """The saved order of calibration labels, lowest first, or None."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [_KEY]).fetchone()
    return tuple(json.loads(row[0])) if row else None


def save_order(con: duckdb.DuckDBPyConnection, labels: list[str] | None) -> None:
    """Save (or, with None or no labels, forget) the order of calibration labels. Results that depend on it
    are recomputed: the data version moves."""
    con.execute("DELETE FROM meta WHERE key = ?", [_KEY])
    if labels:
        con.execute("INSERT INTO meta VALUES (?, ?)", [_KEY, json.dumps(list(labels), ensure_ascii=False)])
    bump_data_version(con)


def outside_order(labels: Iterable[str], order: Sequence[str]) -> list[str]:
    """The labels an order does not name, matched as agreement matches them (3, 3.0 and "3" are one label)."""
    # Imported here: the agreement module (numpy, scipy, krippendorff) is needed only when an order is given.
    from metrics.agreement import measurement_level

    outside = []
    for label in labels:
        try:
            measurement_level([label], order)
        except ValueError:
            outside.append(label)
    return outside


def stored_labels(con: duckdb.DuckDBPyConnection, limit: int = 1000) -> list[str]:
    """The distinct calibration labels in the store (at most `limit`), for saying their level."""
    rows = con.execute("SELECT DISTINCT label FROM calibration ORDER BY label LIMIT ?", [limit]).fetchall()
    return [str(r[0]) for r in rows]
