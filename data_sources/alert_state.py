"""What `uplift alerts` flagged last time, per scope (the markets it was run for), so that a weak spot is
sent once when it appears rather than every week it stays."""

from __future__ import annotations

import json

import duckdb


def _key(scope: str) -> str:
    return f"alerts_known:{scope}"


def known(con: duckdb.DuckDBPyConnection, scope: str) -> set[str]:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [_key(scope)]).fetchone()
    return set(json.loads(row[0])) if row else set()


def remember(con: duckdb.DuckDBPyConnection, scope: str, keys: set[str]) -> None:
    """Replace what is known as flagged for this scope (a weak spot no longer flagged is forgotten, so it is
    sent again if it comes back)."""
    con.execute("DELETE FROM meta WHERE key = ?", [_key(scope)])
    con.execute("INSERT INTO meta VALUES (?, ?)", [_key(scope), json.dumps(sorted(keys), ensure_ascii=False)])
