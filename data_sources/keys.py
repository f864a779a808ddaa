"""Natural keys and row contents as 64-bit hashes over typed columns: how an import finds the rows it
repeats or replaces, in the file and in the store."""

from __future__ import annotations

import re

import duckdb

from data_sources.contract import DATASETS
from data_sources.schema import column_types

LABELLED = ("policy", "market")  # shown as first spelled, matched case-insensitively


def key_sql(dataset: str, alias: str = "x") -> str:
    """The natural key as a 64-bit hash over typed columns (policy/market case-folded)."""
    ds = DATASETS[dataset]
    if dataset == "decisions":
        return f"CASE WHEN {alias}.decision_id IS NOT NULL THEN hash('id', {alias}.decision_id) ELSE {content_sql(dataset, alias)} END"
    return "hash(" + ", ".join(hashable_sql(c, alias) for c in ds.key) + ")"


def content_sql(dataset: str, alias: str = "x") -> str:
    """A 64-bit hash of a row's whole content (re-importing the same row changes nothing)."""
    return "hash(" + ", ".join(hashable_sql(c, alias) for c in column_types(dataset)) + ")"


def hashable_sql(column: str, alias: str) -> str:
    if column in LABELLED:
        return f"lower({alias}.{column})"
    if column == "source":
        return f"CAST({alias}.source AS VARCHAR)"
    return f"{alias}.{column}"


# The stored keys (`row_key`, schema migration 12) are DuckDB hashes: were an upgrade of DuckDB to hash
# differently, every stored key would stop meeting the incoming ones and replaced rows would come in twice.
# The hash of this probe is kept beside them, and a store whose probe no longer hashes the same is re-keyed.
_PROBE = "uplift row key"


def fill_row_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Key every dataset row (all of them) and keep the probe's hash with them."""
    for dataset in DATASETS:
        con.execute(f"UPDATE {dataset} SET row_key = {key_sql(dataset, dataset)}")
    con.execute("DELETE FROM row_key_hash")
    con.execute("INSERT INTO row_key_hash SELECT hash(?)", [_PROBE])


def ensure_row_keys(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """Make every stored row's `row_key` right before an import matches by it: a store kept by a DuckDB that
    hashed differently is re-keyed, and rows inserted without a key (by hand) get theirs."""
    same = con.execute("SELECT probe = hash(?) FROM row_key_hash", [_PROBE]).fetchone()
    if same != (True,):
        fill_row_keys(con)
    else:
        con.execute(f"UPDATE {dataset} SET row_key = {key_sql(dataset, dataset)} WHERE row_key IS NULL")


_SAFE_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
assert all(_SAFE_IDENT.match(n) for n in DATASETS), "dataset names are used as SQL identifiers"
