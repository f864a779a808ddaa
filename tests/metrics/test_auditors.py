"""QA auditor severity (indirect standardisation against colleagues on the same work) and auditor-to-auditor
agreement, on hand-built stores, by simulation, and on the sample data's planted auditors."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_sources.rollups import rebuild_decision_daily
from data_sources.sample import EXPORTS as SAMPLE_EXPORTS
from data_sources.store import open_store
from metrics import words
from metrics.agreement import cohen_kappa
from metrics.auditors import (
    SEVERITY_COLUMNS,
    AuditorRules,
    _coded,
    _standardised,
    _strata,
    auditor_agreement,
    auditor_severity,
    double_audits,
)
from metrics.filters import Filters
from sample_data import planted

WEEK1, WEEK2 = dt.date(2026, 6, 1), dt.date(2026, 6, 8)
HS = "Hate Speech"


def insert_audits(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> None:
    df = pd.DataFrame(rows)
    for column, default in (("policy", HS), ("source", "qa_audit")):
        df[column] = df[column].fillna(default) if column in df else default
    con.register("incoming", df)
    cols = ", ".join(df.columns)
    con.execute(f"INSERT INTO decisions ({cols}, import_id) SELECT {cols}, 0 FROM incoming")
    con.unregister("incoming")
    rebuild_decision_daily(con)  # as an import does: the rollups, audited_twice among them


def audits(auditor: str, market: str, day: dt.date, n: int, fails: int, moderators: int = 10) -> list[dict[str, object]]:
    return [{"reviewer_id": auditor, "market": market, "date": day, "correct": i >= fails,
             "trainee_id": f"{market}-M{i % moderators:02d}", "item_id": f"{auditor}-{day}-{i}"} for i in range(n)]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """TH, Hate Speech, two ISO weeks: A, B, C fail 80 of 400 audits a week (20%), L (lenient) 20 of 400
    (5%), T only 10 audits. ID: P, Q, R fail 40 of 200 a week, S (strict) 120 of 200. VN: V audits alone."""
    store = open_store(":memory:")
    c = store.cursor()
    rows: list[dict[str, object]] = []
    for day in (WEEK1, WEEK2):
        for auditor in ("A", "B", "C"):
            rows += audits(auditor, "TH", day, 400, 80)
        rows += audits("L", "TH", day, 400, 20)
        rows += audits("P", "ID", day, 200, 40) + audits("Q", "ID", day, 200, 40) + audits("R", "ID", day, 200, 40)
        rows += audits("S", "ID", day, 200, 120)
        rows += audits("V", "VN", day, 150, 30, moderators=3)
    rows += audits("T", "TH", WEEK1, 10, 2)
    insert_audits(c, rows)
    yield c
    store.close()


def by_auditor(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("reviewer_id")


def test_the_lenient_auditor_is_compared_with_colleagues_on_the_same_work(con: duckdb.DuckDBPyConnection) -> None:
    df = auditor_severity(con, Filters())
    assert list(df.columns) == SEVERITY_COLUMNS
    lenient = by_auditor(df).loc["L"]
    assert (lenient.audits, lenient.fails, lenient.comparable_audits, lenient.moderators) == (800, 40, 800, 10)
    assert lenient.fail_rate == pytest.approx(0.05) and lenient.fail_low < 0.05 < lenient.fail_high
    # Colleagues A, B, C and T: in week 1 (80 * 3 + 2) / 1210, in week 2 240 / 1200; weighted by L's audits.
    expected = (400 * 242 / 1210 + 400 * 240 / 1200) / 800
    assert lenient.expected_rate == pytest.approx(expected)
    assert lenient.difference == pytest.approx(0.05 - expected)
    # The variance at each week's pooled rate f: f (1 - f) (n + n^2 / m).
    var = sum(f * (1 - f) * (400 + 400**2 / m) for f, m in ((262 / 1610, 1210), (260 / 1600, 1200)))
    half = 1.959963984540054 * math.sqrt(var) / 800
    assert (lenient.difference_low, lenient.difference_high) == pytest.approx(
        (lenient.difference - half, lenient.difference + half))
    assert bool(lenient.flagged) and lenient.q_value < 0.05 and lenient.colleagues == 4


def test_a_lenient_colleague_does_not_make_the_others_look_strict(con: duckdb.DuckDBPyConnection) -> None:
    """Against L too, A would fail 3.7 points more often than colleagues (z about 3.4): L leaves the
    reference once flagged, and A is back level with B and C."""
    df = by_auditor(auditor_severity(con, Filters()))
    for auditor in ("A", "B", "C"):
        assert not df.loc[auditor, "flagged"]
        assert abs(df.loc[auditor, "difference"]) < 0.002  # only T's 10 audits differ from 20%
        assert df.loc[auditor, "colleagues"] == 3  # the two others and T; L is left out
    single_pass = _standardised(_coded(_strata(con, Filters())), set()).set_index("reviewer_id").loc["A"]
    difference = (single_pass["comparable_fails"] - single_pass["expected"]) / single_pass["comparable_audits"]
    assert difference > 0.03  # what comparing with every colleague, L included, would have said


def test_the_strict_auditor_is_flagged_and_ranked_first(con: duckdb.DuckDBPyConnection) -> None:
    df = auditor_severity(con, Filters())
    assert df.iloc[0]["reviewer_id"] == "S" and bool(df.iloc[0]["flagged"])
    strict = by_auditor(df).loc["S"]
    assert strict.observed_rate == pytest.approx(0.6) and strict.expected_rate == pytest.approx(0.2)
    assert strict.difference == pytest.approx(0.4) and strict.difference_low > 0
    assert set(df.loc[df["flagged"], "reviewer_id"]) == {"S", "L"}


def test_shrinkage_moves_towards_the_expected_rate_and_severity_orders_the_list(con: duckdb.DuckDBPyConnection) -> None:
    df = auditor_severity(con, Filters())
    judged = df[df["enough_data"]]
    assert judged["severity"].is_monotonic_decreasing
    for row in judged.itertuples():
        low, high = sorted((row.observed_rate, row.expected_rate))
        assert low - 1e-12 <= row.shrunk_rate <= high + 1e-12
        assert row.shrunk_low <= row.shrunk_rate <= row.shrunk_high
        assert row.severity == pytest.approx(row.shrunk_rate - row.expected_rate)


def test_too_few_audits_or_no_colleague_means_not_judged(con: duckdb.DuckDBPyConnection) -> None:
    df = auditor_severity(con, Filters())
    assert df["reviewer_id"].tolist()[-2:] == ["T", "V"]  # after every judged auditor, by id
    few, alone = by_auditor(df).loc["T"], by_auditor(df).loc["V"]
    assert few.comparable_audits == 10 and not few.enough_data and math.isnan(few.q_value) and not few.flagged
    assert alone.comparable_audits == 0 and math.isnan(alone.difference) and alone.colleagues == 0
    assert alone.audits == 300 and alone.fail_rate == pytest.approx(0.2) and alone.moderators == 3
    assert not by_auditor(auditor_severity(con, Filters(), AuditorRules(min_audits=5))).loc["T", "flagged"]


def test_filters_apply_and_golden_set_checks_never_count(con: duckdb.DuckDBPyConnection) -> None:
    insert_audits(con, [{"reviewer_id": "G", "market": "TH", "date": WEEK1, "correct": False, "trainee_id": "x",
                         "source": "golden_set"}])
    df = auditor_severity(con, Filters())
    assert "G" not in set(df["reviewer_id"])
    only_id = auditor_severity(con, Filters(markets=("ID",)))
    assert set(only_id["reviewer_id"]) == {"P", "Q", "R", "S"}
    assert auditor_severity(con, Filters(start=WEEK2, end=WEEK2 + dt.timedelta(days=6)))["audits"].max() == 400


def test_an_empty_store_gives_an_empty_frame_with_the_columns() -> None:
    store = open_store(":memory:")
    df = auditor_severity(store.cursor(), Filters())
    assert df.empty and list(df.columns) == SEVERITY_COLUMNS
    agreement = auditor_agreement(store.cursor(), Filters())
    assert agreement.pairs == 0 and not agreement.overall.kappa.measured and agreement.by_auditor.empty
    assert words.kappa_text(agreement.overall.kappa, 0) == "no decision was audited by two auditors"
    store.close()


def test_words_say_which_way_quality_reads(con: duckdb.DuckDBPyConnection) -> None:
    rules = AuditorRules()
    df = by_auditor(auditor_severity(con, Filters(), rules))

    def say(who: str) -> str:
        return words.auditor_text(f"Auditor {who}", df.loc[who].to_dict(), min_audits=rules.min_audits, fdr=rules.fdr)

    assert say("S").startswith("Auditor S fails 40.0 points more often than colleagues on the same work (95% CI +")
    assert say("S").endswith("quality scores from their audits read low.")
    assert say("L").startswith("Auditor L fails 15.0 points less often") and say("L").endswith("read high.")
    assert "not flagged at a 5% false-discovery rate" in say("A")
    assert say("T") == "Auditor T: 10 audits on work colleagues also audited, fewer than 100: too few to judge."
    assert "nothing to compare with" in say("V")


def test_colleagues_are_the_other_reference_auditors_sharing_a_market() -> None:
    """Colleagues are counted over sets of markets; they must be what pairing auditors by market says:
    the distinct reference auditors other than oneself with strata in one of one's markets. 300 random
    auditors in 1-3 of 6 markets, a third of them left out of the reference."""
    rng = np.random.default_rng(4)
    auditors = [f"R{i:03d}" for i in range(300)]
    pairs = pd.DataFrame([(a, m) for a in auditors for m in rng.choice(6, size=rng.integers(1, 4), replace=False)],
                         columns=["reviewer_id", "market"])
    frame = pairs.assign(policy=HS, week=0, audits=10, fails=2)
    left_out = set(rng.choice(auditors, size=100, replace=False))
    got = _standardised(_coded(frame), left_out).set_index("reviewer_id")["colleagues"]
    team = pairs.merge(pairs[~pairs["reviewer_id"].isin(left_out)], on="market", suffixes=("", "_other"))
    team = team[team["reviewer_id"] != team["reviewer_id_other"]]
    expected = team.groupby("reviewer_id")["reviewer_id_other"].nunique()
    assert got.reindex(expected.index).tolist() == expected.tolist()
    assert set(got.index) == set(expected.index)


def test_the_interval_covers_the_true_difference_about_95_percent_of_the_time() -> None:
    """Simulated teams of five auditors over 30 strata with varying fail rates; auditor 0 fails 4 points
    more often than the rest. The Wald interval of observed minus expected should cover +4 points in about
    95% of 400 runs (binomial sd of the coverage: 1.1 points)."""
    rng = np.random.default_rng(11)
    runs, teams, strata = 400, 5, 30
    run, auditor, week = (a.ravel() for a in np.indices((runs, teams, strata)))
    base = rng.uniform(0.08, 0.3, (runs, strata))[run, week] + np.where(auditor == 0, 0.04, 0.0)
    audits = rng.integers(10, 40, len(run))
    frame = pd.DataFrame({"reviewer_id": [f"R{r}-A{a}" for r, a in zip(run, auditor, strict=True)],
                          "market": run, "policy": HS, "week": week, "audits": audits,  # a market per run
                          "fails": rng.binomial(audits, base)})
    judged = _standardised(_coded(frame), set()).set_index("reviewer_id")
    target = judged.loc[[f"R{r}-A0" for r in range(runs)]]
    n = target["comparable_audits"]
    difference = (target["comparable_fails"] - target["expected"]) / n
    half = 1.959963984540054 * np.sqrt(target["variance"]) / n
    covered = ((difference - half <= 0.04) & (difference + half >= 0.04)).mean()
    assert 0.92 <= covered <= 0.98


# ------------------------------------------------------------------------------- auditor to auditor

@pytest.fixture
def twice() -> Iterator[duckdb.DuckDBPyConnection]:
    """Ten decisions audited by A then B; two audited by A then C; one decision audited twice by A (not
    a pair), and one item id audited by D and E for two different moderators (two decisions, not a pair)."""
    store = open_store(":memory:")
    c = store.cursor()
    first = [True, True, True, True, True, True, False, False, True, False]
    second = [True, True, True, True, True, False, False, False, True, True]
    rows = []
    for i, (x, y) in enumerate(zip(first, second, strict=True)):
        rows.append({"decision_id": f"D{i:02d}a", "reviewer_id": "A", "correct": x, "trainee_id": f"M{i}"})
        rows.append({"decision_id": f"D{i:02d}b", "reviewer_id": "B", "correct": y, "trainee_id": f"M{i}"})
    for i in range(2):
        rows.append({"decision_id": f"E{i}a", "reviewer_id": "A", "correct": True, "trainee_id": f"N{i}"})
        rows.append({"decision_id": f"E{i}b", "reviewer_id": "C", "correct": i == 0, "trainee_id": f"N{i}"})
    rows += [{"decision_id": f"F{i}", "reviewer_id": "A", "correct": True, "trainee_id": "O", "item_id": "F"}
             for i in range(2)]
    rows += [{"decision_id": "G1", "reviewer_id": "D", "correct": True, "trainee_id": "P1", "item_id": "G"},
             {"decision_id": "G2", "reviewer_id": "E", "correct": False, "trainee_id": "P2", "item_id": "G"}]
    for row in rows:
        row.setdefault("item_id", f"item-{row['trainee_id']}")
        row.update(market="TH", date=WEEK1)
    insert_audits(c, rows)
    yield c
    store.close()


def test_double_audits_pair_the_same_decision_by_two_auditors(twice: duckdb.DuckDBPyConnection) -> None:
    pairs = double_audits(twice, Filters())
    assert len(pairs) == 12 and set(zip(pairs["first"], pairs["second"], strict=True)) == {("A", "B"), ("A", "C")}


def test_overall_kappa_is_cohens_on_the_pairs(twice: duckdb.DuckDBPyConnection) -> None:
    """12 pairs: both pass 7, both fail 2, first pass / second fail 2, first fail / second pass 1.
    p_o = 9/12; p_e = (9/12)(8/12) + (3/12)(4/12) = 0.5833; kappa = (0.75 - 0.5833) / (1 - 0.5833) = 0.4."""
    agreement = auditor_agreement(twice, Filters())
    assert agreement.pairs == 12 and agreement.moderators == 12
    assert agreement.overall.kappa.estimate == pytest.approx(0.4)
    first = [True] * 6 + [False, False, True, False] + [True, True]
    second = [True] * 5 + [False, False, False, True, True] + [True, False]
    assert agreement.overall.kappa == cohen_kappa(first, second).kappa
    assert words.kappa_text(agreement.overall.kappa, 12).startswith("κ = 0.40 (95% CI ")
    assert "over 12 decisions: " in words.kappa_text(agreement.overall.kappa, 12)


def test_each_auditor_is_compared_with_the_colleagues_who_judged_the_same_decisions(
        twice: duckdb.DuckDBPyConnection) -> None:
    agreement = auditor_agreement(twice, Filters())
    mine = agreement.by_auditor.set_index("reviewer_id")
    assert mine["shared"].to_dict() == {"A": 12, "B": 10, "C": 2}
    assert mine.loc["B", "agreement"] == pytest.approx(0.8) and mine.loc["C", "agreement"] == pytest.approx(0.5)
    b = cohen_kappa([True] * 5 + [False, False, False, True, True],
                    [True] * 6 + [False, False, True, False])
    assert mine.loc["B", "kappa"] == pytest.approx(b.kappa.estimate)


# --------------------------------------------------------------------------------- sample data

needs_sample = pytest.mark.skipif(not (SAMPLE_EXPORTS / "decisions.csv").exists(), reason="no sample exports")


@needs_sample
def test_sample_planted_auditors_are_the_flagged_ones(sample_con: duckdb.DuckDBPyConnection) -> None:
    """sample_data/planted.py (g): LENIENT_AUDITOR fails less often than colleagues on the same work,
    STRICT_AUDITOR more often; both flagged at AUDITOR_MIN_AUDITS and 5% FDR, and no one else."""
    rules = AuditorRules(min_audits=planted.AUDITOR_MIN_AUDITS)
    df = auditor_severity(sample_con, Filters(), rules)
    assert set(df.loc[df["flagged"], "reviewer_id"]) == {planted.LENIENT_AUDITOR, planted.STRICT_AUDITOR}
    rows = by_auditor(df)
    lenient, strict = rows.loc[planted.LENIENT_AUDITOR], rows.loc[planted.STRICT_AUDITOR]
    assert lenient.difference_high < -0.03 and strict.difference_low > 0.01
    assert df.iloc[0]["reviewer_id"] == planted.STRICT_AUDITOR and df[df["enough_data"]].iloc[-1]["reviewer_id"] == (
        planted.LENIENT_AUDITOR)
    assert (df["moderators"] >= 5).all()  # every auditor can be shown while presenting


@needs_sample
def test_sample_double_audits_agree_less_where_a_planted_auditor_is_involved(
        sample_con: duckdb.DuckDBPyConnection) -> None:
    """Blind second audits (planted.DOUBLE_AUDIT_SHARE in DOUBLE_AUDIT_MARKETS) disagree at random
    AUDIT_NOISE of the time; pairs with the lenient or strict auditor disagree more."""
    agreement = auditor_agreement(sample_con, Filters())
    assert agreement.pairs > 200 and agreement.overall.kappa.low > 0.6
    pairs = double_audits(sample_con, Filters())
    planted_pairs = pairs["first"].isin([planted.LENIENT_AUDITOR, planted.STRICT_AUDITOR]) | pairs["second"].isin(
        [planted.LENIENT_AUDITOR, planted.STRICT_AUDITOR])
    kappa = {name: cohen_kappa(p["first_pass"].tolist(), p["second_pass"].tolist()).kappa
             for name, p in (("planted", pairs[planted_pairs]), ("others", pairs[~planted_pairs]))}
    assert kappa["planted"].estimate < kappa["others"].estimate - 0.15
    markets = {r[2:4] for r in agreement.by_auditor["reviewer_id"]}
    assert markets == set(planted.DOUBLE_AUDIT_MARKETS)
