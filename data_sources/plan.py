"""Planning an import: which dataset a staged table holds, which header maps to which column, which date
order, and the mappings remembered for header rows seen before."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from data_sources import values as V
from data_sources.contract import (
    DATASETS,
    MISSING_VALUES,
    Dataset,
    detect_dataset,
    guess_headers,
    match_columns,
    missing_columns,
    missing_required,
    normalise_header,
)
from data_sources.label_order import saved_order
from data_sources.readers import RawTable


class ImportRefused(Exception):
    """An import that cannot go ahead; the message says what and where, for people."""


@dataclass(frozen=True)
class Remedies:
    """How the interface importing a file lets people act on a refusal: each names its flag or control."""

    keep_going: str = "choose to import the good rows and keep the bad ones with their reasons"
    date_order: str = "say whether they are day-first or month-first"
    label_order: str = "add them to the order"
    remove_sample: str = ("remove the sample data first (on the Data page, Remove the sample data; or "
                          "`uplift sample --remove`)")


APP_REMEDIES = Remedies()
CLI_REMEDIES = Remedies(
    keep_going="rerun with --keep-going to import the good rows and keep the bad ones with their reasons",
    date_order="say which with --date-order dmy or --date-order mdy",
    label_order="add them to --label-order",
    remove_sample="remove the sample data first with `uplift sample --remove`",
)


@dataclass(frozen=True)
class Placement:
    """Where a file that cannot be imported as mapped would go: the closest dataset, the columns it still
    needs, and for each the file's header that may hold it (None: no header left), for a message that
    shows the way (the command line prints the command that would import it)."""

    headers: list[str]
    dataset: str
    needs: dict[str, str | None]  # column -> a header guessed for it


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
    closest: str | None = None  # with no dataset: the one the headers come nearest to
    # Missing-value spellings kept as calibration labels, because the label order names them ("None").
    kept_as_labels: frozenset[str] = frozenset()

    @property
    def ds(self) -> Dataset:
        assert self.dataset is not None
        return DATASETS[self.dataset]

    def placement(self) -> Placement | None:
        """What the file still needs to be imported, or None when its dataset and columns are settled."""
        name = self.dataset or self.closest
        if name is None or (self.dataset is not None and not self.missing):
            return None
        ds = DATASETS[name]
        mapping = self.mapping if self.dataset else match_columns(ds, self.raw.headers)
        needs = guess_headers(ds, self.raw.headers, mapping, missing_columns(ds, set(mapping)))
        return Placement(list(self.raw.headers), name, needs)

    def blocking_problem(self) -> str | None:
        """Why this file cannot be imported as it is mapped, or None."""
        label = self.raw.label
        shown = ", ".join(self.raw.headers[:12]) + (" ..." if len(self.raw.headers) > 12 else "")
        place = self.placement()
        if self.dataset is None:
            closest = f"; the closest is {place.dataset}, for which {_missing(list(place.needs))}" if place else ""
            return (f"{label}: its columns ({shown}) match no Uplift dataset{closest}. Say which dataset it holds "
                    "and which column is which, or start from a template on the Data page")
        if self.missing:
            needs = list(place.needs) if place else self.missing
            return (f"{label}: for {self.dataset}, {_missing(needs)}: none of the file's columns ({shown}) is "
                    "known by that name; say which column is which")
        if self.raw.rows == 0 and not self.raw.read_rejects:
            return f"{label} has a header row but no data rows"
        return None


def _missing(columns: list[str]) -> str:
    """'required column policy is missing', 'required columns session_id and label are missing'."""
    if len(columns) == 1:
        return f"required column {columns[0]} is missing"
    return f"required columns {', '.join(columns[:-1])} and {columns[-1]} are missing"


def header_signature(headers: list[str]) -> str:
    return json.dumps([h.strip().casefold() for h in headers], ensure_ascii=False)


def renamed_headers(raw: RawTable, renames: dict[str, str], dataset: str | None) -> list[str]:
    """The file's headers with some renamed to contract columns (`--map annotator=rater_id`): header ->
    column, headers matched as the contract matches them (case, spaces and punctuation ignored). A header
    the file lacks, or a column no dataset (or not the chosen one) has, is refused, naming what there is."""
    wanted = {normalise_header(h): column for h, column in renames.items()}
    found = {normalise_header(h) for h in raw.headers}
    absent = [h for h in renames if normalise_header(h) not in found]
    if absent:
        raise ImportRefused(f"{raw.label} has no column {', '.join(map(repr, absent))}; its columns are "
                            f"{', '.join(raw.headers)} (--map HEADER=COLUMN names a header of the file)")
    columns = DATASETS[dataset].column_names if dataset else tuple({c for d in DATASETS.values() for c in d.column_names})
    unknown = sorted({c for c in renames.values() if c not in columns})
    if unknown:
        where = f"{dataset} has" if dataset else "the datasets have"
        raise ImportRefused(f"{', '.join(unknown)}: not a column Uplift knows; {where} "
                            f"{', '.join(sorted(columns))} (--map HEADER=COLUMN)")
    # The map wins over a header that already has the column's name: that one is left unmapped.
    targets = {normalise_header(c) for c in wanted.values()}
    return [
        wanted[normalise_header(h)] if normalise_header(h) in wanted
        else f"{h} (not mapped)" if normalise_header(h) in targets else h
        for h in raw.headers
    ]


def plan_import(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    *,
    dataset: str | None = None,
    mapping: dict[str, int] | None = None,
    date_order: V.DateOrder | None = None,
    renames: dict[str, str] | None = None,
    named: SavedMapping | None = None,
    label_order: Sequence[str] | None = None,
) -> Plan:
    """Decide dataset and mapping: the caller's choice (positions in `mapping`, or headers renamed to
    columns in `renames` and by the saved mapping `named`, the rest recognised), else a saved mapping for
    these headers, else recognition from the header names."""
    source = "chosen"
    if named is not None:
        dataset, renames = _with_named(raw, named, dataset, renames or {})
    headers = renamed_headers(raw, renames, dataset) if renames else raw.headers
    if mapping is None and not renames:
        saved = con.execute(
            "SELECT dataset, mapping FROM saved_mappings WHERE signature = ?", [header_signature(raw.headers)]
        ).fetchone()
        if saved and (dataset is None or dataset == saved[0]):
            dataset, mapping, source = saved[0], {k: int(v) for k, v in json.loads(saved[1]).items()}, "saved"
    closest = None
    if dataset is None:
        detection = detect_dataset(headers)
        dataset, closest = detection.dataset, detection.closest
        source = "chosen" if renames else "detected"
        mapping = detection.mapping if mapping is None else mapping
    elif mapping is None:
        mapping = match_columns(DATASETS[dataset], headers)
        source = "chosen" if renames else "detected"
    if dataset is None:
        return Plan(raw, None, {}, [], list(raw.headers), "dmy", False, False, False, source, closest)
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
        kept_as_labels=_kept_as_labels(con, dataset, label_order),
    )


def _with_named(
    raw: RawTable, named: SavedMapping, dataset: str | None, renames: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """A saved mapping applied to a file: its pairs for headers the file has (an explicit --map wins)."""
    if dataset is not None and dataset != named.dataset:
        raise ImportRefused(f"the saved mapping {named.name!r} is for {named.dataset}, not {dataset}: leave out "
                            "--dataset, or map the columns with --map HEADER=COLUMN")
    present = {normalise_header(h) for h in raw.headers}
    chosen = set(renames.values())
    saved = {h: c for h, c in named.renames.items() if normalise_header(h) in present and c not in chosen}
    return named.dataset, {**saved, **renames}


def _kept_as_labels(con: duckdb.DuckDBPyConnection, dataset: str, order: Sequence[str] | None) -> frozenset[str]:
    """Missing-value spellings that the calibration label order (given, else saved) names as labels."""
    if dataset != "calibration":
        return frozenset()
    levels = order if order is not None else (saved_order(con) or ())
    return frozenset(levels) & frozenset(MISSING_VALUES)


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


@dataclass(frozen=True)
class SavedMapping:
    """A mapping remembered for a header row: used by itself for files with those headers, and by name
    (`uplift import FILE --mapping NAME`) for any file whose headers include the ones it maps."""

    signature: str
    name: str | None
    dataset: str
    headers: list[str]  # the header row it was saved for (case-folded)
    renames: dict[str, str]  # header -> column
    saved_at: dt.datetime


def saved_mappings(con: duckdb.DuckDBPyConnection) -> list[SavedMapping]:
    """Every saved mapping, named ones first, newest first."""
    rows = con.execute(
        "SELECT signature, name, dataset, mapping, saved_at FROM saved_mappings "
        "ORDER BY name IS NULL, saved_at DESC, signature"
    ).fetchall()
    out = []
    for signature, name, dataset, mapping, saved_at in rows:
        headers = json.loads(signature)
        positions = {c: int(i) for c, i in json.loads(mapping).items()}
        renames = {headers[i]: c for c, i in sorted(positions.items(), key=lambda kv: kv[1]) if i < len(headers)}
        out.append(SavedMapping(signature, name, dataset, headers, renames, saved_at))
    return out


def mapping_named(con: duckdb.DuckDBPyConnection, name: str) -> SavedMapping:
    """The saved mapping called `name` (case ignored), or a refusal naming those there are."""
    every = saved_mappings(con)
    found = [m for m in every if m.name and m.name.casefold() == name.strip().casefold()]
    if found:
        return found[0]
    names = [m.name for m in every if m.name]
    there = f"saved mappings are called {', '.join(names)}" if names else "no saved mapping has a name yet"
    raise ImportRefused(f"there is no saved mapping called {name!r}: {there} (`uplift mappings` lists them; name one "
                   "on the Data page, or map columns with --map HEADER=COLUMN)")


def save_mapping(con: duckdb.DuckDBPyConnection, plan: Plan, name: str | None = None) -> None:
    """Remember this header row's dataset and mapping for the next file like it, under `name` if given
    (a mapping saved again keeps the name it had)."""
    signature = header_signature(plan.raw.headers)
    if name:
        name_mapping(con, signature, name, check_only=True)
    con.execute(
        """INSERT INTO saved_mappings (signature, dataset, mapping, saved_at, name) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (signature) DO UPDATE SET dataset = excluded.dataset, mapping = excluded.mapping,
               saved_at = excluded.saved_at, name = coalesce(excluded.name, saved_mappings.name)""",
        [signature, plan.dataset, json.dumps(plan.mapping), dt.datetime.now(), name.strip() if name else None],
    )


def name_mapping(con: duckdb.DuckDBPyConnection, signature: str, name: str, *, check_only: bool = False) -> None:
    """Give the saved mapping of a header row a name; names are unique (case ignored)."""
    clean = name.strip()
    if not clean:
        raise ImportRefused("a saved mapping's name cannot be blank")
    taken = con.execute(
        "SELECT count(*) FROM saved_mappings WHERE lower(name) = lower(?) AND signature <> ?", [clean, signature]
    ).fetchone()
    if taken and taken[0]:
        raise ImportRefused(f"another saved mapping is already called {clean!r}: pick another name")
    if not check_only:
        con.execute("UPDATE saved_mappings SET name = ? WHERE signature = ?", [clean, signature])
