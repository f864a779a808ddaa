"""The rows behind a figure: the same decisions a rate was counted from."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from metrics.filters import Filters
from metrics.rates import rates
from metrics.rows import ROW_COLUMNS, decisions_behind
from sample_data import planted
from tests.app.conftest import needs_sample


@needs_sample
def test_a_cells_rows_are_the_decisions_its_rate_counts(sample_con: duckdb.DuckDBPyConnection) -> None:
    cell = Filters(markets=(planted.WEAK_MARKET,), policies=(planted.WEAK_POLICY,), source="qa_audit")
    counted = rates(sample_con, cell).iloc[0]
    rows = decisions_behind(sample_con, cell, limit=100)
    assert rows.total + rows.counted == counted["reviewed"]  # every review accounted for
    assert rows.shown == 100 and list(rows.frame.columns) == ROW_COLUMNS
    assert rows.frame["date"].is_monotonic_decreasing  # newest first
    everything = decisions_behind(sample_con, cell, limit=10_000)
    assert everything.shown == everything.total and set(everything.frame["market"]) == {planted.WEAK_MARKET}
    if not everything.counted:  # all item-level: the rows' correct answers are the rate's
        assert int(everything.frame["correct"].sum()) == counted["correct"]


@needs_sample
def test_one_trainees_week(sample_con: duckdb.DuckDBPyConnection) -> None:
    busiest = sample_con.execute(
        "SELECT trainee_id, date_trunc('week', date)::DATE, count(*) FROM decisions GROUP BY ALL ORDER BY 3 DESC LIMIT 1"
    ).fetchone()
    trainee, week, n = busiest
    rows = decisions_behind(sample_con, Filters(), trainee_id=trainee, week=week)
    assert rows.total == n and rows.people == 1 and (rows.frame["trainee_id"] == trainee).all()
    assert rows.frame["date"].between(pd.Timestamp(week), pd.Timestamp(week + dt.timedelta(days=6))).all()
