"""The filter every measure takes: date range, markets, policies, cohorts, projects, source.

Pages build one from the shared sidebar; notebooks build one by hand: `Filters(markets=("TH",))`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

Source = Literal["qa_audit", "golden_set"]


@dataclass(frozen=True)
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    markets: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    cohorts: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    source: Source | None = None  # None: both quality and accuracy

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]


ALL = Filters()  # no filter: a frozen value, safe as a default

# A trainee's cohort over the roster aliased `t`: the hire class, else the month of the start date (the
# import fills it the same way; rows from before that rule, or edited stores, still read right).
COHORT_SQL = "coalesce(t.cohort, strftime(t.start_date, '%Y-%m'))"


# Item-level decisions with market and project resolved as in the rollup (a decision without one takes its
# trainee's) and the trainee's cohort, under one alias `r` for where(filters, alias="r", trainee_alias="r").
def resolved_decisions(relation: str = "decisions") -> str:
    """RESOLVED_DECISIONS over another relation with the decisions' columns (a rollup folder's typed raw
    files, metrics/raw_decisions.py). `relation` is a name from code, never from data."""
    assert relation.isidentifier(), "relations are fixed identifiers"
    return f"""
    SELECT d.decision_id, d.trainee_id, d.date, d.policy, CAST(d.source AS VARCHAR) AS source, d.correct,
           d.item_id, d.given_label, d.expected_label, d.reviewer_id, d.error_type,
           coalesce(d.market, t.market, 'Unknown') AS market, coalesce(d.project, t.project) AS project,
           {COHORT_SQL} AS cohort
    FROM {relation} d LEFT JOIN trainees t ON t.trainee_id = d.trainee_id
"""


RESOLVED_DECISIONS = resolved_decisions()


def resolved_with(
    filters: Filters, source: Source, column: str, name: str, *, relation: str = "decisions", shared: bool = False
) -> tuple[str, list[object]]:
    """`WITH r AS (RESOLVED_DECISIONS), {name} AS (...)`: the decisions of `source` under the filters that
    have a `column` (item_id, reviewer_id), and its parameters; read from `relation` (a table with the
    decisions' columns). `column`, `name` and `relation` are literals of the caller.

    `shared`: the query reads `{name}` more than once. It is then computed once (MATERIALIZED); otherwise
    DuckDB inlines it into each reader and shares `r` instead, so the filters apply only after every
    decision has been joined to its trainee (10M joined rows at 10M decisions, for 2.4M golden-set ones)."""
    assert column.isidentifier() and name.isidentifier(), "identifiers come from code, never from data"
    w = where(filters.with_(source=source), alias="r", trainee_alias="r")
    materialized = "MATERIALIZED " if shared else ""
    return (f"WITH r AS ({resolved_decisions(relation)}), {name} AS {materialized}(SELECT r.* FROM r "
            f"WHERE r.{column} IS NOT NULL AND {w.sql})", w.params)


def within_markets(filters: Filters, allowed: tuple[str, ...]) -> Filters:
    """The filters as a person limited to `allowed` markets may use them: markets they picked outside
    their own are dropped, and picking none means all of theirs. No limit (empty `allowed`): unchanged."""
    if not allowed:
        return filters
    picked = tuple(m for m in filters.markets if m in allowed)
    return filters.with_(markets=picked or tuple(allowed))


@dataclass(frozen=True)
class Where:
    """A parameterised SQL condition: `sql` uses `?` placeholders filled by `params`, in order."""

    sql: str
    params: list[object]


# Which column answers each filter, per alias. Identifiers come only from here, never from user values.
_COLUMNS = {"date": "date", "market": "market", "policy": "policy", "project": "project", "source": "source"}


def where(
    f: Filters,
    *,
    alias: str = "d",
    trainee_alias: str | None = "t",
    dates: bool = True,
    policies: bool = True,
    source: bool = True,
) -> Where:
    """Conditions for a query over `decision_daily` (or any table with date/market/policy/project/source
    columns) aliased `alias`, joined to `trainees` as `trainee_alias` for cohorts. Switch parts off for
    measures that set their own windows (training effects) or span all policies."""
    assert alias.isidentifier() and (trainee_alias is None or trainee_alias.isidentifier())
    parts: list[str] = []
    params: list[object] = []
    if dates and f.start is not None:
        parts.append(f"{alias}.date >= ?")
        params.append(f.start)
    if dates and f.end is not None:
        parts.append(f"{alias}.date <= ?")
        params.append(f.end)
    if f.markets:
        parts.append(f"{alias}.market IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.markets))
    if policies and f.policies:
        parts.append(f"{alias}.policy IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.policies))
    if f.projects:
        parts.append(f"{alias}.project IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.projects))
    if source and f.source is not None:
        parts.append(f"{alias}.source = ?")
        params.append(f.source)
    if f.cohorts and trainee_alias is not None:
        parts.append(f"{trainee_alias}.cohort IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(f.cohorts))
    return Where(" AND ".join(parts) if parts else "TRUE", params)
