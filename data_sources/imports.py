"""Imports the whole way: read a file, plan, validate, write. For the command line, the sample data, Google
Sheets and tests.

The steps, each a module of its own, which the Data page drives one at a time to preview:
  plan.plan_import()   which dataset, which header maps to which column, which date order
  validate.validate()  typed values, the rows that cannot be used and why, duplicates inside the file
  write.commit()       one transaction: replace by natural key, keep replaced rows for undo, rollups, log
then undo.undo(), and log.history() / log.rejected(). The names below are the steps' public names, so a
caller that drives them needs only this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import TypedDict, Unpack

import duckdb

from data_sources import values as V
from data_sources.label_order import outside_order
from data_sources.log import dataset_counts, history, rejected
from data_sources.plan import (
    APP_REMEDIES,
    ImportRefused,
    Plan,
    Remedies,
    mapping_named,
    plan_import,
    save_mapping,
)
from data_sources.readers import NotATable, RawTable, drop, read_path
from data_sources.undo import undo
from data_sources.validate import (
    Validated,
    discard,
    distinct_values,
    rejected_preview,
    typed_preview,
    validate,
)
from data_sources.write import ImportResult, Progress, commit

__all__ = [
    "ImportOptions", "ImportRefused", "ImportResult", "Plan", "Remedies", "Validated", "commit", "dataset_counts",
    "describe_plan", "discard", "distinct_values",
    "history", "import_path", "import_raw", "plan_import", "rejected", "rejected_preview", "save_mapping",
    "typed_preview", "undo", "validate",
]


class ImportOptions(TypedDict, total=False):
    """What the caller settles for a whole import (all optional)."""

    dataset: str | None  # skip recognition: the file holds this dataset
    date_order: V.DateOrder | None  # for dates like 04/03/2026
    keep_going: bool  # import the good rows, keep the bad ones with reasons
    user: str | None  # who to record (default: the login name)
    strict_dates: bool  # refuse dates that could be day-first or month-first
    progress: Progress | None
    renames: dict[str, str] | None  # header -> column (`--map annotator=rater_id`); other headers recognised
    mapping_name: str | None  # a mapping saved on the Data page, by its name (`--mapping NAME`)
    label_order: Sequence[str] | None  # calibration labels, lowest first: every label must be in it
    remedies: Remedies  # how the caller's interface names the way out of a refusal


def import_path(
    con: duckdb.DuckDBPyConnection, path: Path, *, display_name: str | None = None, **options: Unpack[ImportOptions]
) -> list[ImportResult]:
    """Import one file (each sheet of a workbook). Never raises for bad input: failures are results."""
    name = display_name or path.name
    try:
        raws = read_path(con, path, display_name=name)
    except NotATable as exc:
        return [ImportResult(name, None, None, "failed", str(exc))]
    return [import_raw(con, raw, **options) for raw in raws]


def import_raw(con: duckdb.DuckDBPyConnection, raw: RawTable, **options: Unpack[ImportOptions]) -> ImportResult:
    """Plan, validate and write one staged table; the staging is dropped whatever happens."""
    validated: Validated | None = None
    dataset, order = options.get("dataset"), options.get("label_order")
    remedies = options.get("remedies") or APP_REMEDIES
    try:
        name = options.get("mapping_name")
        plan = plan_import(con, raw, dataset=dataset, date_order=options.get("date_order"),
                           renames=options.get("renames"), named=mapping_named(con, name) if name else None,
                           label_order=order)
        problem = plan.blocking_problem()
        if problem:
            return ImportResult(raw.source, raw.tab, plan.dataset, "failed", problem, placement=plan.placement())
        if options.get("strict_dates") and plan.date_order_ambiguous:
            return ImportResult(raw.source, raw.tab, plan.dataset, "failed",
                                f"{raw.label}: dates like 04/03/2026 could be day-first or month-first; "
                                f"{remedies.date_order}")
        validated = validate(con, plan)
        outside = _labels_outside(con, validated, order)
        if outside:
            return ImportResult(raw.source, raw.tab, plan.dataset, "failed",
                                f"{raw.label}: the labels {', '.join(outside[:8])} are not in the order given "
                                f"({', '.join(order or ())}); {remedies.label_order}. Nothing was imported.")
        if validated.rejected == 0:
            # Only rejected rows read the staged text again: free it before the insert, which at millions of
            # rows otherwise runs into DuckDB's memory cap beside it and spills to disk.
            drop(con, raw)
        return commit(con, validated, keep_going=options.get("keep_going", False), user=options.get("user"),
                      progress=options.get("progress"), remedies=remedies)
    except ImportRefused as exc:
        return ImportResult(raw.source, raw.tab, dataset, "failed", str(exc))
    finally:
        # Cleaning up must not hide why the import failed (a database stopped by a full disk refuses this
        # too, and goes with its process).
        with suppress(duckdb.Error):
            if validated is not None:
                discard(con, validated)
            else:
                drop(con, raw)


def _labels_outside(con: duckdb.DuckDBPyConnection, v: Validated, order: Sequence[str] | None) -> list[str]:
    """Calibration labels of the file that the order given does not name (none without an order)."""
    if order is None or v.plan.dataset != "calibration":
        return []
    return outside_order(distinct_values(con, v, "label"), order)


def describe_plan(plan: Plan) -> str:
    """One line: which header became which column."""
    pairs = [f"{plan.raw.headers[i]!r} -> {c}" for c, i in sorted(plan.mapping.items(), key=lambda kv: kv[1])]
    return ", ".join(pairs)

