"""Validating a planned import: every staged cell typed by its column's rule, the rows that cannot be used
and why, duplicates inside the file, and previews of both for the Data page."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from data_sources import values as V
from data_sources.contract import MISSING_VALUES, Column, Dataset
from data_sources.keys import content_sql, key_sql
from data_sources.plan import ImportRefused, Plan
from data_sources.readers import drop
from data_sources.schema import column_types

_typed_counter = itertools.count(1)


@dataclass
class Validated:
    plan: Plan
    table: str  # temp table of typed rows with `problem`, `rn`, `srow`, `key`, `dup_of`
    rows_read: int
    good: int
    rejected: int
    duplicates: int
    notes: list[str] = field(default_factory=list)
    # Rows skipped because a column that may be missing is (a rating not given), not rejected.
    skipped: int = 0
    # Missing cells (blank or a missing-value spelling such as NA) per mapped column, those with any.
    missing: dict[str, int] = field(default_factory=dict)

    def missing_words(self) -> list[str]:
        """The missing cells per column in words ("311 labels are missing: those rows are skipped as
        missing ratings"), with what each does to its rows."""
        ds, out = self.plan.ds, []
        for column, n in self.missing.items():
            one = n == 1
            said = f"{n:,} {_noun(ds.column(column), n)} {'is' if one else 'are'} missing"
            if column in ds.required and ds.column(column).skip_if_missing:
                said += f" ({'a rating' if one else 'ratings'} not given: skipped)"
            elif column in ds.required:
                said += f": {'that row' if one else 'those rows'} cannot be used"
            elif column in ds.defaults:
                said += f": read as {ds.defaults[column]}"
            out.append(said)
        return out


def _noun(column: Column, n: int) -> str:
    """A column's name as a noun for n cells: 1 label, 311 labels, 2 session ids, 3 policies."""
    if column.type == "bool":
        return f"{column.name} value" + ("" if n == 1 else "s")
    words = column.name.replace("_", " ")
    if n == 1:
        return words
    if words.endswith("y") and not words.endswith(("ay", "ey", "oy")):
        return words[:-1] + "ies"
    return words + ("es" if words.endswith("s") else "s")


def _cell(plan: Plan, column: str) -> str:
    default = plan.ds.defaults.get(column)
    fallback = f"'{default}'" if default is not None else "CAST(NULL AS VARCHAR)"
    if column in plan.mapping:
        # A blank or missing cell (NA, null, -) takes the column's default, as a missing column does.
        return f"coalesce(p.p_{column}, {fallback})"
    return fallback


def _missing_spellings(plan: Plan, column: str) -> frozenset[str]:
    """contract.MISSING_VALUES, less those the calibration label order names as labels (for `label`)."""
    return frozenset(MISSING_VALUES) - (plan.kept_as_labels if column == "label" else frozenset())


def _mapped(plan: Plan) -> list[str]:
    """The mapped columns in the file's order (bit k of `missing_mask` is the k-th)."""
    return [c for c, _i in sorted(plan.mapping.items(), key=lambda kv: kv[1])]


def _cells_sql(plan: Plan) -> str:
    """The staged rows as cells (`raw_<column>`: trimmed, NULL when blank or a missing value, else the
    column's default), with the row number, the staged row, which mapped cells were missing
    (`missing_mask`) and whether the row is skipped as a rating not given (`skip`)."""
    raw, ds, mapped = plan.raw, plan.ds, _mapped(plan)
    presents = "".join(f"{V.present(f's.c{plan.mapping[c]}', _missing_spellings(plan, c))} AS p_{c}, " for c in mapped)
    cells = ", ".join(f"{_cell(plan, c.name)} AS raw_{c.name}" for c in ds.columns)
    mask = " + ".join(f"CASE WHEN p.p_{c} IS NULL THEN {1 << k} ELSE 0 END" for k, c in enumerate(mapped)) or "0"
    skip = " OR ".join(f"p.p_{c.name} IS NULL" for c in ds.columns
                       if c.skip_if_missing and c.name in ds.required and c.name in plan.mapping) or "FALSE"
    return f"""SELECT {cells}, p.rn, p.srow, CAST({mask} AS BIGINT) AS missing_mask, {skip} AS skip FROM (
                   SELECT {presents}{raw.row_expr} AS rn, s.rowid AS srow FROM {raw.table} s) p"""


def _set_aside_missing(con: duckdb.DuckDBPyConnection, table: str, plan: Plan) -> tuple[dict[str, int], int]:
    """Missing cells per mapped column (those with any), from the rows' masks; then the rows skipped as a
    rating not given leave the table. Returns (missing per column, rows skipped)."""
    mapped = _mapped(plan)
    counts = "".join(f", count(*) FILTER (WHERE missing_mask & {1 << k} <> 0)" for k in range(len(mapped)))
    row = con.execute(f"SELECT count(*) FILTER (WHERE skip){counts} FROM {table}").fetchone()
    skipped = int(row[0]) if row else 0
    missing = {c: int(n) for c, n in zip(mapped, row[1:] if row else (), strict=False) if n}
    if skipped:
        con.execute(f"DELETE FROM {table} WHERE skip")
    return missing, skipped


def _typed_columns(plan: Plan) -> list[tuple[str, str, str, str | None]]:
    """(column, value SQL, problem SQL, suspect SQL) for each contract column, by the column's declared rule,
    over the trimmed cells `c.raw_<column>` (see validate). The suspect condition holds on every row where
    the problem may be set (None: never), so the problem is built only on those rows."""
    ds = plan.ds
    out: list[tuple[str, str, str, str | None]] = []
    for col in ds.columns:
        v = f"c.raw_{col.name}"
        # The problem re-reads the typed value from the projection that computed it, not a second parse.
        p = _parse(plan, col, v, typed=f"c.{col.name}")
        suspect = _suspect(v, f"c.{col.name}", p)
        problem = p.problem
        if col.name in ds.required:
            problem = f"coalesce({V.required_problem(v, col.name)}, {problem})"
            suspect = f"{v} IS NULL" + (f" OR {suspect}" if suspect else "")
        out.append((col.name, p.value, problem, suspect))
    return out


def _parse(plan: Plan, col: Column, v: str, *, typed: str) -> V.Parsed:
    """The value builder for the column's rule in the contract (its type, range or word list)."""
    dc = plan.decimal_comma
    if col.type == "date":
        return V.parse_date(v, col.name, plan.date_order, typed=typed)
    if col.type == "bool":
        return V.parse_bool(v, col.name, typed=typed)
    if col.type == "ratio":
        return V.parse_ratio(v, col.name, decimal_comma=dc, percent_scale=plan.percent_scale, typed=typed)
    if col.words:
        return V.parse_choice(v, col.name, col.words, strict=col.strict, typed=typed)
    if col.type == "int":
        return V.parse_int(v, col.name, decimal_comma=dc, low=col.low, high=col.high)
    if col.type == "float":
        return V.parse_float(v, col.name, decimal_comma=dc, low=col.low, high=col.high, typed=typed)
    return V.parse_text(v)


def _suspect(cell: str, value: str, p: V.Parsed) -> str | None:
    """A cheap condition true wherever `problem` may be set: a cell that gave no value, when that is the
    only problem the parser reports; else the problem itself."""
    if p.problem == "NULL":
        return None
    if p.unreadable_only:
        return f"({cell} IS NOT NULL AND {value} IS NULL)"
    return f"({p.problem}) IS NOT NULL"


def _problem_sql(parts: list[tuple[str, str | None]]) -> str:
    """A row's problems joined, or NULL. Built only on rows where some column is suspect: the sentences
    cost more than the checks, and nearly every row has none."""
    problems = [p for p, suspect in parts if suspect]
    suspects = [suspect for _p, suspect in parts if suspect]
    if not problems:
        return "CAST(NULL AS VARCHAR)"
    return f"CASE WHEN {' OR '.join(suspects)} THEN nullif(concat_ws('; ', {', '.join(problems)}), '') END"


def _dataset_rules(plan: Plan, cols: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Values derived from other columns, and checks across columns, per dataset."""
    ds, derived, problems = plan.ds.name, dict(cols), []
    if ds == "decisions":
        from_labels = "CASE WHEN t.given_label IS NOT NULL AND t.expected_label IS NOT NULL THEN lower(t.given_label) = lower(t.expected_label) END"
        derived["correct"] = f"coalesce(t.correct, {from_labels})"
        problems.append(
            f"CASE WHEN ({derived['correct']}) IS NULL AND t.problem IS NULL THEN "
            "'correct is empty and given_label/expected_label are not both there' END"
        )
    elif ds == "decision_counts":
        derived["correct"] = "coalesce(t.correct, round(t.accuracy * t.reviewed))"
        problems.append(
            f"CASE WHEN ({derived['correct']}) IS NULL AND t.problem IS NULL THEN 'correct and accuracy are both empty' "
            f"WHEN ({derived['correct']}) > t.reviewed THEN 'correct ' || ({derived['correct']}) || ' is more than reviewed ' || t.reviewed END"
        )
    elif ds == "trainees":
        derived["cohort"] = "coalesce(t.cohort, strftime(t.start_date, '%Y-%m'))"
    elif ds == "assessments":
        problems.append(
            "CASE WHEN t.max_score <= 0 THEN 'max_score must be above 0' "
            "WHEN t.score > t.max_score THEN 'score ' || t.score || ' is above max_score ' || t.max_score END"
        )
    return derived, problems


def validate(con: duckdb.DuckDBPyConnection, plan: Plan) -> Validated:
    """Type every cell, find the rows that cannot be used and why, and duplicates inside the file."""
    problem = plan.blocking_problem()
    if problem:
        raise ImportRefused(problem)
    raw = plan.raw
    types = column_types(plan.ds.name)
    first = _typed_columns(plan)
    values = ", ".join(f"{val} AS {name}" for name, val, *_rest in first)
    problems = _problem_sql([(p, suspect) for _n, _v, p, suspect in first])
    derived, checks = _dataset_rules(plan, {n: f"t.{n}" for n in types})
    final_cols = ", ".join(f"CAST({derived[n]} AS {types[n]}) AS {n}" for n in types if n != "source") + (
        ", CAST(t.source AS VARCHAR) AS source" if "source" in types else ""
    )
    check_sql = ", ".join(["t.problem", *checks])
    plain = ", ".join(f"c.{name}" for name, *_rest in first)
    table = f"typed_{next(_typed_counter)}"
    # One pass over the staged cells: trimmed cells, missing values, typed values, their problems (reading
    # the typed values, not parsing twice), rules across columns, then the key hash. `srow` points back at
    # the staged row, so a rejected row's raw cells are read only when needed. A row's content hash is not
    # stored: it is computed only where keys meet (duplicates in the file, rows already in the store).
    con.execute(
        f"""CREATE TEMP TABLE {table} AS
            SELECT *, {key_sql(plan.ds.name, 'f')} AS key, CAST(NULL AS BIGINT) AS dup_of
            FROM (
                SELECT {final_cols}, CASE WHEN NOT t.skip THEN nullif(concat_ws('; ', {check_sql}), '') END
                           AS problem, t.rn, t.srow, t.missing_mask, t.skip
                FROM (
                    SELECT {plain}, {problems} AS problem, c.rn, c.srow, c.missing_mask, c.skip
                    FROM (SELECT c.*, {values} FROM ({_cells_sql(plan)}) c) c
                ) t
            ) f"""
    )
    missing, skipped = _set_aside_missing(con, table, plan)
    duplicates = _mark_duplicates(con, table, plan.ds)
    counts = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE problem IS NULL AND dup_of IS NULL) FROM {table}"
    ).fetchone()
    total, good = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    rejected = total - good - duplicates + len(raw.read_rejects)
    read = total + skipped + len(raw.read_rejects)
    if raw.rows_in_file is not None and read != raw.rows_in_file:
        raise ImportRefused(
            f"{raw.label}: {raw.rows_in_file:,} rows in the file but {read:,} were read or set aside; "
            "nothing was imported"
        )
    notes = list(raw.notes)
    if plan.date_order_ambiguous:
        notes.append("dates like 04/03/2026 could be day-first or month-first: read as day-first; change if wrong")
    return Validated(plan, table, read, good, rejected, duplicates, notes, skipped, missing)


def _mark_duplicates(con: duckdb.DuckDBPyConnection, table: str, ds: Dataset) -> int:
    """Rows repeating an earlier row exactly are dropped (counted); rows sharing an earlier row's key with
    different values are rejected: the file contradicts itself and the user must say which is right."""
    row = con.execute(
        f"SELECT count(*) - count(DISTINCT key) FROM {table} WHERE problem IS NULL"
    ).fetchone()
    if not row or int(row[0]) == 0:
        return 0
    key_words = " and ".join(ds.key) if ds.name != "decisions" else "decision_id"
    con.execute(
        f"""UPDATE {table} AS t SET dup_of = d.first_rn,
                problem = CASE WHEN d.content <> d.first_content
                    THEN 'same {key_words} as row ' || d.first_rn || ' but different values' END
            FROM (
                SELECT rn, content,
                       arg_min(rn, rn) OVER w AS first_rn, arg_min(content, rn) OVER w AS first_content
                FROM (SELECT x.rn, x.key, {content_sql(ds.name, 'x')} AS content FROM {table} x
                      WHERE x.problem IS NULL AND x.key IN (
                          SELECT key FROM {table} WHERE problem IS NULL GROUP BY key HAVING count(*) > 1))
                WINDOW w AS (PARTITION BY key)
            ) d
            WHERE t.rn = d.rn AND d.rn <> d.first_rn"""
    )
    con.execute(f"UPDATE {table} SET dup_of = NULL WHERE problem IS NOT NULL")
    dup = con.execute(f"SELECT count(*) FROM {table} WHERE dup_of IS NOT NULL").fetchone()
    return int(dup[0]) if dup else 0


def raw_json_sql(v: Validated) -> str:
    """SQL for the staged row as header -> cell JSON (headers bound as parameters, in order)."""
    pairs = ", ".join(f"?, s.c{i}" for i in range(len(v.plan.raw.headers)))
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def rejected_preview(con: duckdb.DuckDBPyConnection, v: Validated, limit: int = 500) -> pd.DataFrame:
    """The rows that will not be imported, with row number, reason and the raw cells."""
    reader = pd.DataFrame(v.plan.raw.read_rejects, columns=["row", "raw", "reason"])
    typed = con.execute(
        f"""SELECT t.rn AS row, {raw_json_sql(v)} AS raw, t.problem AS reason
            FROM {v.table} t JOIN {v.plan.raw.table} s ON s.rowid = t.srow
            WHERE t.problem IS NOT NULL ORDER BY t.rn LIMIT ?""",
        [*v.plan.raw.headers, limit],
    ).df()
    frames = [f for f in (reader, typed) if not f.empty]
    if not frames:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "reason": pd.Series(dtype="str"), "raw": pd.Series(dtype="str")})
    out = pd.concat(frames, ignore_index=True).sort_values("row").head(limit)
    return out[["row", "reason", "raw"]].reset_index(drop=True)


def typed_preview(con: duckdb.DuckDBPyConnection, v: Validated, limit: int = 20) -> pd.DataFrame:
    cols = ", ".join(column_types(v.plan.ds.name))
    return con.execute(
        f"SELECT rn AS row, {cols} FROM {v.table} WHERE problem IS NULL AND dup_of IS NULL ORDER BY rn LIMIT ?",
        [limit],
    ).df()


def distinct_values(con: duckdb.DuckDBPyConnection, v: Validated, column: str, limit: int = 1000) -> list[str]:
    """The distinct values of one column among the rows that will be imported (at most `limit`), as text."""
    if column not in column_types(v.plan.ds.name):
        raise ValueError(f"{v.plan.ds.name} has no column {column}")
    rows = con.execute(
        f"SELECT DISTINCT CAST({column} AS VARCHAR) AS v FROM {v.table} "
        f"WHERE problem IS NULL AND dup_of IS NULL AND {column} IS NOT NULL ORDER BY v LIMIT ?",
        [limit],
    ).fetchall()
    return [str(r[0]) for r in rows]


def discard(con: duckdb.DuckDBPyConnection, v: Validated) -> None:
    con.execute(f"DROP TABLE IF EXISTS {v.table}")
    drop(con, v.plan.raw)
