"""Calibration agreement: per session, per rater against the expert answer, per item, per policy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_sources.sample import EXPORTS as SAMPLE_EXPORTS
from data_sources.store import Store, open_store
from metrics.calibration import (
    BY_POLICY_COLUMNS,
    SESSION_COLUMNS,
    agreement_by_policy,
    pairwise_agreement,
    session_agreement,
    sessions,
    undated_sessions,
)
from metrics.filters import Filters
from sample_data import planted

D = dt.date
N = None
# Krippendorff (2011), section C: 4 observers x 12 units on a 5-point scale: alpha 0.743 nominal, 0.815
# ordinal, 0.849 interval. Whole numbers on a short scale are ordinal unless told otherwise.
KRIPP_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    "C": [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
}
# The expert's answers on items 1-9 (as observer B); items 10-12 have none.
REFERENCE = [1, 2, 3, 3, 2, 2, 4, 1, 2]


def item(u: int) -> str:
    return f"item{u + 1:02d}"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """S1 (Hate Speech, TH): Krippendorff's example plus an expert. S2 (Child Safety, VN): three raters who
    agree on everything. S3 (Hate Speech, TH, later): two raters, one item each way."""
    store: Store = open_store(":memory:")
    c = store.cursor()
    rows: list[tuple[object, ...]] = []
    for rater, labels in KRIPP_2011.items():
        rows += [("S1", item(u), rater, str(v), D(2026, 3, 3), "Hate Speech", "TH", False)
                 for u, v in enumerate(labels) if v is not None]  # fmt: skip
    rows += [("S1", item(u), "expert", str(v), D(2026, 3, 3), "Hate Speech", "TH", True) for u, v in enumerate(REFERENCE)]
    rows += [("S2", f"x{i}", r, lab, D(2026, 3, 4), "Child Safety", "VN", False)
             for i, lab in enumerate(["v", "nv", "v", "v"]) for r in ("A", "B", "C")]  # fmt: skip
    rows += [("S3", "y1", "A", "v", D(2026, 3, 20), "Hate Speech", "TH", False),
             ("S3", "y1", "B", "v", D(2026, 3, 20), "Hate Speech", "TH", False),
             ("S3", "y2", "A", "v", D(2026, 3, 20), "Hate Speech", "TH", False),
             ("S3", "y2", "B", "nv", D(2026, 3, 20), "Hate Speech", "TH", False)]  # fmt: skip
    c.executemany(
        "INSERT INTO calibration (session_id, item_id, rater_id, label, date, policy, market, is_reference, "
        "import_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
        rows,
    )
    yield c
    store.close()


def test_sessions_table(con: duckdb.DuckDBPyConnection) -> None:
    df = sessions(con, Filters(), n_boot=200)
    assert list(df.columns) == SESSION_COLUMNS
    assert df["session_id"].tolist() == ["S1", "S2", "S3"]
    s1 = df.iloc[0]
    # The expert's ratings do not count: Krippendorff's own figure comes out, at the labels' level.
    assert s1.level == "ordinal" and s1.alpha == pytest.approx(0.815, abs=5e-4)
    assert df["level"].tolist() == ["ordinal", "nominal", "nominal"]  # S2 and S3 are labelled with names
    assert (s1["items"], s1.raters, s1.policy, s1.market) == (12, 4, "Hate Speech", "TH")
    assert s1.alpha_low < s1.alpha < s1.alpha_high
    assert df.iloc[1].alpha == pytest.approx(1.0) and df.iloc[1].fleiss_kappa == pytest.approx(1.0)
    assert df.iloc[1].percent_agreement == pytest.approx(1.0)


def test_sessions_are_deterministic_and_filtered(con: duckdb.DuckDBPyConnection, empty_store: Store) -> None:
    assert sessions(con, Filters()).equals(sessions(con, Filters()))
    only_vn = sessions(con, Filters(markets=("VN",), cohorts=("ignored",), projects=("ignored",)))
    assert only_vn["session_id"].tolist() == ["S2"]
    march_start = sessions(con, Filters(end=D(2026, 3, 3)))
    assert march_start["session_id"].tolist() == ["S1"]
    for df in (sessions(con, Filters(policies=("Nope",))), sessions(empty_store.cursor(), Filters())):
        assert df.empty and list(df.columns) == SESSION_COLUMNS


def test_session_agreement_statistics(con: duckdb.DuckDBPyConnection) -> None:
    s = session_agreement(con, "S1", n_boot=300, seed=1)
    assert (s.n_items, s.n_raters) == (12, 4)
    assert s.level.level == "ordinal" and s.alpha.estimate == pytest.approx(0.815, abs=5e-4)
    # The same session as on the sessions table: one figure, one value.
    table = sessions(con, Filters(), n_boot=300, seed=1).set_index("session_id").loc["S1"]
    assert (table.alpha, table.alpha_low, table.alpha_high) == pytest.approx((s.alpha.estimate, s.alpha.low, s.alpha.high))
    assert s.alpha.low < s.alpha.estimate < s.alpha.high
    # Fleiss uses the 8 items rated by all 4 observers (the modal number of ratings).
    assert (s.fleiss_items, s.fleiss_raters) == (8, 4)
    assert s.fleiss.low <= s.fleiss.estimate <= s.fleiss.high
    again = session_agreement(con, "S1", n_boot=300, seed=1)
    assert (again.alpha, again.fleiss) == (s.alpha, s.fleiss)  # seeded: the same intervals every time


def test_raters_against_the_reference(con: duckdb.DuckDBPyConnection) -> None:
    raters = session_agreement(con, "S1", n_boot=0).raters.set_index("rater_id")
    assert list(raters.index) == ["A", "B", "C", "D"]  # the expert is not a rater
    assert raters.loc["B", "agreement_with_reference"] == 1.0
    assert raters.loc["B", "kappa_with_reference"] == pytest.approx(1.0)
    # Ordered labels: a near miss counts partly (linear weights), and every kappa has its interval.
    assert (raters["kappa_weights"] == "linear").all()
    a = raters.loc["A"]
    assert a.kappa_low < a.kappa_with_reference < a.kappa_high
    assert raters.loc["A", "agreement_with_reference"] == pytest.approx(8 / 9)
    assert raters.loc["C", "items"] == 10


def test_disagreement_agenda(con: duckdb.DuckDBPyConnection) -> None:
    s = session_agreement(con, "S1", n_boot=0)
    top = s.disagreements.iloc[0]
    # Unit 6 got four different labels from four observers: the most to talk about.
    assert (top.item_id, top.distinct_labels, top.entropy) == ("item06", 4, pytest.approx(2.0))
    assert top.reference_label == "2"
    agreed = s.disagreements.set_index("item_id").loc["item03"]
    assert (agreed.majority_label, agreed.majority_share, agreed.entropy) == ("3", 1.0, 0.0)
    assert pd.isna(s.disagreements.set_index("item_id").loc["item12", "reference_label"])


def test_grid(con: duckdb.DuckDBPyConnection) -> None:
    grid = session_agreement(con, "S1", n_boot=0).grid
    assert len(grid) == 41  # rater ratings only (9 + 11 + 10 + 11)
    a6 = grid[(grid.rater_id == "A") & (grid.item_id == "item06")].iloc[0]
    assert a6.label == "1" and not a6.matches_reference
    no_ref = grid[grid.item_id == "item10"]["matches_reference"]
    assert no_ref.isna().all()


def test_unknown_session_is_empty(con: duckdb.DuckDBPyConnection) -> None:
    s = session_agreement(con, "nope")
    assert s.n_items == 0 and not s.alpha.measured
    assert s.raters.empty and s.disagreements.empty and s.grid.empty
    assert list(s.grid.columns) == ["rater_id", "item_id", "label", "matches_reference"]


def test_pairwise_agreement(con: duckdb.DuckDBPyConnection) -> None:
    pairs = pairwise_agreement(con, "S2").set_index(["first", "second"])
    # S2's three raters agree on every item: kappa 1 for every pair, on the 4 items.
    assert len(pairs) == 3 and (pairs["kappa"] == 1.0).all() and (pairs["n"] == 4).all()
    s3 = pairwise_agreement(con, "S3").iloc[0]
    # One item each way: p_o = 1/2, p_e = (2*1 + 0*1)/4 = 1/2 for A (v, v) and B (v, nv): kappa 0.
    assert s3["n"] == 2 and s3["kappa"] == pytest.approx(0.0)


def test_agreement_by_policy(con: duckdb.DuckDBPyConnection) -> None:
    df = agreement_by_policy(con, Filters(), n_boot=50)
    assert list(df.columns) == BY_POLICY_COLUMNS
    assert df[["policy", "session_id"]].values.tolist() == [
        ["Child Safety", "S2"], ["Hate Speech", "S1"], ["Hate Speech", "S3"]]  # fmt: skip
    assert df.iloc[2].percent_agreement == pytest.approx(0.5)



def test_rows_without_a_policy_still_count(empty_store: Store) -> None:
    c = empty_store.cursor()
    c.executemany(
        "INSERT INTO calibration (session_id, item_id, rater_id, label, is_reference, import_id) VALUES (?, ?, ?, ?, false, 0)",
        [("S", "i1", "a", "x"), ("S", "i1", "b", "x"), ("S", "i2", "a", "x"), ("S", "i2", "b", "y")],
    )
    by_policy = agreement_by_policy(c, Filters(), n_boot=20)
    assert by_policy[["policy", "session_id", "percent_agreement"]].values.tolist() == [["(no policy)", "S", 0.5]]
    assert sessions(c, Filters(), n_boot=20)["items"].tolist() == [2]

# --------------------------------------------------------------------------------------------------
# The planted effects of the bundled sample data (sample_data/planted.py)


@pytest.mark.skipif(not (SAMPLE_EXPORTS / "calibration.csv").exists(), reason="sample_data/exports not generated yet")
def test_sample_poor_session_has_the_lowest_agreement(sample_con: duckdb.DuckDBPyConnection) -> None:
    df = sessions(sample_con, Filters(), n_boot=100)
    worst_alpha = df.sort_values("alpha").iloc[0]
    worst_kappa = df.sort_values("fleiss_kappa").iloc[0]
    assert worst_alpha.session_id == planted.POOR_CALIBRATION_SESSION
    assert worst_kappa.session_id == planted.POOR_CALIBRATION_SESSION
    assert planted.POOR_CALIBRATION_POLICY in worst_alpha.policy
    # Clearly apart from the rest, not by a hair: its interval sits below every other session's alpha.
    others = df[df.session_id != planted.POOR_CALIBRATION_SESSION]
    assert worst_alpha.alpha_high < others["alpha"].min()
    detail = session_agreement(sample_con, planted.POOR_CALIBRATION_SESSION, n_boot=100)
    assert detail.disagreements["entropy"].iloc[0] > 0 and len(detail.raters) == worst_alpha.raters


def test_an_undated_round_is_listed_whatever_the_dates(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""INSERT INTO calibration (session_id, item_id, rater_id, label, date, policy, market, is_reference,
                   import_id) VALUES ('R9', 'z1', 'A', 'v', NULL, 'Hate Speech', 'TH', false, 0),
                                     ('R9', 'z1', 'B', 'v', NULL, 'Hate Speech', 'TH', false, 0)""")
    narrow = sessions(con, Filters(start=D(2026, 3, 4), end=D(2026, 3, 4)))
    assert narrow["session_id"].tolist() == ["S2", "R9"]  # undated last, never dropped by the dates
    assert undated_sessions(con, Filters(start=D(2026, 3, 4))) == 1
    assert session_agreement(con, "R9").n_items == 1


def test_a_severity_scale_is_ordinal_in_the_order_given(empty_store: Store) -> None:
    """Four raters on a 4-level severity scale with a missing rating: nominal without an order, ordinal with
    it, and each equal to the `krippendorff` package on the same data."""
    import krippendorff

    scale = ("none", "mild", "moderate", "severe")
    data = {"A": ["none", "mild", "severe", "moderate", "mild"], "B": ["none", "moderate", "severe", "moderate", None],
            "C": ["mild", "mild", "moderate", "severe", "mild"], "D": ["none", "mild", "severe", "severe", "mild"]}
    con = empty_store.cursor()
    con.executemany(
        "INSERT INTO calibration (session_id, item_id, rater_id, label, is_reference, import_id) VALUES (?, ?, ?, ?, false, 0)",
        [("SEV", f"i{u}", r, v) for r, labels in data.items() for u, v in enumerate(labels) if v is not None])
    codes = [[scale.index(v) if v else np.nan for v in labels] for labels in data.values()]
    nominal = session_agreement(con, "SEV", n_boot=0)
    ordinal = session_agreement(con, "SEV", n_boot=0, order=scale)
    assert nominal.level.level == "nominal" and ordinal.level.level == "ordinal"
    assert nominal.alpha.estimate == pytest.approx(krippendorff.alpha(codes, level_of_measurement="nominal"), abs=1e-9)
    assert ordinal.alpha.estimate == pytest.approx(krippendorff.alpha(codes, level_of_measurement="ordinal"), abs=1e-9)
    assert sessions(con, Filters(), order=scale)["level"].tolist() == ["ordinal"]
