"""Imports: from a staged table to typed rows in the store, all or nothing, logged, and undoable.

The steps, each usable on its own by the Data page's preview:
  plan_import()  which dataset, which header maps to which column, which date order
  validate()     typed values, the rows that cannot be used and why, duplicates inside the file
  commit()       one transaction: replace by natural key, keep replaced rows for undo, rollups, log
and `undo()`, `history()`, `rejected()`. `import_path()` runs the whole way for the CLI and tests.
"""

from __future__ import annotations

import datetime as dt
import getpass
import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from data_sources import values as V
from data_sources.contract import DATASETS, Dataset, detect_dataset, match_columns, missing_required
from data_sources.readers import NotATable, RawTable, drop, read_path
from data_sources.rollups import (
    AFFECTS_ROLLUP,
    LAKE_COUNTS,
    LAKE_DATASET,
    forget_lake_import,
    live_manifest,
    rebuild_decision_daily,
)
from data_sources.schema import column_types
from data_sources.store import GATE, WRITE_LOCK, bump_data_version

Progress = Callable[[float, str], None]

# Imports in one process take turns (data_sources.store.WRITE_LOCK, shared with rollup-folder imports).
_WRITE_LOCK = WRITE_LOCK
_typed_counter = itertools.count(1)

_LABELLED = ("policy", "market")  # shown as first spelled, matched case-insensitively


class ImportError_(Exception):
    """An import that cannot go ahead; the message says what and where, for people."""


# ---- planning ---------------------------------------------------------------------------------------

@dataclass
class Plan:
    raw: RawTable
    dataset: str | None
    mapping: dict[str, int]  # contract column -> header position
    missing: list[str]  # required columns not mapped
    unmatched_headers: list[str]
    date_order: V.DateOrder
    date_order_ambiguous: bool
    decimal_comma: bool
    percent_scale: bool = False  # ratio columns hold 0-100 rather than 0-1
    mapping_source: str = "detected"  # detected, saved, or chosen

    @property
    def ds(self) -> Dataset:
        assert self.dataset is not None
        return DATASETS[self.dataset]

    def blocking_problem(self) -> str | None:
        """Why this file cannot be imported as it is mapped, or None."""
        label = self.raw.label
        if self.dataset is None:
            shown = ", ".join(self.raw.headers[:8]) + (" ..." if len(self.raw.headers) > 8 else "")
            return (
                f"{label}: the columns ({shown}) match no Uplift dataset; pick the dataset and map the "
                "columns, or download a template from the Data page"
            )
        if self.missing:
            return f"{label}: required column {', '.join(self.missing)} is missing for {self.dataset}"
        if self.raw.rows == 0 and not self.raw.read_rejects:
            return f"{label} has a header row but no data rows"
        return None


def header_signature(headers: list[str]) -> str:
    return json.dumps([h.strip().casefold() for h in headers], ensure_ascii=False)


def plan_import(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    *,
    dataset: str | None = None,
    mapping: dict[str, int] | None = None,
    date_order: V.DateOrder | None = None,
) -> Plan:
    """Decide dataset and mapping: the caller's choice, else a saved mapping for these headers, else
    recognition from the header names."""
    source = "chosen"
    if mapping is None:
        saved = con.execute(
            "SELECT dataset, mapping FROM saved_mappings WHERE signature = ?", [header_signature(raw.headers)]
        ).fetchone()
        if saved and (dataset is None or dataset == saved[0]):
            dataset, mapping, source = saved[0], {k: int(v) for k, v in json.loads(saved[1]).items()}, "saved"
    if dataset is None:
        detection = detect_dataset(raw.headers)
        dataset, source = detection.dataset, "detected"
        mapping = detection.mapping if mapping is None else mapping
    elif mapping is None:
        mapping = match_columns(DATASETS[dataset], raw.headers)
        source = "detected"
    if dataset is None:
        return Plan(raw, None, {}, [], list(raw.headers), "dmy", False, False, False, source)
    ds = DATASETS[dataset]
    mapping = {c: i for c, i in mapping.items() if c in ds.column_names and 0 <= i < len(raw.headers)}
    missing = missing_required(ds, set(mapping))
    unmatched = [h for i, h in enumerate(raw.headers) if i not in mapping.values()]
    detected_order, ambiguous = _date_order(con, raw, ds, mapping)
    return Plan(
        raw, dataset, mapping, missing, unmatched,
        date_order or detected_order, ambiguous and date_order is None,
        decimal_comma=raw.delimiter in (";", "\t"),
        percent_scale=_percent_scale(con, raw, mapping),
        mapping_source=source,
    )


def _date_order(
    con: duckdb.DuckDBPyConnection, raw: RawTable, ds: Dataset, mapping: dict[str, int]
) -> tuple[V.DateOrder, bool]:
    """Day-first or month-first, from values that settle it (a first part above 12 means day-first).
    Ambiguous when no value settles it; day-first is then the default, as in most APAC and EMEA locales."""
    cols = [f"c{mapping[c.name]}" for c in ds.columns if c.type == "date" and c.name in mapping]
    if not cols:
        return "dmy", False
    pattern = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})"
    # Year-first cells (the usual export) cannot match the pattern: skip them before any regular expression.
    unions = " UNION ALL ".join(
        f"SELECT {c} AS v FROM {raw.table} WHERE NOT (substr({c}, 5, 1) = '-' AND substr({c}, 1, 4) GLOB '[0-9][0-9][0-9][0-9]')"
        for c in cols
    )
    row = con.execute(
        f"""SELECT
              count(*) FILTER (WHERE TRY_CAST(regexp_extract(v, ?, 1) AS INTEGER) > 12),
              count(*) FILTER (WHERE TRY_CAST(regexp_extract(v, ?, 2) AS INTEGER) > 12),
              count(*) FILTER (WHERE regexp_matches(v, ?))
            FROM ({unions})""",
        [pattern, pattern, pattern],
    ).fetchone()
    day_first, month_first, slashed = (int(x) for x in row) if row else (0, 0, 0)
    if month_first > day_first:
        return "mdy", False
    if day_first > 0:
        return "dmy", False
    return "dmy", slashed > 0


def _percent_scale(con: duckdb.DuckDBPyConnection, raw: RawTable, mapping: dict[str, int]) -> bool:
    if "accuracy" not in mapping:
        return False
    col = f"c{mapping['accuracy']}"
    row = con.execute(
        f"SELECT max(TRY_CAST(replace(replace({col}, '%', ''), ',', '.') AS DOUBLE)) FROM {raw.table}"
    ).fetchone()
    return bool(row and row[0] is not None and row[0] > 1)


def save_mapping(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Remember this header row's dataset and mapping for the next file like it."""
    con.execute(
        "INSERT OR REPLACE INTO saved_mappings VALUES (?, ?, ?, ?)",
        [header_signature(plan.raw.headers), plan.dataset, json.dumps(plan.mapping), dt.datetime.now()],
    )


# ---- validation -------------------------------------------------------------------------------------

@dataclass
class Validated:
    plan: Plan
    table: str  # temp table of typed rows with `problem`, `rn`, `srow`, `key`, `dup_of`
    rows_read: int
    good: int
    rejected: int
    duplicates: int
    notes: list[str] = field(default_factory=list)


def _cell(plan: Plan, column: str) -> str:
    default = plan.ds.defaults.get(column)
    fallback = f"'{default}'" if default is not None else "CAST(NULL AS VARCHAR)"
    if column in plan.mapping:
        # A blank cell takes the column's default, as a missing column does.
        return f"coalesce({V.trimmed(f's.c{plan.mapping[column]}')}, {fallback})"
    return fallback


def _typed_columns(plan: Plan) -> list[tuple[str, str, str, str | None]]:
    """(column, value SQL, problem SQL, suspect SQL) for each contract column, with the dataset's own
    rules, over the trimmed cells `c.raw_<column>` (see validate). The suspect condition holds on every row
    where the problem may be set (None: never), so the problem is built only on those rows."""
    ds = plan.ds
    dc = plan.decimal_comma
    out: list[tuple[str, str, str, str | None]] = []
    for col in ds.columns:
        v = f"c.raw_{col.name}"
        name = col.name
        if col.type == "date":
            p = V.parse_date(v, name, plan.date_order)
        elif col.type == "bool":
            p = V.parse_bool(v, name)
        elif col.type == "ratio":
            p = V.parse_ratio(v, name, decimal_comma=dc, percent_scale=plan.percent_scale)
        elif col.type == "kind":
            p = V.parse_choice(v, name, V.KIND_WORDS, strict=True)
        elif col.type == "source":
            p = V.parse_choice(v, name, V.SOURCE_WORDS, strict=True)
        elif col.type == "int":
            low, high = {"rating": (1, 5), "attempt": (1, None), "reviewed": (0, None)}.get(name, (None, None))
            p = V.parse_int(v, name, decimal_comma=dc, low=low, high=high)
        elif col.type == "float":
            floor = 0.0 if name in ("score", "max_score", "duration_hours", "correct", "pass_mark") else None
            p = V.parse_float(v, name, decimal_comma=dc, low=floor)
        elif name == "kind" and ds.name == "assessments":
            p = V.parse_choice(v, name, V.ASSESSMENT_KIND_WORDS, strict=False)
        elif name == "status":
            p = V.parse_choice(v, name, V.STATUS_WORDS, strict=False)
        else:
            p = V.parse_text(v)
        # The problem re-reads the typed value from the projection that computed it, not a second parse.
        problem = p.problem.replace(f"({p.value})", f"(c.{name})")
        suspect = _suspect(v, f"c.{name}", p, problem)
        if name in ds.required:
            problem = f"coalesce({V.required_problem(v, name)}, {problem})"
            suspect = f"{v} IS NULL" + (f" OR {suspect}" if suspect else "")
        out.append((name, p.value, problem, suspect))
    return out


def _suspect(cell: str, value: str, p: V.Parsed, problem: str) -> str | None:
    """A cheap condition true wherever `problem` may be set: a cell that gave no value, when that is the
    only problem the parser reports; else the problem itself."""
    if p.problem == "NULL":
        return None
    if p.unreadable_only:
        return f"({cell} IS NOT NULL AND {value} IS NULL)"
    return f"({problem}) IS NOT NULL"


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


def key_sql(dataset: str, alias: str = "x") -> str:
    """The natural key as a 64-bit hash over typed columns (policy/market case-folded)."""
    ds = DATASETS[dataset]
    if dataset == "decisions":
        return f"CASE WHEN {alias}.decision_id IS NOT NULL THEN hash('id', {alias}.decision_id) ELSE {content_sql(dataset, alias)} END"
    return "hash(" + ", ".join(_hashable(c, alias) for c in ds.key) + ")"


def content_sql(dataset: str, alias: str = "x") -> str:
    """A 64-bit hash of a row's whole content (re-importing the same row changes nothing)."""
    return "hash(" + ", ".join(_hashable(c, alias) for c in column_types(dataset)) + ")"


def _hashable(column: str, alias: str) -> str:
    if column in _LABELLED:
        return f"lower({alias}.{column})"
    if column == "source":
        return f"CAST({alias}.source AS VARCHAR)"
    return f"{alias}.{column}"


def validate(con: duckdb.DuckDBPyConnection, plan: Plan) -> Validated:
    """Type every cell, find the rows that cannot be used and why, and duplicates inside the file."""
    problem = plan.blocking_problem()
    if problem:
        raise ImportError_(problem)
    raw = plan.raw
    types = column_types(plan.ds.name)
    first = _typed_columns(plan)
    cells = ", ".join(f"{_cell(plan, name)} AS raw_{name}" for name, *_rest in first)
    values = ", ".join(f"{val} AS {name}" for name, val, *_rest in first)
    problems = _problem_sql([(p, suspect) for _n, _v, p, suspect in first])
    derived, checks = _dataset_rules(plan, {n: f"t.{n}" for n in types})
    final_cols = ", ".join(f"CAST({derived[n]} AS {types[n]}) AS {n}" for n in types if n != "source") + (
        ", CAST(t.source AS VARCHAR) AS source" if "source" in types else ""
    )
    check_sql = ", ".join(["t.problem", *checks])
    plain = ", ".join(f"c.{name}" for name, *_rest in first)
    table = f"typed_{next(_typed_counter)}"
    # One pass over the staged cells: trimmed cells, typed values, their problems (reading the typed
    # values, not parsing twice), rules across columns, then the key hash. `srow` points back at the
    # staged row, so a rejected row's raw cells are read only when needed. A row's content hash is not
    # stored: it is computed only where keys meet (duplicates in the file, rows already in the store).
    con.execute(
        f"""CREATE TEMP TABLE {table} AS
            SELECT *, {key_sql(plan.ds.name, 'f')} AS key, CAST(NULL AS BIGINT) AS dup_of
            FROM (
                SELECT {final_cols}, nullif(concat_ws('; ', {check_sql}), '') AS problem, t.rn, t.srow
                FROM (
                    SELECT {plain}, {problems} AS problem, c.rn, c.srow
                    FROM (SELECT c.*, {values} FROM (
                        SELECT {cells}, {raw.row_expr} AS rn, s.rowid AS srow FROM {raw.table} s) c
                    ) c
                ) t
            ) f"""
    )
    duplicates = _mark_duplicates(con, table, plan.ds)
    counts = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE problem IS NULL AND dup_of IS NULL) FROM {table}"
    ).fetchone()
    total, good = (int(counts[0]), int(counts[1])) if counts else (0, 0)
    rejected = total - good - duplicates + len(raw.read_rejects)
    notes = list(raw.notes)
    if plan.date_order_ambiguous:
        notes.append("dates like 04/03/2026 could be day-first or month-first: read as day-first; change if wrong")
    return Validated(plan, table, total + len(raw.read_rejects), good, rejected, duplicates, notes)


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


def _raw_json(v: Validated) -> str:
    """SQL for the staged row as header -> cell JSON (headers bound as parameters, in order)."""
    pairs = ", ".join(f"?, s.c{i}" for i in range(len(v.plan.raw.headers)))
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def rejected_preview(con: duckdb.DuckDBPyConnection, v: Validated, limit: int = 500) -> pd.DataFrame:
    """The rows that will not be imported, with row number, reason and the raw cells."""
    reader = pd.DataFrame(v.plan.raw.read_rejects, columns=["row", "raw", "reason"])
    typed = con.execute(
        f"""SELECT t.rn AS row, {_raw_json(v)} AS raw, t.problem AS reason
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


def discard(con: duckdb.DuckDBPyConnection, v: Validated) -> None:
    con.execute(f"DROP TABLE IF EXISTS {v.table}")
    drop(con, v.plan.raw)


# ---- committing -------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    source: str
    tab: str | None
    dataset: str | None
    status: str  # imported, unchanged, failed
    message: str
    import_id: int | None = None
    rows_read: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    flagged: int = 0

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        with GATE.committing():
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def commit(
    con: duckdb.DuckDBPyConnection,
    v: Validated,
    *,
    keep_going: bool = False,
    user: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Write validated rows in one transaction. With rejected rows, nothing is written unless
    `keep_going`, which imports the good rows and keeps the bad ones with their reasons."""
    plan, ds = v.plan, v.plan.ds
    raw = plan.raw
    report = progress or (lambda _f, _m: None)
    base = ImportResult(raw.source, raw.tab, ds.name, "failed", "", rows_read=v.rows_read,
                        duplicates=v.duplicates, rejected=v.rejected)
    if v.rejected and not keep_going:
        first = rejected_preview(con, v, limit=3)
        examples = "; ".join(f"row {r.row}: {r.reason}" for r in first.itertuples())
        base.message = (
            f"{raw.label}: {v.rejected} of {v.rows_read} rows cannot be used ({examples}). Nothing was imported: "
            "fix the file, or choose to import the good rows and keep the bad ones."
        )
        return base
    if v.good == 0:
        base.message = f"{raw.label}: no usable rows; nothing was imported."
        return base
    with _WRITE_LOCK:
        same = con.execute(
            "SELECT import_id FROM imports WHERE content_hash = ? AND dataset = ? AND status = 'active' "
            "ORDER BY import_id DESC LIMIT 1",
            [raw.content_hash, ds.name],
        ).fetchone()
        if same:
            base.status, base.import_id, base.unchanged = "unchanged", int(same[0]), v.good
            base.message = f"{raw.label}: already imported (import #{same[0]}); nothing changed."
            return base
        with _transaction(con):
            report(0.1, "matching rows against the store")
            result = _write(con, v, base, user or _who(), report)
        report(1.0, "done")
        return result


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _write(
    con: duckdb.DuckDBPyConnection, v: Validated, result: ImportResult, user: str, report: Progress
) -> ImportResult:
    ds = v.plan.ds
    cols = list(column_types(ds.name))
    col_list = ", ".join(cols)
    row = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
    import_id = int(row[0]) if row else 1
    good = f"{v.table}_good"
    con.execute(f"CREATE TEMP VIEW {good} AS SELECT * FROM {v.table} WHERE problem IS NULL AND dup_of IS NULL")
    # Display names: a policy or market keeps the spelling it was first seen with.
    for label in _LABELLED:
        if label in cols:
            con.execute(
                f"""INSERT INTO labels
                    SELECT ?, lower({label}), arg_min({label}, rn) FROM {good}
                    WHERE {label} IS NOT NULL GROUP BY lower({label})
                    ON CONFLICT DO NOTHING""",
                [label],
            )
    existing = con.execute(f"SELECT count(*) > 0 FROM {ds.name}").fetchone()
    matches = f"{v.table}_matches"
    if existing and existing[0]:
        # Keys first (one hash over the key columns of the store), contents only of the rows whose keys
        # meet: when the incoming keys are new, no row's content is hashed at all.
        con.execute(
            f"""CREATE TEMP TABLE {matches} AS
                WITH met AS (
                    SELECT g.rn, e.rid FROM {good} g
                    JOIN (SELECT rowid AS rid, {key_sql(ds.name, 'x')} AS key FROM {ds.name} x) e USING (key))
                SELECT met.rn, met.rid, {content_sql(ds.name, 'g')} = {content_sql(ds.name, 'x')} AS same
                FROM met JOIN {good} g USING (rn) JOIN {ds.name} x ON x.rowid = met.rid"""
        )
    else:
        con.execute(f"CREATE TEMP TABLE {matches} (rn BIGINT, rid BIGINT, same BOOLEAN)")
    report(0.4, "replacing changed rows")
    con.execute(
        f"""INSERT INTO {ds.name}__replaced SELECT {col_list}, import_id, ? FROM {ds.name}
            WHERE rowid IN (SELECT rid FROM {matches} WHERE NOT same)""",
        [import_id],
    )
    replaced_row = con.execute(
        f"DELETE FROM {ds.name} WHERE rowid IN (SELECT rid FROM {matches} WHERE NOT same) RETURNING 1"
    ).fetchall()
    report(0.6, "adding rows")
    unchanged = _scalar(con, f"SELECT count(*) FROM {matches} WHERE same")
    # Spellings that differ from the display name already in the store: usually none, and then the rows
    # go in as they are, with no join over millions of rows.
    joins, select_cols = [], []
    for c in cols:
        respelled = c in _LABELLED and _scalar(
            con,
            f"""SELECT count(*) FROM (SELECT DISTINCT {c} AS spelling FROM {good}) g
                JOIN labels l ON l.kind = ? AND l.key = lower(g.spelling) WHERE l.display <> g.spelling""",
            [c],
        )
        if respelled:
            joins.append(f"LEFT JOIN (SELECT key, display FROM labels WHERE kind = '{c}') l_{c} ON l_{c}.key = lower(g.{c})")
            select_cols.append(f"coalesce(l_{c}.display, g.{c})")
        else:
            select_cols.append(f"g.{c}")
    kept = f"ANTI JOIN (SELECT rn FROM {matches} WHERE same) m USING (rn)" if unchanged else ""
    con.execute(
        f"""INSERT INTO {ds.name} ({col_list}, import_id)
            SELECT {", ".join(select_cols)}, ? FROM {good} g {" ".join(joins)} {kept}""",
        [import_id],
    )
    replaced = len(replaced_row)
    added = v.good - unchanged - replaced
    flagged, flag_note = _flags(con, ds, good)
    con.execute(f"DROP TABLE {matches}")
    con.execute(f"DROP VIEW {good}")
    if added == 0 and replaced == 0:
        # Every row is already in the store as it is: nothing to record or undo.
        result.status, result.unchanged = "unchanged", unchanged
        result.message = f"{v.plan.raw.label}: all {unchanged} rows are already in the store; nothing changed."
        return result
    # Rejected rows are kept with their reasons, beside the import that skipped them.
    for rn, raw_line, reason in v.plan.raw.read_rejects:
        con.execute("INSERT INTO rejected_rows VALUES (?, ?, ?, ?)", [import_id, rn, raw_line, reason])
    if v.rejected > len(v.plan.raw.read_rejects):  # some typed rows have problems (else the staging may be gone)
        con.execute(
            f"""INSERT INTO rejected_rows
                SELECT ?, t.rn, {_raw_json(v)}, t.problem
                FROM {v.table} t JOIN {v.plan.raw.table} s ON s.rowid = t.srow WHERE t.problem IS NOT NULL""",
            [import_id, *v.plan.raw.headers],
        )
    if ds.name in AFFECTS_ROLLUP:
        report(0.8, "updating rollups")
        rebuild_decision_daily(con)
    con.execute(
        """INSERT INTO imports (import_id, source, tab, dataset, content_hash, rows_read, rows_added,
               rows_replaced, rows_unchanged, rows_duplicate, rows_rejected, rows_flagged, flag_note,
               imported_at, imported_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [import_id, v.plan.raw.source, v.plan.raw.tab, ds.name, v.plan.raw.content_hash, v.rows_read, added,
         replaced, unchanged, v.duplicates, v.rejected, flagged, flag_note, dt.datetime.now(), user],
    )
    bump_data_version(con)
    result.status, result.import_id = "imported", import_id
    result.added, result.replaced, result.unchanged, result.flagged = added, replaced, unchanged, flagged
    parts = [f"{added} added", f"{replaced} replaced"]
    if unchanged:
        parts.append(f"{unchanged} already there")
    if v.duplicates:
        parts.append(f"{v.duplicates} duplicate rows skipped")
    if v.rejected:
        parts.append(f"{v.rejected} rejected rows kept with reasons")
    message = f"{v.plan.raw.label}: imported as {ds.name} (import #{import_id}): " + ", ".join(parts) + "."
    if flag_note:
        message += " " + flag_note
    result.message = message
    return result


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _flags(con: duckdb.DuckDBPyConnection, ds: Dataset, good: str) -> tuple[int, str | None]:
    """Rows kept but worth a look: trainee ids that are not on the roster."""
    if "trainee_id" not in ds.column_names or ds.name == "trainees":
        return 0, None
    unknown = con.execute(
        f"""SELECT count(*), count(DISTINCT trainee_id), min(trainee_id) FROM {good} g
            WHERE NOT EXISTS (SELECT 1 FROM trainees t WHERE t.trainee_id = g.trainee_id)"""
    ).fetchone()
    if not unknown or not unknown[0]:
        return 0, None
    n, people, example = int(unknown[0]), int(unknown[1]), unknown[2]
    return n, (
        f"{n} rows name {people} trainee id(s) not on the roster (e.g. {example}): imported and flagged; "
        "import the roster to give them a market and cohort."
    )


# ---- undo, history ----------------------------------------------------------------------------------

def undo(con: duckdb.DuckDBPyConnection, import_id: int, *, user: str | None = None) -> str:
    """Take an import back: its rows go, the rows it replaced return. Returns a sentence for people."""
    with _WRITE_LOCK:
        row = con.execute("SELECT dataset, status, source FROM imports WHERE import_id = ?", [import_id]).fetchone()
        if row is None:
            raise ImportError_(f"there is no import #{import_id}; `uplift imports` lists them")
        dataset, status, source = row
        if status != "active":
            raise ImportError_(f"import #{import_id} ({source}) was already undone")
        if dataset == LAKE_DATASET:
            return _undo_rollups(con, import_id, source, user)
        cols = ", ".join(column_types(dataset))
        with _transaction(con):
            removed = len(con.execute(f"DELETE FROM {dataset} WHERE import_id = ? RETURNING 1", [import_id]).fetchall())
            # A row this import replaced comes back, unless a later import has since taken its key: then it
            # waits behind that import, so undoing that one too brings it back.
            con.execute(
                f"""UPDATE {dataset}__replaced AS r SET replaced_by = h.import_id
                    FROM (SELECT {key_sql(dataset, 'x')} AS key, import_id FROM {dataset} x) h
                    WHERE r.replaced_by = ? AND {key_sql(dataset, 'r')} = h.key""",
                [import_id],
            )
            restored = len(con.execute(
                f"""INSERT INTO {dataset} ({cols}, import_id)
                    SELECT {cols}, import_id FROM {dataset}__replaced WHERE replaced_by = ? RETURNING 1""",
                [import_id],
            ).fetchall())
            con.execute(f"DELETE FROM {dataset}__replaced WHERE replaced_by = ? OR import_id = ?", [import_id, import_id])
            if dataset in AFFECTS_ROLLUP:
                rebuild_decision_daily(con)
            con.execute(
                "UPDATE imports SET status = 'undone', undone_at = ?, undone_by = ? WHERE import_id = ?",
                [dt.datetime.now(), user or _who(), import_id],
            )
            bump_data_version(con)
    return f"import #{import_id} ({source}) undone: {removed} rows removed, {restored} earlier rows restored."


def _undo_rollups(con: duckdb.DuckDBPyConnection, import_id: int, source: str, user: str | None) -> str:
    """A rollup folder's import (data_sources/rollup_import.py): its rows go; an earlier folder's come back."""
    with _transaction(con):
        was_live = live_manifest(con) == import_id
        removed = forget_lake_import(con, import_id)
        con.execute("UPDATE imports SET status = 'undone', undone_at = ?, undone_by = ? WHERE import_id = ?",
                    [dt.datetime.now(), user or _who(), import_id])
        bump_data_version(con)
        live = live_manifest(con)
    back = f"; the rollups of import #{live} are in use again" if was_live and live is not None else ""
    return f"import #{import_id} ({source}) undone: {removed} rollup rows removed{back}."


def history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The import log, newest first."""
    return con.execute(
        """SELECT import_id, imported_at, imported_by, dataset, source, tab, rows_read, rows_added,
                  rows_replaced, rows_unchanged, rows_duplicate, rows_rejected, rows_flagged, flag_note,
                  status, undone_at, undone_by
           FROM imports ORDER BY import_id DESC"""
    ).df()


def rejected(con: duckdb.DuckDBPyConnection, import_id: int) -> pd.DataFrame:
    """Rows an import kept aside, with their reasons."""
    return con.execute(
        "SELECT row_number AS row, reason, raw FROM rejected_rows WHERE import_id = ? ORDER BY row_number",
        [import_id],
    ).df()


def dataset_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rows per dataset and the dates they span, for the Home page; `rollups`: the decisions the rollup
    folder in use sums up."""
    parts = []
    for name in DATASETS:
        has_date = "date" in column_types(name)
        span = "min(date), max(date)" if has_date else "NULL::DATE, NULL::DATE"
        parts.append(f"SELECT '{name}' AS dataset, count(*) AS rows, {span} FROM {name}")
    parts.append(LAKE_COUNTS)
    frame = con.execute(" UNION ALL ".join(parts)).df()
    frame.columns = ["dataset", "rows", "first_date", "last_date"]
    return frame


# ---- the whole way, for the CLI and tests -----------------------------------------------------------

def import_path(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    display_name: str | None = None,
    dataset: str | None = None,
    date_order: V.DateOrder | None = None,
    keep_going: bool = False,
    user: str | None = None,
    strict_dates: bool = False,
) -> list[ImportResult]:
    """Import one file (each sheet of a workbook). Never raises for bad input: failures are results."""
    name = display_name or path.name
    try:
        raws = read_path(con, path, display_name=name)
    except NotATable as exc:
        return [ImportResult(name, None, None, "failed", str(exc))]
    return [import_raw(con, raw, dataset=dataset, date_order=date_order, keep_going=keep_going, user=user,
                       strict_dates=strict_dates) for raw in raws]


def import_raw(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    *,
    dataset: str | None = None,
    date_order: V.DateOrder | None = None,
    keep_going: bool = False,
    user: str | None = None,
    strict_dates: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    validated: Validated | None = None
    try:
        plan = plan_import(con, raw, dataset=dataset, date_order=date_order)
        if strict_dates and plan.date_order_ambiguous:
            return ImportResult(raw.source, raw.tab, plan.dataset, "failed",
                                f"{raw.label}: dates like 04/03/2026 could be day-first or month-first; "
                                "say which with --date-order dmy or --date-order mdy")
        validated = validate(con, plan)
        if validated.rejected == 0:
            # Only rejected rows read the staged text again: free it before the insert, which at millions of
            # rows otherwise runs into DuckDB's memory cap beside it and spills to disk.
            drop(con, raw)
        return commit(con, validated, keep_going=keep_going, user=user, progress=progress)
    except ImportError_ as exc:
        return ImportResult(raw.source, raw.tab, dataset, "failed", str(exc))
    finally:
        if validated is not None:
            discard(con, validated)
        else:
            drop(con, raw)


def describe_plan(plan: Plan) -> str:
    """One line: which header became which column."""
    pairs = [f"{plan.raw.headers[i]!r} -> {c}" for c, i in sorted(plan.mapping.items(), key=lambda kv: kv[1])]
    return ", ".join(pairs)


_SAFE_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
assert all(_SAFE_IDENT.match(n) for n in DATASETS), "dataset names are used as SQL identifiers"
