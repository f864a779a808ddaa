"""Natural keys and row contents as 64-bit hashes over typed columns: how an import finds the rows it
repeats or replaces, in the file and in the store."""

from __future__ import annotations

import re

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


_SAFE_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
assert all(_SAFE_IDENT.match(n) for n in DATASETS), "dataset names are used as SQL identifiers"
