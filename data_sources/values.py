"""SQL that turns a staged text cell into a typed value, and says in words why when it cannot.

Each builder takes a SQL expression for the trimmed cell (`v`, NULL when blank) and returns a Parsed
(value SQL, problem SQL): the problem is NULL when the cell is fine, else a sentence fragment such as
"date '31/02/2026' is not a date". A query that has already computed the typed value passes its expression
as `typed`, and the problem reads it instead of computing the value a second time. All SQL here is built
from fixed fragments and whitelisted column names; cell values only ever flow through the query as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from data_sources.contract import FALSE_WORDS, MISSING_VALUES, TRUE_WORDS, Words

DateOrder = Literal["dmy", "mdy"]

_ISO_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"]
_DMY_FORMATS = [
    "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d-%m-%y", "%d.%m.%y",
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y %H:%M:%S", "%d.%m.%Y %H:%M",
]
_MDY_FORMATS = [
    "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m-%d-%y",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
]
_NAMED_MONTH_FORMATS = ["%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%y", "%b %d %Y"]

def _sql_str(text: str) -> str:
    """A SQL string literal for one of this module's fixed words (never a user value)."""
    return "'" + text.replace("'", "''") + "'"


def _list(words: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_sql_str(w) for w in words) + "]"


def trimmed(cell: str) -> str:
    """The cell without surrounding spaces, NULL when blank. trim() copies every string it sees, and on
    millions of cells that is most of the typing cost; it removes only ' ' and Unicode space separators, so
    an all-ASCII cell that neither starts below '!' nor ends with ' ' (the usual cell) passes as it is."""
    return (
        f"CASE WHEN {cell} < '!' OR ends_with({cell}, ' ') OR strlen({cell}) <> length({cell}) "
        f"THEN nullif(trim({cell}), '') ELSE {cell} END"
    )


def present(cell: str, missing: tuple[str, ...] | frozenset[str] = MISSING_VALUES) -> str:
    """`trimmed(cell)`, or NULL when it spells a missing value (`NA`, `null`, `-` ...; contract.MISSING_VALUES).
    One CASE with the trimming: cells that need trimming are checked after it; the rest are compared as
    they are, and only when at most 4 bytes long, as every missing spelling is. A list search, not `IN`:
    DuckDB plans an `IN` list as a join over every row (typing 1M rows x 13 columns, measured here: 4 s more
    with `IN`, within the noise with the list search)."""
    words = sorted(missing)
    if not words:
        return trimmed(cell)
    longest = max(len(w.encode()) for w in words)
    found = f"list_position({_list(['', *words])}, {{}}) > 0"
    return (
        f"CASE WHEN {cell} < '!' OR ends_with({cell}, ' ') OR strlen({cell}) <> length({cell}) "
        f"THEN CASE WHEN {found.format(f'trim({cell})')} THEN NULL ELSE trim({cell}) END "
        f"WHEN strlen({cell}) <= {longest} AND {found.format(cell)} THEN NULL ELSE {cell} END"
    )


def _quoted(v: str) -> str:
    """The cell as it was, quoted, for a message; long cells are cut."""
    return f"'''' || left({v}, 60) || ''''"


@dataclass(frozen=True)
class Parsed:
    value: str
    problem: str
    # True when the problem is set only for a cell that is there but gave no value, so the caller can skip
    # building the problem on rows where that is not the case (nearly all of them).
    unreadable_only: bool = False


def _lookup(v: str, words: list[str], results: list[str]) -> str:
    """results[i] for the first words[i] equal to `v`, else NULL. One list search, not `list_contains`
    per result: DuckDB plans a long constant list as a join over every row, even rows a CASE settled."""
    return f"{_list(results)}[list_position({_list(words)}, {v})]"


def parse_text(v: str) -> Parsed:
    return Parsed(v, "NULL")


def parse_date(v: str, column: str, order: DateOrder, *, typed: str | None = None) -> Parsed:
    """ISO, the chosen day/month order, named months, or an Excel serial number (days since 1899-12-30)."""
    formats = _ISO_FORMATS + (_DMY_FORMATS if order == "dmy" else _MDY_FORMATS) + _NAMED_MONTH_FORMATS
    # Year-first text (the usual export, and ISO timestamps) takes the cheap cast; the rest the slow paths.
    value = f"""CASE
        WHEN {v} IS NULL THEN NULL
        WHEN substr({v}, 5, 1) IN ('-', '/') THEN TRY_CAST({v} AS DATE)
        WHEN regexp_full_match({v}, '\\d{{5}}(\\.\\d+)?') AND TRY_CAST({v} AS DOUBLE) BETWEEN 20000 AND 80000
            THEN CAST(DATE '1899-12-30' + CAST(floor(CAST({v} AS DOUBLE)) AS INTEGER) AS DATE)
        ELSE CAST(try_strptime({v}, {_list(formats)}) AS DATE) END"""
    problem = f"CASE WHEN {v} IS NOT NULL AND ({typed or value}) IS NULL THEN {_sql_str(column + ' ')} || {_quoted(v)} || ' is not a date' END"
    return Parsed(value, problem, unreadable_only=True)


def parse_bool(
    v: str, column: str, *, true_words: tuple[str, ...] = TRUE_WORDS, false_words: tuple[str, ...] = FALSE_WORDS,
    typed: str | None = None,
) -> Parsed:
    # Exports mostly say true/false: those skip lower() and the word lists.
    truth = ["TRUE"] * len(true_words) + ["FALSE"] * len(false_words)
    value = f"""CASE WHEN {v} = 'true' THEN TRUE WHEN {v} = 'false' THEN FALSE
        ELSE CAST({_lookup(f"lower({v})", [*true_words, *false_words], truth)} AS BOOLEAN) END"""
    problem = (
        f"CASE WHEN {v} IS NOT NULL AND ({typed or value}) IS NULL THEN {_sql_str(column + ' ')} || {_quoted(v)} "
        "|| ' is not yes/no (use Yes/No, Pass/Fail, Correct/Incorrect, 1/0 or TRUE/FALSE)' END"
    )
    return Parsed(value, problem, unreadable_only=True)


def _number(v: str, decimal_comma: bool) -> str:
    """Numbers as spreadsheets write them: 92.5, 92,5 (decimal comma files), 1,234 (thousands), 92.5%."""
    cleaned = f"replace(replace({v}, '%', ''), ' ', '')"
    if decimal_comma:
        return (
            f"CASE WHEN regexp_full_match({cleaned}, '-?\\d+,\\d+') THEN TRY_CAST(replace({cleaned}, ',', '.') AS DOUBLE) "
            f"ELSE TRY_CAST(replace({cleaned}, ',', '') AS DOUBLE) END"
        )
    return f"TRY_CAST(replace({cleaned}, ',', '') AS DOUBLE)"


def parse_float(
    v: str, column: str, *, decimal_comma: bool, low: float | None = None, high: float | None = None,
    typed: str | None = None,
) -> Parsed:
    value = _number(v, decimal_comma)
    read = typed or value
    checks = [f"WHEN {v} IS NOT NULL AND ({read}) IS NULL THEN {_sql_str(column + ' ')} || {_quoted(v)} || ' is not a number'"]
    if low is not None:
        checks.append(f"WHEN ({read}) < {float(low)} THEN {_sql_str(f'{column} ')} || {_quoted(v)} || {_sql_str(f' is below {low:g}')}")
    if high is not None:
        checks.append(f"WHEN ({read}) > {float(high)} THEN {_sql_str(f'{column} ')} || {_quoted(v)} || {_sql_str(f' is above {high:g}')}")
    return Parsed(value, "CASE " + " ".join(checks) + " END")


def parse_int(v: str, column: str, *, decimal_comma: bool, low: float | None = None, high: float | None = None) -> Parsed:
    # No `typed`: the checks read the number before rounding (2.5 is not a whole number, 0.6 is below 1).
    f = parse_float(v, column, decimal_comma=decimal_comma, low=low, high=high)
    value = f"CAST(round({f.value}) AS BIGINT)"
    whole = (
        f"CASE WHEN ({f.value}) IS NOT NULL AND ({f.value}) <> round({f.value}) THEN "
        f"{_sql_str(column + ' ')} || {_quoted(v)} || ' is not a whole number' END"
    )
    return Parsed(value, f"coalesce({f.problem}, {whole})")


def parse_ratio(v: str, column: str, *, decimal_comma: bool, percent_scale: bool, typed: str | None = None) -> Parsed:
    """A share given as 0-1 or as a percentage (92.5% or, when the column holds values above 1, 92.5)."""
    number = _number(v, decimal_comma)
    scaled = f"CASE WHEN contains({v}, '%') OR {percent_scale!s} THEN ({number}) / 100.0 ELSE ({number}) END"
    problem = (
        f"CASE WHEN {v} IS NOT NULL AND ({number}) IS NULL THEN {_sql_str(column + ' ')} || {_quoted(v)} || ' is not a number' "
        f"WHEN ({typed or scaled}) NOT BETWEEN 0 AND 1 THEN {_sql_str(column + ' ')} || {_quoted(v)} || ' is not between 0 and 100%' END"
    )
    return Parsed(scaled, problem)


def parse_choice(v: str, column: str, words: Words, *, strict: bool, typed: str | None = None) -> Parsed:
    """Map spelling variants to a fixed vocabulary. Unknown values are problems when `strict`."""
    normalised = f"regexp_replace(lower({v}), '[\\s_\\-]+', ' ', 'g')"
    spellings = [(w.replace("_", " ").replace("-", " "), canonical) for canonical, variants in words.items() for w in variants]
    lookup = _lookup(normalised, [w for w, _c in spellings], [c for _w, c in spellings])
    # Values already spelled as the vocabulary (the usual export) skip the regular expression.
    mapped = f"CASE WHEN {v} IN ({', '.join(_sql_str(w) for w in words)}) THEN {v} ELSE {lookup} END"
    if not strict:
        return Parsed(f"coalesce({mapped}, lower({v}))", "NULL")
    allowed = ", ".join(words)
    problem = (
        f"CASE WHEN {v} IS NOT NULL AND ({typed or mapped}) IS NULL THEN {_sql_str(column + ' ')} || {_quoted(v)} "
        f"|| {_sql_str(' is not one of: ' + allowed)} END"
    )
    return Parsed(mapped, problem, unreadable_only=True)


def required_problem(v: str, column: str) -> str:
    return f"CASE WHEN {v} IS NULL THEN {_sql_str(column + ' is missing')} END"
