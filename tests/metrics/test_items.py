"""Golden-set item health: difficulty, discrimination, distractors and the review flags, on hand-built
stores, on a published dataset, against scipy on random data, and on the sample data's planted items."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from data_sources.sample import EXPORTS as SAMPLE_EXPORTS
from data_sources.store import open_store
from metrics import words
from metrics.filters import Filters
from metrics.items import ITEM_COLUMNS, POOR_DISCRIMINATION, ItemRules, item_health
from sample_data import planted

DAY = dt.date(2026, 5, 4)
HS, SPAM = "Hate Speech", "Spam"


def insert_decisions(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> None:
    """Item-level decisions as an import writes them (with the import_id every import stamps)."""
    df = pd.DataFrame(rows)
    for column, default in (("date", DAY), ("source", "golden_set"), ("market", "TH")):
        df[column] = df[column].fillna(default) if column in df else default
    con.register("incoming", df)
    cols = ", ".join(df.columns)
    con.execute(f"INSERT INTO decisions ({cols}, import_id) SELECT {cols}, 0 FROM incoming")
    con.unregister("incoming")


def answer(who: str, item: str, right: bool, *, key: str = "hate_speech", wrong: str = "non_violating",
           policy: str = HS, **extra: object) -> dict[str, object]:
    return {"trainee_id": who, "item_id": item, "policy": policy, "correct": right, "expected_label": key,
            "given_label": key if right else wrong, **extra}


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """40 moderators on Hate Speech: S00-S19 strong (right on each of the 20 ordinary items N00-N19 with
    probability 0.92), W00-W19 weak (0.55). MIS is miskeyed: the strong all answer non_violating, which
    the key marks wrong, the weak follow the key. EASY: everyone right. THIN: three attempts. Spam: one
    item, one moderator (a policy with nothing to compare with)."""
    store = open_store(":memory:")
    c = store.cursor()
    rng = np.random.default_rng(3)
    rows = []
    strong, weak = [f"S{i:02d}" for i in range(20)], [f"W{i:02d}" for i in range(20)]
    for who, p in [(s, 0.92) for s in strong] + [(w, 0.55) for w in weak]:
        rows += [answer(who, f"N{k:02d}", bool(rng.random() < p), wrong="bullying" if k % 2 else "non_violating")
                 for k in range(20)]
        rows.append(answer(who, "MIS", who in weak))
    rows += [answer(who, "EASY", True) for who in strong + weak]
    rows += [answer(who, "THIN", False) for who in strong[:3]]
    rows.append(answer("S00", "SP1", True, policy=SPAM, key="scam"))
    rows.append(answer("S00", "QA-ONLY", False, source="qa_audit"))  # quality, not the golden set
    insert_decisions(c, rows)
    yield c
    store.close()


def by_item(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("item_id")


def test_a_miskeyed_item_that_strong_moderators_fail_is_flagged_first(con: duckdb.DuckDBPyConnection) -> None:
    df = item_health(con, Filters())
    assert list(df.columns) == ITEM_COLUMNS
    assert df.iloc[0]["item_id"] == "MIS"
    mis = by_item(df).loc["MIS"]
    assert mis.attempts == 40 and mis.correct == 20 and mis.moderators == 40 and mis.key == "hate_speech"
    assert mis.rate == pytest.approx(0.5) and mis.low < 0.5 < mis.high
    assert mis.discrimination < -0.8  # the strong fail it, the weak get it right
    assert (mis.upper_rate, mis.lower_rate, mis.upper_lower) == (0.0, 1.0, -1.0)
    assert (mis.distractor, mis.distractor_share) == ("non_violating", 0.5)
    assert mis.q_value < 0.05 and bool(mis.mislabelled) and bool(mis.flagged) and not mis.too_easy


def test_policy_level_is_the_share_right_on_the_policys_other_items(con: duckdb.DuckDBPyConnection) -> None:
    df = by_item(item_health(con, Filters()))
    hs = df[df["policy"] == HS]
    others = hs.drop("MIS")
    assert df.loc["MIS", "policy_level"] == pytest.approx(others["correct"].sum() / others["attempts"].sum())
    expected_p = sps.binomtest(20, 40, df.loc["MIS", "policy_level"], alternative="less").pvalue
    assert df.loc["MIS", "p_value"] == pytest.approx(expected_p, rel=1e-9)
    assert math.isnan(df.loc["SP1", "policy_level"])  # the only Spam item: nothing to compare with


def test_a_hard_item_is_flagged_only_when_one_other_answer_outnumbers_the_key(
        con: duckdb.DuckDBPyConnection) -> None:
    """Both HARD and CROWD: strong moderators right 60%, weak ones 10% (they discriminate well). HARD's
    wrong answers scatter over three labels, none as common as the key; CROWD's are all bullying, given
    more often than the key: hard is not wrong, but a crowd agreeing on another answer is a miskey sign."""
    scatter = ["non_violating", "bullying", "self_harm"]
    rows = []
    for i in range(20):
        for item in ("HARD", "CROWD"):
            rows.append(answer(f"S{i:02d}", item, i % 10 < 6, wrong="bullying" if item == "CROWD" else scatter[i % 3]))
            rows.append(answer(f"W{i:02d}", item, i % 10 == 0, wrong="bullying" if item == "CROWD" else scatter[i % 3]))
    insert_decisions(con, rows)
    df = by_item(item_health(con, Filters()))
    for item in ("HARD", "CROWD"):
        assert df.loc[item, "rate"] == pytest.approx(0.35) and df.loc[item, "discrimination"] > POOR_DISCRIMINATION
        assert df.loc[item, "q_value"] < 0.05  # far below the policy's other items either way
    assert df.loc["HARD", "distractor_share"] < df.loc["HARD", "rate"] and not df.loc["HARD", "flagged"]
    assert df.loc["CROWD", "distractor_share"] == pytest.approx(0.65) and bool(df.loc["CROWD", "mislabelled"])


def test_ordinary_items_discriminate_and_are_not_flagged(con: duckdb.DuckDBPyConnection) -> None:
    df = by_item(item_health(con, Filters()))
    ordinary = df.loc[[f"N{k:02d}" for k in range(20)]]
    assert ordinary["discrimination"].mean() > POOR_DISCRIMINATION and (ordinary["discrimination"] > -0.1).all()
    assert (ordinary["upper_lower"] > 0).mean() > 0.9 and not ordinary["flagged"].any()
    assert set(ordinary["distractor"]) <= {"non_violating", "bullying"}


def test_an_item_everyone_gets_right_is_too_easy(con: duckdb.DuckDBPyConnection) -> None:
    easy = by_item(item_health(con, Filters())).loc["EASY"]
    assert easy.rate == 1.0 and easy.low >= 0.9 and math.isnan(easy.discrimination)
    assert bool(easy.too_easy) and bool(easy.flagged) and not easy.mislabelled
    assert pd.isna(easy.distractor) and pd.isna(easy.distractor_share)


def test_an_item_with_too_few_attempts_is_marked_not_tested_or_ranked(con: duckdb.DuckDBPyConnection) -> None:
    df = item_health(con, Filters())
    thin = by_item(df).loc["THIN"]
    assert not thin.enough_data and math.isnan(thin.p_value) and math.isnan(thin.q_value) and not thin.flagged
    assert thin.rate == 0.0  # 0 of 3 is extreme, and means nothing yet
    assert df["item_id"].tolist()[-2:] == ["SP1", "THIN"]  # after every judged item, by id
    # Lowering the bar puts it among the judged items.
    assert bool(by_item(item_health(con, Filters(), ItemRules(min_attempts=3))).loc["THIN", "enough_data"])


def test_review_order_flagged_then_hardest(con: duckdb.DuckDBPyConnection) -> None:
    df = item_health(con, Filters())
    assert df["item_id"].tolist()[:2] == ["MIS", "EASY"]
    judged = df[df["enough_data"] & ~df["flagged"]]
    assert judged["shrunk_rate"].is_monotonic_increasing


def test_filters_apply_and_qa_audits_never_count(con: duckdb.DuckDBPyConnection) -> None:
    assert "QA-ONLY" not in set(item_health(con, Filters())["item_id"])
    assert "QA-ONLY" not in set(item_health(con, Filters(source="qa_audit"))["item_id"])
    assert item_health(con, Filters(markets=("VN",))).empty
    only_spam = item_health(con, Filters(policies=(SPAM,)))
    assert only_spam["item_id"].tolist() == ["SP1"]


def test_items_without_labels_still_get_share_right_and_discrimination(con: duckdb.DuckDBPyConnection) -> None:
    """Golden-set exports with only `correct`: no key and no distractor, the rest as usual."""
    rows = [{"trainee_id": f"S{i:02d}", "item_id": "BARE", "policy": HS, "correct": i % 2 == 0} for i in range(20)]
    insert_decisions(con, rows)
    bare = by_item(item_health(con, Filters())).loc["BARE"]
    assert bare.attempts == 20 and bare.rate == 0.5 and pd.isna(bare.key) and pd.isna(bare.distractor)
    assert math.isfinite(bare.discrimination)
    text = words.item_text(bare.to_dict() | {"item_id": "BARE"}, poor=POOR_DISCRIMINATION, min_attempts=30)
    assert text == "BARE (Hate Speech): 20 attempts, fewer than 30: too few to judge."
    judged = item_health(con, Filters(), ItemRules(min_attempts=20)).set_index("item_id").loc["BARE"].to_dict()
    assert "BARE (Hate Speech) — 50% right (n=20)" in words.item_text(
        judged | {"item_id": "BARE"}, poor=POOR_DISCRIMINATION, min_attempts=20)


def test_an_empty_store_gives_an_empty_frame_with_the_columns() -> None:
    store = open_store(":memory:")
    df = item_health(store.cursor(), Filters())
    assert df.empty and list(df.columns) == ITEM_COLUMNS
    store.close()


def test_words_for_each_kind_of_item(con: duckdb.DuckDBPyConnection) -> None:
    rows = by_item(item_health(con, Filters())).reset_index().set_index("item_id", drop=False)
    text = {i: words.item_text(rows.loc[i].to_dict(), poor=POOR_DISCRIMINATION, min_attempts=30) for i in rows.index}
    assert text["MIS"].startswith("Check the key: MIS (Hate Speech) — 50% answer with the key hate_speech (n=40)")
    assert "strong moderators miss it more often than weak ones (r = −" in text["MIS"]
    assert "50% answer non_violating instead" in text["MIS"]
    assert text["EASY"].startswith("Too easy: EASY (Hate Speech) — 100.0% (95% CI")
    assert text["THIN"] == "THIN (Hate Speech): 3 attempts, fewer than 30: too few to judge."
    assert "not flagged (q = " in text["N00"]


# --------------------------------------------------------------------- published data and scipy

# Bock & Lieberman (1970), LSAT section 6: 1000 examinees, 5 items; the response patterns and their counts
# as printed by R's ltm package (data set LSAT), patterns never observed left out.
LSAT_PATTERNS = {
    "00000": 3, "00001": 6, "00010": 2, "00011": 11, "00100": 1, "00101": 1, "00110": 3, "00111": 4,
    "01000": 1, "01001": 8, "01011": 16, "01101": 3, "01110": 2, "01111": 15, "10000": 10, "10001": 29,
    "10010": 14, "10011": 81, "10100": 3, "10101": 28, "10110": 15, "10111": 80, "11000": 16, "11001": 56,
    "11010": 21, "11011": 173, "11100": 11, "11101": 61, "11110": 28, "11111": 298,
}  # fmt: skip


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return np.array([[int(c) for c in p] for p, k in LSAT_PATTERNS.items() for _ in range(k)])


def test_lsat_difficulty_and_corrected_item_total_correlation(lsat: np.ndarray) -> None:
    """Bock & Lieberman (1970), Table 1: the LSAT-6 items' proportions correct are .924, .709, .553, .763,
    .870. On a complete test the rest score (share right on the other four items) is a linear function of
    the total minus the item, so the discrimination must be scipy's point-biserial r of each item with
    the total score without it (Henrysson 1963)."""
    store = open_store(":memory:")
    con = store.cursor()
    insert_decisions(con, [answer(f"E{e:04d}", f"I{j + 1}", bool(lsat[e, j])) for e in range(len(lsat)) for j in range(5)])
    df = by_item(item_health(con, Filters(), ItemRules(min_other=4)))
    assert df.loc[[f"I{j}" for j in range(1, 6)], "rate"].round(3).tolist() == [0.924, 0.709, 0.553, 0.763, 0.870]
    total = lsat.sum(axis=1)
    for j in range(5):
        expected = sps.pointbiserialr(lsat[:, j], total - lsat[:, j]).statistic
        assert df.loc[f"I{j + 1}", "discrimination"] == pytest.approx(expected, abs=1e-12)
        assert df.loc[f"I{j + 1}", "rated_moderators"] == 1000
    store.close()


def test_kelley_groups_are_the_top_and_bottom_27_percent_by_rest_score(lsat: np.ndarray) -> None:
    """Kelley (1939): round(0.27 x 1000) = 270 examinees in each extreme group, ranked by rest score, ties
    broken by id (the upper group takes the smallest ids among equals, the lower group the largest)."""
    store = open_store(":memory:")
    con = store.cursor()
    ids = [f"E{e:04d}" for e in range(len(lsat))]
    insert_decisions(con, [answer(ids[e], f"I{j + 1}", bool(lsat[e, j])) for e in range(len(lsat)) for j in range(5)])
    df = by_item(item_health(con, Filters(), ItemRules(min_other=4)))
    for j in range(5):
        frame = pd.DataFrame({"id": ids, "x": lsat[:, j], "rest": (lsat.sum(axis=1) - lsat[:, j]) / 4})
        upper = frame.sort_values(["rest", "id"], ascending=[False, True]).head(270)["x"].mean()
        lower = frame.sort_values(["rest", "id"], ascending=[True, False]).head(270)["x"].mean()
        assert df.loc[f"I{j + 1}", "upper_rate"] == pytest.approx(upper)
        assert df.loc[f"I{j + 1}", "lower_rate"] == pytest.approx(lower)
    store.close()


def test_kelley_groups_rank_moderators_without_other_decisions_as_the_ranking_always_did() -> None:
    """With min_other = 0 a moderator who answered only this item has no rest score (0/0, NaN), and the
    ranking puts those above every share, ties by id. The lower group is read off the same ranking
    reversed, so it must be the bottom of this order: the scored moderators, lowest first, ties by the
    largest id. 20 moderators: round(0.27 x 20) = 5 in each group."""
    rng = np.random.default_rng(8)
    rows, scored = [], [f"S{i:02d}" for i in range(10)]
    for i, who in enumerate(scored):  # rest scores 0/3 .. 3/3: ties broken by id
        rows += [answer(who, f"B{k}", k < i % 4) for k in range(3)]
    rows += [answer(who, "A", bool(rng.random() < 0.5)) for who in [*scored, *(f"O{i:02d}" for i in range(10))]]
    store = open_store(":memory:")
    con = store.cursor()
    insert_decisions(con, rows)
    got = by_item(item_health(con, Filters(), ItemRules(min_other=0))).loc["A"]
    frame = pd.DataFrame([r for r in rows if r["item_id"] == "A"])
    rest = {who: (i % 4) / 3 for i, who in enumerate(scored)}
    frame["rest"], frame["none"] = frame["trainee_id"].map(rest), ~frame["trainee_id"].isin(rest)
    upper = frame.sort_values(["none", "rest", "trainee_id"], ascending=[False, False, True]).head(5)
    lower = frame.sort_values(["none", "rest", "trainee_id"], ascending=[True, True, False]).head(5)
    assert got["rated_moderators"] == 20
    assert got["upper_rate"] == pytest.approx(upper["correct"].mean())
    assert got["lower_rate"] == pytest.approx(lower["correct"].mean())
    store.close()


def test_random_incomplete_design_matches_scipy() -> None:
    """Moderators see random subsets of items, some twice: r must equal scipy's point-biserial over the
    attempts (each with its moderator's share right on their other decisions), and the p-value scipy's
    exact one-sided binomial test against the policy's other items."""
    rng = np.random.default_rng(5)
    ability = rng.uniform(0.5, 0.95, 60)
    rows = []
    for m in range(60):
        for item in rng.choice(12, size=rng.integers(6, 14), replace=True):
            p = ability[m] if item != 3 else 1 - ability[m]
            rows.append(answer(f"M{m:02d}", f"X{item:02d}", bool(rng.random() < p)))
    store = open_store(":memory:")
    con = store.cursor()
    insert_decisions(con, rows)
    df = by_item(item_health(con, Filters(), ItemRules(min_attempts=10, min_other=5)))
    frame = pd.DataFrame(rows)
    totals = frame.groupby("trainee_id")["correct"].agg(["sum", "size"])
    for item, x in frame.groupby("item_id"):
        mine = x.groupby("trainee_id")["correct"].agg(["sum", "size"])
        other = totals.loc[mine.index, "size"] - mine["size"]
        rest = ((totals.loc[mine.index, "sum"] - mine["sum"]) / other)[other >= 5]
        kept = x[x["trainee_id"].isin(rest.index)]
        expected = sps.pearsonr(kept["correct"].astype(float), kept["trainee_id"].map(rest)).statistic
        assert df.loc[item, "discrimination"] == pytest.approx(expected, abs=1e-9)
        level = (frame.loc[frame["item_id"] != item, "correct"]).mean()
        test = sps.binomtest(int(x["correct"].sum()), len(x), level, alternative="less")
        assert df.loc[item, "p_value"] == pytest.approx(test.pvalue, rel=1e-9)
    assert df.loc["X03", "discrimination"] < 0  # the reversed item
    store.close()


# --------------------------------------------------------------------------------- sample data

needs_sample = pytest.mark.skipif(not (SAMPLE_EXPORTS / "decisions.csv").exists(), reason="no sample exports")


@needs_sample
def test_sample_planted_items_are_the_flagged_ones(sample_con: duckdb.DuckDBPyConnection) -> None:
    """sample_data/planted.py (f): MISLABELLED_ITEMS are found probably mislabelled or ambiguous and
    OBVIOUS_ITEMS too easy, at ITEM_MIN_ATTEMPTS and ITEM_FDR, and nothing else is flagged."""
    rules = ItemRules(min_attempts=planted.ITEM_MIN_ATTEMPTS, fdr=planted.ITEM_FDR)
    df = item_health(sample_con, Filters(), rules)
    assert set(df.loc[df["mislabelled"], "item_id"]) == set(planted.MISLABELLED_ITEMS)
    assert set(df.loc[df["too_easy"], "item_id"]) == set(planted.OBVIOUS_ITEMS)
    assert df["item_id"].head(len(planted.MISLABELLED_ITEMS)).tolist() == df.loc[df["mislabelled"], "item_id"].tolist()
    mis = by_item(df).loc[list(planted.MISLABELLED_ITEMS)]
    assert (mis["rate"] < mis["policy_level"] - 0.2).all()  # far below their policy's other items
    # More moderators give the policy's answer, which the key marks wrong, than the key.
    assert (mis["distractor_share"] > mis["rate"]).all()
    easy = by_item(df).loc[list(planted.OBVIOUS_ITEMS)]
    assert (easy["rate"] == 1.0).all()


@needs_sample
def test_sample_items_with_few_attempts_are_listed_apart(sample_con: duckdb.DuckDBPyConnection) -> None:
    df = item_health(sample_con, Filters(), ItemRules(min_attempts=planted.ITEM_MIN_ATTEMPTS))
    thin = df[~df["enough_data"]]
    assert len(thin) > 0 and thin["p_value"].isna().all() and not thin["flagged"].any()
    assert (thin["attempts"] < planted.ITEM_MIN_ATTEMPTS).all()
    assert not df["enough_data"].iloc[: len(df) - len(thin)].eq(False).any()  # judged items come first
