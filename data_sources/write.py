"""Writing a validated import in one transaction: rows replaced by natural key (the replaced rows kept
for undo), display names, rejected rows with their reasons, rollups, and the import log's row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from access.roles import os_user
from data_sources.contract import Dataset
from data_sources.keys import LABELLED, content_sql, ensure_row_keys
from data_sources.plan import APP_REMEDIES, ImportRefused, Placement, Remedies
from data_sources.rollups import AFFECTS_ROLLUP, update_rollups
from data_sources.schema import column_types
from data_sources.store import WRITE_LOCK, WriteFailed, bump_data_version, scalar, transaction
from data_sources.validate import Validated, raw_json_sql, rejected_preview

Progress = Callable[[float, str], None]
# Who the bundled sample data is imported as: how the store tells generated people from real ones.
SAMPLE_USER = "sample data"


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
    skipped: int = 0  # rows skipped as missing (a rating not given)
    # For a file that cannot be placed as mapped: the closest dataset and the columns it still needs.
    placement: Placement | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def commit(
    con: duckdb.DuckDBPyConnection,
    v: Validated,
    *,
    keep_going: bool = False,
    user: str | None = None,
    progress: Progress | None = None,
    remedies: Remedies = APP_REMEDIES,
) -> ImportResult:
    """Write validated rows in one transaction. With rejected rows, nothing is written unless
    `keep_going`, which imports the good rows and keeps the bad ones with their reasons. `remedies` words
    the way out of a refusal for the caller's interface (a flag, a checkbox)."""
    raw, ds = v.plan.raw, v.plan.ds
    report = progress or (lambda _f, _m: None)
    base = ImportResult(raw.source, raw.tab, ds.name, "failed", "", rows_read=v.rows_read,
                        duplicates=v.duplicates, rejected=v.rejected, skipped=v.skipped)
    if v.rejected and not keep_going:
        first = rejected_preview(con, v, limit=3)
        examples = "; ".join(f"row {r.row}: {r.reason}" for r in first.itertuples())
        base.message = (
            f"{raw.label}: {v.rejected} of {v.rows_read} rows cannot be used ({examples}). Nothing was imported: "
            f"fix the file, or {remedies.keep_going}."
        )
        return base
    if v.good == 0:
        base.message = f"{raw.label}: no usable rows; nothing was imported."
        return base
    with WRITE_LOCK:
        same = _same_file_imported(con, v)
        if same:
            base.status, base.import_id, base.unchanged = "unchanged", same, v.good
            base.message = f"{raw.label}: already imported (import #{same}); nothing changed."
            return base
        try:
            with transaction(con):
                report(0.1, "matching rows against the store")
                result = _write(con, v, base, user or os_user(), report, remedies)
        except ImportRefused as exc:
            base.message = str(exc)
            return base
        except WriteFailed as exc:
            return ImportResult(raw.source, raw.tab, ds.name, "failed", f"{raw.label}: {exc}. Nothing was imported.",
                                rows_read=v.rows_read, duplicates=v.duplicates, rejected=v.rejected,
                                skipped=v.skipped)
        report(1.0, "done")
        return result


def _same_file_imported(con: duckdb.DuckDBPyConnection, v: Validated) -> int | None:
    """The active import of this very file as this dataset, if there is one."""
    row = con.execute(
        "SELECT import_id FROM imports WHERE content_hash = ? AND dataset = ? AND status = 'active' "
        "ORDER BY import_id DESC LIMIT 1",
        [v.plan.raw.content_hash, v.plan.ds.name],
    ).fetchone()
    return int(row[0]) if row else None


@dataclass(frozen=True)
class Written:
    """What one import did to the store."""

    import_id: int
    added: int
    replaced: int
    unchanged: int
    flagged: int
    flag_note: str | None


def _write(
    con: duckdb.DuckDBPyConnection, v: Validated, result: ImportResult, user: str, report: Progress,
    remedies: Remedies,
) -> ImportResult:
    """The import's steps inside its transaction; the caller commits."""
    ds = v.plan.ds
    import_id = scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
    good = f"{v.table}_good"
    con.execute(f"CREATE TEMP VIEW {good} AS SELECT * FROM {v.table} WHERE problem IS NULL AND dup_of IS NULL")
    _record_display_names(con, ds, good)
    matches = _match_store(con, ds, good, f"{v.table}_matches")
    _refuse_mixing_sample(con, v, good, matches, user == SAMPLE_USER, remedies)
    report(0.4, "replacing changed rows")
    replaced = _set_aside_replaced(con, ds, matches, import_id)
    report(0.6, "adding rows")
    unchanged = scalar(con, f"SELECT count(*) FROM {matches} WHERE same")
    _insert_rows(con, ds, good, matches, import_id, skip_unchanged=unchanged > 0)
    flagged, flag_note = _flags(con, ds, good)
    written = Written(import_id, v.good - unchanged - replaced, replaced, unchanged, flagged, flag_note)
    if written.added or written.replaced:
        _record_repeats(con, ds, matches, import_id)
    con.execute(f"DROP TABLE {matches}")
    con.execute(f"DROP VIEW {good}")
    if written.added == 0 and written.replaced == 0:
        # Every row is already in the store as it is: nothing to record or undo.
        result.status, result.unchanged = "unchanged", unchanged
        result.message = f"{v.plan.raw.label}: all {unchanged} rows are already in the store; nothing changed."
        return result
    _check_every_row_counted(v, written)
    _keep_rejected(con, v, import_id)
    if ds.name in AFFECTS_ROLLUP:
        report(0.8, "updating rollups")
        update_rollups(con, ds.name, import_id)
    _log_import(con, v, written, user)
    bump_data_version(con)
    return _imported(result, v, written)


def _check_every_row_counted(v: Validated, w: Written) -> None:
    """Rows in the file = imported + replaced + already there + duplicates skipped + rejected, or the import
    is refused (and its transaction rolled back): no row may go missing between the file and the store."""
    raw = v.plan.raw
    counted = w.added + w.replaced + w.unchanged + v.duplicates + v.rejected + v.skipped
    expected = raw.rows_in_file if raw.rows_in_file is not None else v.rows_read
    if counted != expected:
        raise ImportRefused(
            f"{raw.label}: {expected:,} rows in the file but {counted:,} were imported, replaced, already there, "
            "duplicates, rejected or skipped as missing; nothing was imported"
        )


def _refuse_mixing_sample(
    con: duckdb.DuckDBPyConnection, v: Validated, good: str, matches: str, sample: bool, remedies: Remedies
) -> None:
    """Generated and real people never share an id: an import whose keys meet rows the other side brought
    (the sample's, for a real import; real ones, for the sample), or whose trainee ids are on the other
    side's roster, is refused, so a real roster never silently replaces sample trainees or joins their
    decisions. Costs nothing unless both sides have active imports."""
    other = [int(i) for (i,) in con.execute(
        "SELECT import_id FROM imports WHERE status = 'active' AND (imported_by = ?) = ?", [SAMPLE_USER, not sample]
    ).fetchall()]
    if not other:
        return
    ds, marks = v.plan.ds, ", ".join("?" * len(other))
    shown = "concat_ws(' / ', " + ", ".join(f"CAST(g.{c} AS VARCHAR)" for c in ds.key) + ")"
    clash = con.execute(
        f"SELECT count(*), min({shown}) FROM {matches} m JOIN {good} g USING (rn) WHERE m.owner IN ({marks})", other
    ).fetchone()
    what = " and ".join(ds.key)
    if not (clash and clash[0]) and "trainee_id" in ds.column_names and ds.name != "trainees":
        clash = con.execute(
            f"""SELECT count(*), min(g.trainee_id) FROM {good} g WHERE g.trainee_id IN
                (SELECT trainee_id FROM trainees WHERE import_id IN ({marks}))""", other
        ).fetchone()
        what = "trainee_id"
    if not clash or not clash[0]:
        return
    n, example, label = int(clash[0]), clash[1], v.plan.raw.label
    if sample:
        raise ImportRefused(
            f"{label}: {n} rows of the sample data have the same {what} as your own data (e.g. {example}); the "
            "sample was not loaded beside it. Load it into a database of its own: `uplift --db demo.duckdb sample`"
        )
    raise ImportRefused(
        f"{label}: {n} rows have the same {what} as rows of the sample data (e.g. {example}), so real people would "
        f"be mixed with generated ones. Nothing was imported: {remedies.remove_sample}, then import again."
    )


def _record_display_names(con: duckdb.DuckDBPyConnection, ds: Dataset, good: str) -> None:
    """A policy or market keeps the spelling it was first seen with."""
    for label in LABELLED:
        if label in ds.column_names:
            # Each spelling's first row, then the first spelling of each label: lower() runs on the few
            # spellings, not on every row (10M rows: millions of calls).
            con.execute(
                f"""INSERT INTO labels
                    SELECT ?, lower(spelling), arg_min(spelling, first) FROM (
                        SELECT {label} AS spelling, min(rn) AS first FROM {good}
                        WHERE {label} IS NOT NULL GROUP BY 1)
                    GROUP BY lower(spelling)
                    ON CONFLICT DO NOTHING""",
                [label],
            )


def _match_store(con: duckdb.DuckDBPyConnection, ds: Dataset, good: str, matches: str) -> str:
    """A table of the incoming rows whose key is already in the store: (rn, rid of the stored row, key, the
    stored row's import, same content?). Keys first (the stored rows' kept keys), contents only of the rows
    whose keys meet: when the incoming keys are new, no stored row is read beyond its key."""
    empty = f"CREATE TEMP TABLE {matches} (rn BIGINT, rid BIGINT, key UBIGINT, owner INTEGER, same BOOLEAN)"
    if not scalar(con, f"SELECT count(*) > 0 FROM {ds.name}"):
        con.execute(empty)
        return matches
    met = f"{matches}_met"
    ensure_row_keys(con, ds.name)
    con.execute(
        f"""CREATE TEMP TABLE {met} AS SELECT g.rn, e.rid, key FROM {good} g
            JOIN (SELECT rowid AS rid, row_key AS key FROM {ds.name}) e USING (key)"""
    )
    try:
        if not scalar(con, f"SELECT count(*) > 0 FROM {met}"):
            con.execute(empty)
            return matches
        con.execute(
            f"""CREATE TEMP TABLE {matches} AS
                SELECT met.rn, met.rid, met.key, x.import_id AS owner,
                       {content_sql(ds.name, 'g')} = {content_sql(ds.name, 'x')} AS same
                FROM {met} met JOIN {good} g USING (rn) JOIN {ds.name} x ON x.rowid = met.rid"""
        )
    finally:
        con.execute(f"DROP TABLE {met}")
    return matches


def _record_repeats(con: duckdb.DuckDBPyConnection, ds: Dataset, matches: str, import_id: int) -> None:
    """Rows this import delivered again unchanged are owned by it too, so undoing the import that first
    brought them leaves them in place (data_sources/undo.py)."""
    con.execute(
        f"INSERT INTO row_owners SELECT ?, key, owner, ? FROM {matches} WHERE same", [ds.name, import_id]
    )


def _set_aside_replaced(con: duckdb.DuckDBPyConnection, ds: Dataset, matches: str, import_id: int) -> int:
    """Stored rows whose key comes in with other values move to `<dataset>__replaced`, for undo."""
    cols = ", ".join(column_types(ds.name))
    con.execute(
        # Columns by name: a column added by a later migration sits after import_id and replaced_by.
        f"""INSERT INTO {ds.name}__replaced ({cols}, import_id, replaced_by) SELECT {cols}, import_id, ? FROM {ds.name}
            WHERE rowid IN (SELECT rid FROM {matches} WHERE NOT same)""",
        [import_id],
    )
    return len(con.execute(
        f"DELETE FROM {ds.name} WHERE rowid IN (SELECT rid FROM {matches} WHERE NOT same) RETURNING 1"
    ).fetchall())


def _insert_rows(
    con: duckdb.DuckDBPyConnection, ds: Dataset, good: str, matches: str, import_id: int, *, skip_unchanged: bool
) -> None:
    """The good rows go in with their display names, except those already stored as they are."""
    cols = list(column_types(ds.name))
    joins, select_cols = [], []
    for c in cols:
        if c in LABELLED and _respelled(con, good, c):
            joins.append(f"LEFT JOIN (SELECT key, display FROM labels WHERE kind = '{c}') l_{c} ON l_{c}.key = lower(g.{c})")
            select_cols.append(f"coalesce(l_{c}.display, g.{c})")
        else:
            select_cols.append(f"g.{c}")
    kept = f"ANTI JOIN (SELECT rn FROM {matches} WHERE same) m USING (rn)" if skip_unchanged else ""
    con.execute(
        f"""INSERT INTO {ds.name} ({", ".join(cols)}, import_id, row_key)
            SELECT {", ".join(select_cols)}, ?, g.key FROM {good} g {" ".join(joins)} {kept}""",
        [import_id],
    )


def _respelled(con: duckdb.DuckDBPyConnection, good: str, label: str) -> bool:
    """Whether some incoming spelling differs from the display name already in the store: usually not, and
    then the rows go in as they are, with no join over millions of rows."""
    return bool(scalar(
        con,
        f"""SELECT count(*) FROM (SELECT DISTINCT {label} AS spelling FROM {good}) g
            JOIN labels l ON l.kind = ? AND l.key = lower(g.spelling) WHERE l.display <> g.spelling""",
        [label],
    ))


def _keep_rejected(con: duckdb.DuckDBPyConnection, v: Validated, import_id: int) -> None:
    """Rejected rows are kept with their reasons, beside the import that skipped them."""
    raw = v.plan.raw
    for rn, raw_line, reason in raw.read_rejects:
        con.execute("INSERT INTO rejected_rows VALUES (?, ?, ?, ?)", [import_id, rn, raw_line, reason])
    if v.rejected > len(raw.read_rejects):  # some typed rows have problems (else the staging may be gone)
        con.execute(
            f"""INSERT INTO rejected_rows
                SELECT ?, t.rn, {raw_json_sql(v)}, t.problem
                FROM {v.table} t JOIN {raw.table} s ON s.rowid = t.srow WHERE t.problem IS NOT NULL""",
            [import_id, *raw.headers],
        )


def _log_import(con: duckdb.DuckDBPyConnection, v: Validated, w: Written, user: str) -> None:
    raw = v.plan.raw
    con.execute(
        """INSERT INTO imports (import_id, source, tab, dataset, content_hash, rows_read, rows_added,
               rows_replaced, rows_unchanged, rows_duplicate, rows_rejected, rows_flagged, flag_note,
               imported_at, imported_by, rows_skipped)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [w.import_id, raw.source, raw.tab, v.plan.ds.name, raw.content_hash, v.rows_read, w.added, w.replaced,
         w.unchanged, v.duplicates, v.rejected, w.flagged, w.flag_note, dt.datetime.now(), user, v.skipped],
    )


def _imported(result: ImportResult, v: Validated, w: Written) -> ImportResult:
    """The result of an import that wrote, with its sentence for people."""
    result.status, result.import_id = "imported", w.import_id
    result.added, result.replaced, result.unchanged, result.flagged = w.added, w.replaced, w.unchanged, w.flagged
    parts = [f"{w.added} added", f"{w.replaced} replaced"]
    if w.unchanged:
        parts.append(f"{w.unchanged} already there")
    if v.duplicates:
        parts.append(f"{v.duplicates} duplicate rows skipped")
    if v.rejected:
        parts.append(f"{v.rejected} rejected rows kept with reasons")
    if v.skipped:
        parts.append(f"{v.skipped} skipped as missing")
    result.message = (
        f"{v.plan.raw.label}: imported as {v.plan.ds.name} (import #{w.import_id}): " + ", ".join(parts) + "."
    )
    if v.missing:
        result.message += " " + "; ".join(v.missing_words()) + "."
    if w.flag_note:
        result.message += " " + w.flag_note
    return result


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


