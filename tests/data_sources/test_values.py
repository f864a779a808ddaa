"""The SQL value builders against the plain forms they shortcut."""

from __future__ import annotations

import duckdb
import pytest

from data_sources import values as V
from data_sources.contract import (
    FALSE_WORDS,
    MISSING_VALUES,
    SOURCE_WORDS,
    STATUS_WORDS,
    TRAINING_KIND_WORDS,
    TRUE_WORDS,
)

CELLS = [
    None, "", " ", "   ", "a", " a", "a ", " a ", "\ta\t", "a\n", "\u00a0a\u00a0", "\u3000a", "a\u2003",
    "\u200ba\u200b", "é", " é ", "Zoë", "!", "~", "a b", "\x7f", "T00001", "2026-03-16", "\r\n",
]


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def test_trimmed_is_nullif_trim(con):
    rows = con.execute(
        f"SELECT v, {V.trimmed('v')}, nullif(trim(v), '') FROM unnest(?::VARCHAR[]) t(v)", [CELLS]
    ).fetchall()
    assert [(v, fast) for v, fast, _plain in rows] == [(v, plain) for v, _fast, plain in rows]


@pytest.mark.parametrize(
    ("parsed", "cells"),
    [
        (V.parse_bool("v", "correct"), [*TRUE_WORDS, *FALSE_WORDS, "TRUE", "Yes", "PASS", "maybe", None]),
        (V.parse_choice("v", "source", SOURCE_WORDS, strict=True),
         ["qa_audit", "golden_set", "QA Audit", "gold-set", "Golden_Check", "gs", "nope", None]),
        (V.parse_choice("v", "kind", TRAINING_KIND_WORDS, strict=True),
         ["onboarding", "New Hire", "policy-update", "1:1", "One on One", "misc", "lunch", None]),
        (V.parse_choice("v", "status", STATUS_WORDS, strict=False), ["active", "On Floor", "left", "Other"]),
    ],
)
def test_word_lookups_match_the_word_lists(con, parsed, cells):
    got = [r[0] for r in con.execute(f"SELECT {parsed.value} FROM unnest(?::VARCHAR[]) t(v)", [cells]).fetchall()]
    assert got == [_expected(parsed, c) for c in cells]


def _expected(parsed: V.Parsed, cell: str | None) -> object:
    """The first list holding the cell, as the word lists say (the reference the SQL must match)."""
    if cell is None:
        return None
    if "correct" in parsed.problem:
        word = cell.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    vocab = next(w for w in (SOURCE_WORDS, TRAINING_KIND_WORDS, STATUS_WORDS) if all(k in parsed.value for k in w))
    if cell in vocab:
        return cell
    norm = " ".join(cell.lower().replace("_", " ").replace("-", " ").split())
    for canonical, variants in vocab.items():
        if norm in [w.replace("_", " ").replace("-", " ") for w in variants]:
            return canonical
    return None if "is not one of" in parsed.problem else cell.lower()


def test_present_is_trimmed_with_every_missing_spelling_made_null(con):
    """The one-CASE SQL equals the rule in words: trim, then blank or a contract.MISSING_VALUES spelling is
    missing; other spellings (`none`, `Null`, `NAN`, `n.a.`) are values."""
    cells = [*CELLS, *MISSING_VALUES, *(f" {t} " for t in MISSING_VALUES), "\u3000NA", "none", "Null", "NAN", "n.a.",
             "NA1", "--", "??", "#N/A!", "", None]
    rows = con.execute(
        f"SELECT v, {V.present('v')}, nullif(trim(v), '') FROM unnest(?::VARCHAR[]) t(v)", [cells]
    ).fetchall()
    assert [(v, got) for v, got, _t in rows] == [(v, None if t in MISSING_VALUES else t) for v, _got, t in rows]
    assert [v for v, got, _t in rows if got is None and v and v.strip() == "NA"] == ["NA", " NA ", "\u3000NA"]
    kept = con.execute(f"SELECT {V.present('v', frozenset({'NA'}))} FROM (SELECT 'None' AS v)").fetchone()
    assert kept == ("None",)
