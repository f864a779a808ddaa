"""Planning an import: which dataset a staged table holds, which header maps to which column, which date
order, and the mappings remembered for header rows seen before."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb

from data_sources import values as V
from data_sources.contract import DATASETS, Dataset, detect_dataset, match_columns, missing_required
from data_sources.readers import RawTable


class ImportRefused(Exception):
    """An import that cannot go ahead; the message says what and where, for people."""



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
