"""`uplift rollup`: raw decisions kept in a lakehouse (Parquet, or CSV with the contract's column names)
and the roster, to the rollups the pages read, as a folder of month-partitioned Parquet with a
`_manifest.json` (data_sources/manifest.py), on DuckDB or Spark (data_sources/engines.py).

The rollups are the store's own definitions (data_sources/rollups.py), run over views of the same names:
`decisions` (typed, rows that cannot be used set aside with a reason, one row per decision id),
`decision_counts` (empty here), `trainees` (the roster, one row per trainee id) and, for tenure and totals,
`decision_daily` read back from what was written. Everything here is SQL in the common subset of DuckDB
and Spark SQL, so both engines give the same rows (tests/data_sources/test_rollup_engines.py).

Rules for raw rows (the store's import has its own, richer ones for messy exports):
- cells are trimmed of spaces; an empty cell is missing; a decision without a market or project takes
  its trainee's; `source` missing means qa_audit; `correct` missing is given_label = expected_label
  (compared without ASCII case);
- a row without trainee_id, policy, a readable date or a readable correct, or with a source that is
  neither qa_audit nor golden_set (in the words the store's import knows), is rejected, counted by
  reason in the manifest and written to `_rejected/`;
- the same decision_id twice counts once: the latest date wins, then the smallest values column by
  column (a fixed order, so both engines keep the same row); rows without a decision_id count once per
  distinct content, as the store's import does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from data_sources import manifest as M
from data_sources.contract import SOURCE_WORDS
from data_sources.engines import Columns, DuckDBEngine, Engine, EngineError, FileFormat, SparkEngine
from data_sources.rollups import CONFUSIONS, DAILY, ROLLUPS, TENURE, TOTALS, Rollup


class RollupError(Exception):
    """A rollup run that cannot go ahead; the message says what, where and what to do."""


@dataclass(frozen=True)
class JobSpec:
    input: str  # a Parquet/CSV file, a folder of them, or a glob; s3:// and the like with Spark only
    roster: str  # the trainees: a Parquet or CSV file, folder or glob
    output: Path
    since: dt.date | None = None  # recompute only the months from this date's month on


# The decisions contract's columns, in its order: text unless named here.
DECISION_COLUMNS = ("decision_id", "trainee_id", "date", "policy", "correct", "source", "item_id", "given_label",
                    "expected_label", "reviewer_id", "error_type", "market", "project")
ROSTER_COLUMNS = ("trainee_id", "market", "project", "cohort", "start_date")
_USABLE = ", ".join(DECISION_COLUMNS)
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _literal(text: str) -> str:
    """A SQL string literal for this module's own constants (never a value from the data)."""
    return "'" + text.replace("'", "''") + "'"


def _fold(expr: str) -> str:
    """ASCII lower case: DuckDB's and Spark's lower() disagree on a few Unicode letters (İ)."""
    return f"translate({expr}, '{_UPPER}', '{_UPPER.lower()}')"


def _text(column: str, present: set[str]) -> str:
    """A text cell trimmed of spaces, missing when empty (or when the file has no such column). Only
    ' ' is trimmed: DuckDB's trim() also removes Unicode spaces, Spark's does not."""
    if column not in present:
        return "CAST(NULL AS STRING)"
    trimmed = f"TRIM(BOTH ' ' FROM CAST({column} AS STRING))"
    return f"CASE WHEN {trimmed} = '' THEN NULL ELSE {trimmed} END"


def _source_sql(raw: str) -> str:
    """qa_audit or golden_set from the words the store's import knows; NULL when it is something else.
    The usual spellings first: DuckDB's translate() costs 4 s a million rows, and a CASE computes a branch
    only for the rows that reach it. Equalities, not IN (...), which DuckDB plans as a join on every row."""
    folded = _fold(raw)
    arms = " ".join(
        f"WHEN {' OR '.join(f'{folded} = {_literal(w)}' for w in words)} THEN {_literal(value)}"
        for value, words in SOURCE_WORDS.items()
    )
    return f"CASE WHEN {raw} IS NULL THEN 'qa_audit' WHEN {raw} = 'qa_audit' OR {raw} = 'golden_set' THEN {raw} {arms} END"


def _typed(column: str, kind: str, columns: Columns) -> tuple[str, str]:
    """(the cell as read, its typed value) for a date or boolean column: columns the files already type
    are used as they are; text is trimmed and cast (TRY_CAST: an unreadable cell gives NULL, and a reason)."""
    present = {c.lower(): k for c, k in columns.items()}
    if column not in present:
        return "CAST(NULL AS STRING)", f"CAST(NULL AS {kind})"
    if present[column] == kind.lower() or (kind == "DATE" and present[column] == "timestamp"):
        # A timestamp falls on its day in the session's time zone, UTC in both engines.
        return f"CAST({column} AS STRING)", f"CAST({column} AS {kind})"
    return _text(column, set(present)), f"TRY_CAST({_text(column, set(present))} AS {kind})"


def typed_decisions_sql(columns: Columns, raw: str = "raw_decisions") -> str:
    """Raw decisions with the contract's types, the cells as read (`raw_date`, `raw_correct`,
    `raw_source`) and a `problem` (NULL for a usable row), over the view `raw`."""
    present = {c.lower() for c in columns}
    texts = [c for c in DECISION_COLUMNS if c not in ("date", "correct", "source")]
    cells = [f"{_text(c, present)} AS {c}" for c in texts]
    raw_date, date = _typed("date", "DATE", columns)
    raw_correct, stated = _typed("correct", "BOOLEAN", columns)
    cells += [f"{raw_date} AS raw_date", f"{date} AS date", f"{raw_correct} AS raw_correct", f"{stated} AS stated",
              f"{_text('source', present)} AS raw_source"]
    # Stated, else from the labels: equal as they are (the usual case), or equal without ASCII case.
    correct = (f"CASE WHEN c.stated IS NOT NULL THEN c.stated "
               f"WHEN c.given_label IS NULL OR c.expected_label IS NULL THEN NULL "
               f"WHEN c.given_label = c.expected_label THEN TRUE "
               f"ELSE {_fold('c.given_label')} = {_fold('c.expected_label')} END")
    problem = """CASE
        WHEN c.trainee_id IS NULL THEN 'trainee_id is empty'
        WHEN c.raw_date IS NULL AND c.date IS NULL THEN 'date is empty'
        WHEN c.date IS NULL THEN 'date is not a date'
        WHEN c.policy IS NULL THEN 'policy is empty'
        WHEN c.raw_correct IS NOT NULL AND c.stated IS NULL THEN 'correct is not true or false'
        WHEN c.correct IS NULL THEN 'correct is empty and given_label/expected_label are not both there'
        WHEN c.source IS NULL THEN 'source is neither qa_audit nor golden_set'
    END"""
    return f"""
        SELECT {_USABLE}, c.raw_date, c.raw_correct, c.raw_source, {problem} AS problem
        FROM (
            SELECT c.*, {correct} AS correct, {_source_sql('c.raw_source')} AS source
            FROM (SELECT {", ".join(cells)} FROM {raw}) c
        ) c"""


def _since(since: dt.date | None) -> str:
    """Rows of the months a run recomputes (from the first day of since's month); rows without a readable
    date belong to no month and are reported by every run. `since` is a date Python parsed, never text."""
    return f"(date IS NULL OR date >= DATE '{since.replace(day=1).isoformat()}')" if since else "TRUE"


def kept_decisions_sql(since: dt.date | None) -> str:
    """The typed rows of the months this run computes, without the cells as read (computed once)."""
    return f"SELECT {_USABLE}, problem FROM typed_raw WHERE {_since(since)}"


# Decision ids on more than one usable row: usually none, or a few re-exports (a small table).
DUPLICATED_IDS = """
    SELECT decision_id FROM typed_decisions WHERE problem IS NULL AND decision_id IS NOT NULL
    GROUP BY decision_id HAVING count(*) > 1"""


def deduplicated_sql() -> str:
    """One row per decision: ids seen once as they are; ids seen more than once, the latest date and then
    the smallest values column by column (a window, but only over those few rows: sorting every row by a
    dozen keys was the slowest step of the whole job); rows without an id, once per distinct content."""
    others = [c for c in DECISION_COLUMNS if c not in ("decision_id", "date")]
    order = ", ".join(["date DESC NULLS LAST", *(f"{c} ASC NULLS FIRST" for c in others)])
    seen_twice = "EXISTS (SELECT 1 FROM duplicated_ids x WHERE x.decision_id = t.decision_id)"
    return f"""
        SELECT {_USABLE} FROM typed_decisions t
        WHERE problem IS NULL AND decision_id IS NOT NULL AND NOT {seen_twice}
        UNION ALL
        SELECT {_USABLE} FROM (
            SELECT t.*, row_number() OVER (PARTITION BY decision_id ORDER BY {order}) AS copy
            FROM typed_decisions t WHERE problem IS NULL AND {seen_twice}) r
        WHERE copy = 1
        UNION ALL
        SELECT DISTINCT {_USABLE} FROM typed_decisions WHERE problem IS NULL AND decision_id IS NULL"""


def rejected_sql(since: dt.date | None) -> str:
    """The rows that cannot be used, with their cells as read and the reason."""
    texts = ", ".join(c for c in DECISION_COLUMNS if c not in ("date", "correct", "source"))
    return f"""SELECT {texts}, raw_date AS date, raw_correct AS correct, raw_source AS source, problem AS reason
               FROM typed_raw WHERE problem IS NOT NULL AND {_since(since)}"""


def roster_sql(columns: Columns, raw: str = "raw_roster") -> str:
    """The roster with the columns the rollups read, one row per trainee id (a fixed tie-break)."""
    present = {c.lower() for c in columns}
    _raw, start = _typed("start_date", "DATE", columns)
    cells = ", ".join([*(f"{_text(c, present)} AS {c}" for c in ("trainee_id", "market", "project", "cohort")),
                       f"{start} AS start_date"])
    order = "start_date DESC NULLS LAST, market ASC NULLS FIRST, project ASC NULLS FIRST, cohort ASC NULLS FIRST"
    return f"""
        SELECT trainee_id, market, project,
               coalesce(cohort, substr(CAST(start_date AS STRING), 1, 7)) AS cohort, start_date
        FROM (SELECT r.*, row_number() OVER (PARTITION BY trainee_id ORDER BY {order}) AS copy
              FROM (SELECT {cells} FROM {raw}) r WHERE trainee_id IS NOT NULL) r
        WHERE copy = 1"""


NO_COUNTS = "SELECT trainee_id, date, policy, source, 0 AS reviewed, 0 AS correct FROM decisions WHERE 1 = 0"


def _with_month(rollup: Rollup) -> str:
    return f"SELECT r.*, substr(CAST(r.date AS STRING), 1, 7) AS month FROM ({rollup.sql()}) r"


# ---- files ----------------------------------------------------------------------------------------------

_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class Inputs:
    paths: list[str]  # what the engine reads
    source: M.Source  # what the manifest records


def resolve(pattern: str, what: str) -> Inputs:
    """The files a pattern names, their format and fingerprint; RollupError when there are none."""
    if M.is_remote(pattern):
        # Only the engine can list a bucket: the fingerprint covers the pattern alone.
        fmt = "csv" if pattern.lower().endswith(".csv") else "parquet"
        return Inputs([pattern], M.fingerprint(pattern, fmt, []))
    # Absolute, so that the app can find the raw rows again for a drill-down (data_sources/raw_decisions.py).
    pattern = str(Path(pattern.removeprefix("file://")).expanduser().absolute())
    files = M.local_files(pattern, tuple(_SUFFIXES))
    formats = {_SUFFIXES.get(f.suffix.lower()) for f in files}
    if not files:
        raise RollupError(f"{what}: no files match {pattern!r}; give a Parquet or CSV file, a folder of them, or "
                          "a glob such as 'lake/decisions/*.parquet'")
    if None in formats or len(formats) > 1:
        kinds = ", ".join(sorted({f.suffix or "(no suffix)" for f in files}))
        raise RollupError(f"{what}: {pattern!r} holds {kinds} files; give only .parquet or only .csv files")
    fmt = _SUFFIXES[files[0].suffix.lower()]
    return Inputs([str(f) for f in files], M.fingerprint(pattern, fmt, files))


def _format(inputs: Inputs) -> FileFormat:
    return "csv" if inputs.source.format == "csv" else "parquet"


def _check_columns(columns: Columns, what: str, pattern: str) -> None:
    present = {c.lower() for c in columns}
    needed = ["trainee_id", "date", "policy"] if what == "decisions" else ["trainee_id"]
    missing = [c for c in needed if c not in present]
    if what == "decisions" and "correct" not in present and not {"given_label", "expected_label"} <= present:
        missing.append("correct (or given_label and expected_label)")
    if missing:
        raise RollupError(f"{what} in {pattern!r} lack column {', '.join(missing)}; the files need the "
                          f"contract's column names (docs/data.md), found: {', '.join(list(columns)[:20])}")


def _month_dirs(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.name.removeprefix("month="): p for p in folder.iterdir() if p.is_dir() and p.name.startswith("month=")}


def _swap_in(staged: Path, target: Path, *, by_month: bool, first_month: str | None) -> None:
    """Put a rollup's newly written files in place: every month from `first_month` on (all, when None) is
    replaced by the new run's, earlier months stay; files without months are replaced whole."""
    if not by_month or first_month is None:
        shutil.rmtree(target, ignore_errors=True)
        if staged.exists():
            staged.rename(target)
        return
    target.mkdir(parents=True, exist_ok=True)
    for month, path in _month_dirs(target).items():
        if month >= first_month:
            shutil.rmtree(path)
    for path in _month_dirs(staged).values():
        path.rename(target / path.name)


@contextmanager
def _staging(output: Path) -> Iterator[Path]:
    """A scratch folder inside the output (so files move in by rename, on one file system)."""
    staging = output / "_staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ---- the run --------------------------------------------------------------------------------------------

def open_engine(name: str, master: str = "local[2]", *, memory_limit: str = "4GB",
                spark_conf: dict[str, str] | None = None) -> Engine:
    """`duckdb` or `spark` (master: local[N], spark://..., yarn, or sc://host:15002 for Spark Connect)."""
    if name == "duckdb":
        return DuckDBEngine(memory_limit=memory_limit)
    if name == "spark":
        return SparkEngine(master, conf=spark_conf)
    raise RollupError(f"engine {name!r} is not one of duckdb, spark")


def _register(engine: Engine, spec: JobSpec, decisions: Inputs, roster: Inputs) -> None:
    """The views the rollups' definitions read: decisions, decision_counts, trainees."""
    try:
        columns = engine.read("raw_decisions", decisions.paths, _format(decisions))
        roster_columns = engine.read("raw_roster", roster.paths, _format(roster))
    except EngineError as exc:
        raise RollupError(f"{spec.input!r} or {spec.roster!r}: {exc}") from exc
    _check_columns(columns, "decisions", spec.input)
    _check_columns(roster_columns, "roster", spec.roster)
    engine.view("trainees", roster_sql(roster_columns))
    engine.view("typed_raw", typed_decisions_sql(columns))
    engine.view("typed_decisions", kept_decisions_sql(spec.since), materialise=True)
    engine.view("duplicated_ids", DUPLICATED_IDS, materialise=True)
    engine.view("decisions", deduplicated_sql())
    engine.view("decision_counts", NO_COUNTS)


def _account(engine: Engine) -> M.Accounting:
    """How many rows were read, used, duplicates and rejected (by reason)."""
    counts = {p: int(n) for p, n in engine.fetch("SELECT problem, count(*) FROM typed_decisions GROUP BY problem")}
    used = int(engine.fetch("SELECT count(*) FROM decisions")[0][0])
    rejected = {str(p): n for p, n in sorted(counts.items(), key=lambda kv: str(kv[0])) if p is not None}
    usable = counts.get(None, 0)
    return M.Accounting(usable + sum(rejected.values()), used, usable - used, rejected)


def _roster_source(engine: Engine, roster: Inputs) -> M.Source:
    """The roster's fingerprint is its content as the rollups read it (a few thousand rows): a roster
    exported again unchanged is the same roster, whichever engine reads it."""
    digest = hashlib.sha256()
    for row in sorted(engine.fetch("SELECT trainee_id, market, project, cohort, CAST(start_date AS STRING) FROM trainees"),
                      key=lambda r: tuple("" if v is None else str(v) for v in r)):
        digest.update(json.dumps(list(row), ensure_ascii=False).encode("utf-8"))
    return replace(roster.source, fingerprint=digest.hexdigest())


def _previous(spec: JobSpec, roster: M.Source) -> M.Manifest | None:
    """The earlier run a --since run builds on; RollupError when there is none or its roster differs."""
    if spec.since is None:
        return None
    try:
        previous, _hash = M.read(spec.output)
    except M.ManifestError as exc:
        raise RollupError(f"--since keeps the earlier months of a complete earlier run, and {spec.output} has "
                          f"none ({exc}): run without --since first") from exc
    if previous.roster.fingerprint != roster.fingerprint:
        raise RollupError(f"the roster changed since the run of {previous.created_at}; markets, projects, cohorts "
                          "and start dates shape every month's rollups, so run without --since")
    return previous


def _figures(engine: Engine, rollup: Rollup, output: Path) -> M.TableFigures:
    """Rows and sums of a rollup as written (and per month): what `uplift import` checks the files against."""
    folder = output / rollup.name
    if not M.local_files(str(folder), (".parquet",)):
        return M.TableFigures(M.Figures(0, dict.fromkeys(rollup.measures, 0)))
    view = f"written_{rollup.name}"
    engine.read_output(view, folder, by_month=rollup.by_month)
    sums = ", ".join(f"CAST(coalesce(sum({m}), 0) AS BIGINT)" for m in rollup.measures)
    month = "month" if rollup.by_month else "'all'"
    parts = {
        str(key): M.Figures(int(rows), {m: int(v) for m, v in zip(rollup.measures, values, strict=True)})
        for key, rows, *values in engine.fetch(f"SELECT {month}, count(*), {sums} FROM {view} GROUP BY 1")
    }
    total = M.Figures(sum(f.rows for f in parts.values()),
                      {m: sum(f.sums[m] for f in parts.values()) for m in rollup.measures})
    return M.TableFigures(total, dict(sorted(parts.items())) if rollup.by_month else {})


def _write_rollups(engine: Engine, spec: JobSpec, accounting: M.Accounting) -> None:
    """Write each rollup to a scratch folder, then move it in place (months from --since on, or all)."""
    first = spec.since.strftime("%Y-%m") if spec.since else None
    with _staging(spec.output) as staging:
        for rollup in (DAILY, CONFUSIONS):
            engine.write(_with_month(rollup), staging / rollup.name, by_month=True)
            _swap_in(staging / rollup.name, spec.output / rollup.name, by_month=True, first_month=first)
        # Tenure weeks and all-dates totals span months: recomputed from every month's daily rows.
        engine.read_output("decision_daily", spec.output / DAILY.name, by_month=True)
        for rollup in (TENURE, TOTALS):
            engine.write(rollup.sql(), staging / rollup.name, by_month=False)
            _swap_in(staging / rollup.name, spec.output / rollup.name, by_month=False, first_month=None)
        if accounting.rejected:
            engine.write(rejected_sql(spec.since), staging / "_rejected", by_month=False)
        _swap_in(staging / "_rejected", spec.output / "_rejected", by_month=False, first_month=None)


def run(spec: JobSpec, engine: Engine) -> M.Manifest:
    """Roll the raw decisions up into `spec.output` and write its manifest; RollupError for bad input."""
    decisions, roster = resolve(spec.input, "decisions"), resolve(spec.roster, "roster")
    inside = [p for p in decisions.paths if Path(p).resolve().is_relative_to(spec.output.resolve())]
    if inside:
        raise RollupError(f"{spec.input!r} takes in files of the output folder {spec.output} (e.g. {inside[0]}); "
                          "write the rollups somewhere the input pattern does not reach")
    _register(engine, spec, decisions, roster)
    roster_source = _roster_source(engine, roster)
    previous = _previous(spec, roster_source)
    accounting = _account(engine)
    if accounting.used == 0 and previous is None:
        reasons = "; ".join(f"{n} {why}" for why, n in accounting.rejected.items()) or "the files hold no rows"
        raise RollupError(f"no usable decisions in {spec.input!r} ({accounting.read} rows read: {reasons}); "
                          "nothing was written")
    spec.output.mkdir(parents=True, exist_ok=True)
    # A folder without its manifest is incomplete: `uplift import` refuses it until this run finishes.
    (spec.output / M.MANIFEST_NAME).unlink(missing_ok=True)
    _write_rollups(engine, spec, accounting)
    manifest = M.Manifest(
        schema_version=M.SCHEMA_VERSION, engine=engine.name, engine_version=engine.version,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        input=decisions.source, roster=roster_source, since=spec.since.isoformat() if spec.since else None,
        decisions=accounting, tables={r.name: _figures(engine, r, spec.output) for r in ROLLUPS},
    )
    M.write(spec.output, manifest)
    return manifest


def summary(manifest: M.Manifest, output: Path, seconds: float) -> str:
    """A few lines for people: what was read, what was written, and the command that loads it."""
    d = manifest.decisions
    rejected = sum(d.rejected.values())
    lines = [
        f"{manifest.engine} {manifest.engine_version}: {d.read:,} decisions read, {d.used:,} used, "
        f"{d.duplicates:,} duplicates counted once, {rejected:,} rejected"
        + (f" (see {output / '_rejected'})" if rejected else "") + f", in {seconds:.1f} s.",
        f"{manifest.reviewed:,} reviewed and {manifest.correct:,} correct over {len(manifest.months)} months "
        f"({manifest.months[0]} to {manifest.months[-1]})" if manifest.months else "no months written",
        *(f"  {reason}: {n:,} rows" for reason, n in d.rejected.items()),
        f"Written to {output}; load it with: uplift import {output}",
    ]
    return "\n".join(lines)
