"""The sample-data generator: deterministic, shaped like the data contract, and its planted effects are
there to be found. Checked with plain pandas/numpy on `build()`'s output, not with the app's measures."""

from __future__ import annotations

import datetime as dt
import hashlib
import pathlib

import numpy as np
import pandas as pd
import pytest

from data_sources.contract import DATASETS
from sample_data import planted as P
from sample_data.generate import DATASET_NAMES, EXPORTS_DIR, build, main, write_exports

# The bundled exports must stay "a few MB".
MAX_BUNDLED_BYTES = 5_000_000


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return build()


# --- helpers: the simple analyses a correct app would do ------------------------------------------------
def _decisions_with_market(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Decisions with a blank market taken from the trainee's, as the importer does."""
    dec = data["decisions"]
    roster_market = data["trainees"].set_index("trainee_id")["market"]
    return dec.assign(market=dec["market"].fillna(dec["trainee_id"].map(roster_market)))


def _attended(data: dict[str, pd.DataFrame], training_id: str) -> set[str]:
    att = data["attendance"]
    return set(att.loc[(att["training_id"] == training_id) & att["attended"], "trainee_id"])


def _windows(data: dict[str, pd.DataFrame], policy: str, when: dt.date, days: int,
             markets: tuple[str, ...]) -> pd.DataFrame:
    """Per trainee in `markets`: decisions and accuracy on `policy` in the `days` before and from `when`;
    only people with decisions in both windows."""
    dec = _decisions_with_market(data)
    start, end = pd.Timestamp(when), pd.Timestamp(when) + pd.Timedelta(days=days)
    x = dec[(dec["policy"] == policy) & dec["market"].isin(markets)
            & (dec["date"] >= pd.Timestamp(when) - pd.Timedelta(days=days)) & (dec["date"] < end)]
    x = x.assign(window=np.where(x["date"] >= start, "post", "pre"))
    g = x.groupby(["trainee_id", "window"])["correct"].agg(["size", "mean"]).unstack("window").dropna()
    return pd.DataFrame({"n_pre": g[("size", "pre")], "n_post": g[("size", "post")],
                         "pre": g[("mean", "pre")], "post": g[("mean", "post")]})


def _weeks_to_proficiency(data: dict[str, pd.DataFrame]) -> pd.Series:
    """First tenure week whose rolling two-week accuracy reaches 90% on >= 20 reviews (inf: never)."""
    dec, roster = data["decisions"], data["trainees"].set_index("trainee_id")
    week = (dec["date"] - dec["trainee_id"].map(roster["start_date"])).dt.days // 7
    weeks = range(int(week.max()) + 1)
    n = pd.crosstab(dec["trainee_id"], week).reindex(columns=weeks, fill_value=0)
    c = pd.crosstab(dec["trainee_id"], week, values=dec["correct"].astype(int), aggfunc="sum")
    c = c.fillna(0).reindex(columns=weeks, fill_value=0)
    n2 = n + n.shift(1, axis=1, fill_value=0)
    c2 = c + c.shift(1, axis=1, fill_value=0)
    reached = (n2 >= P.PROFICIENCY_MIN_REVIEWS) & (c2 >= P.PROFICIENCY_ACCURACY * n2)
    return reached.idxmax(axis=1).where(reached.any(axis=1), np.inf).astype(float)


def _pairwise_agreement(session: pd.DataFrame) -> float:
    """Share of rater pairs giving the same label to an item, over all items."""
    counts = pd.crosstab(session["item_id"], session["label"]).to_numpy()
    n = counts.sum(axis=1)
    return float(((counts * (counts - 1)).sum(axis=1)).sum() / (n * (n - 1)).sum())


def _fleiss_kappa(session: pd.DataFrame) -> float:
    """Fleiss' kappa, allowing items rated by different numbers of raters."""
    counts = pd.crosstab(session["item_id"], session["label"]).to_numpy()
    n = counts.sum(axis=1)
    observed = (((counts**2).sum(axis=1) - n) / (n * (n - 1))).mean()
    shares = counts.sum(axis=0) / counts.sum()
    expected = (shares**2).sum()
    return float((observed - expected) / (1 - expected))


# --- determinism and shape -----------------------------------------------------------------------------
def test_same_seed_gives_identical_frames(data: dict[str, pd.DataFrame]) -> None:
    again = build()
    for name in DATASET_NAMES:
        pd.testing.assert_frame_equal(data[name], again[name], obj=name)


def test_different_seed_gives_different_data(data: dict[str, pd.DataFrame]) -> None:
    other = build(seed=P.DEFAULT_SEED + 1)
    assert not other["decisions"]["correct"].equals(data["decisions"]["correct"])
    assert not other["trainees"]["name"].equals(data["trainees"]["name"])


def test_every_dataset_has_the_contract_columns_in_order(data: dict[str, pd.DataFrame]) -> None:
    assert set(data) == set(DATASET_NAMES)
    for name, frame in data.items():
        assert tuple(frame.columns) == DATASETS[name].column_names, name
        assert len(frame) > 0, name


def test_audience_says_how_attendees_were_chosen_and_is_mostly_unknown(data: dict[str, pd.DataFrame]) -> None:
    trainings = data["trainings"].set_index("training_id")
    assert trainings.loc[P.REFRESHER_TRAINING_ID, "audience"] == "random"  # a draw by roster
    assert trainings.loc[P.REMEDIAL_TRAINING_ID, "audience"] == "low_scorers"
    onboarding = trainings["kind"] == "onboarding"
    assert (trainings.loc[onboarding, "audience"] == "everyone").all()
    assert trainings.loc[~onboarding, "audience"].isna().sum() == (~onboarding).sum() - 2
    assert trainings["audience"].isna().sum() > trainings["audience"].value_counts().max()  # unknown is common


def test_correct_is_given_label_equals_expected_label(data: dict[str, pd.DataFrame]) -> None:
    dec = data["decisions"]
    assert dec["correct"].equals(dec["given_label"] == dec["expected_label"])


def test_error_type_only_on_wrong_decisions_and_reviewer_only_on_audits(data: dict[str, pd.DataFrame]) -> None:
    dec = data["decisions"]
    assert dec["error_type"].isna().equals(dec["correct"])
    assert set(dec["error_type"].dropna()) == {"missed violation", "over-enforcement", "wrong policy", "wrong action"}
    assert dec["reviewer_id"].isna().equals(dec["source"] == "golden_set")


def test_natural_keys_are_unique(data: dict[str, pd.DataFrame]) -> None:
    for name, frame in data.items():
        key = list(DATASETS[name].key)
        assert not frame.duplicated(key).any(), f"{name}: duplicate {key}"
        assert frame[key].notna().all().all(), f"{name}: blank {key}"


def test_every_person_is_on_the_roster_and_every_session_exists(data: dict[str, pd.DataFrame]) -> None:
    roster = set(data["trainees"]["trainee_id"])
    for name in ("attendance", "decisions", "assessments", "feedback"):
        assert set(data[name]["trainee_id"]) <= roster, name
    cal = data["calibration"]
    assert set(cal.loc[~cal["is_reference"], "rater_id"]) <= roster
    assert set(cal.loc[cal["is_reference"], "rater_id"]) <= {"EXPERT1", "EXPERT2"}
    sessions = set(data["trainings"]["training_id"])
    assert set(data["attendance"]["training_id"]) <= sessions
    assert set(data["feedback"]["training_id"]) <= sessions
    assert set(data["assessments"]["training_id"].dropna()) <= sessions
    # Feedback comes from people who were there.
    att = data["attendance"]
    present = set(zip(att.loc[att["attended"], "training_id"], att.loc[att["attended"], "trainee_id"], strict=True))
    assert set(zip(data["feedback"]["training_id"], data["feedback"]["trainee_id"], strict=True)) <= present


def test_values_are_plausible(data: dict[str, pd.DataFrame]) -> None:
    roster, dec = data["trainees"], data["decisions"]
    assert 300 <= len(roster) <= 400
    assert set(roster["market"]) == set(P.MARKETS)
    assert set(roster["cohort"]) == set(P.COHORTS)
    assert 3 <= (roster["status"] == "exited").sum() <= 20
    assert roster["name"].str.contains(r"[^\x00-\x7F]").sum() > 30  # Thai, Japanese, Korean, Chinese, Vietnamese
    assert set(dec["policy"]) == set(P.POLICIES)
    assert set(dec["source"]) == {"qa_audit", "golden_set"}
    assert dec["date"].min() >= pd.Timestamp(P.DATA_START)
    assert dec["date"].max() <= pd.Timestamp(P.DATA_END)
    assert 0.02 <= dec["market"].isna().mean() <= 0.08
    assert 0.80 <= dec["correct"].mean() <= 0.92
    assert data["feedback"]["rating"].between(1, 5).all()
    assert data["assessments"]["score"].between(0, 100).all()
    assert set(data["trainings"]["kind"]) <= {"onboarding", "refresher", "policy_update", "calibration", "coaching"}


# --- the planted effects -------------------------------------------------------------------------------
def test_refresher_difference_in_differences_recovers_the_planted_effect(data: dict[str, pd.DataFrame]) -> None:
    w = _windows(data, P.REFRESHER_POLICY, P.REFRESHER_DATE, P.REFRESHER_WINDOW_DAYS, P.REFRESHER_MARKETS)
    attended = w.index.isin(_attended(data, P.REFRESHER_TRAINING_ID))
    assert attended.sum() == P.REFRESHER_ATTENDEES
    assert (~attended).sum() >= 30
    for group in (attended, ~attended):  # plenty of decisions on both sides of the session
        assert w.loc[group, "n_pre"].mean() >= 15 and w.loc[group, "n_post"].mean() >= 15
    gain = w["post"] - w["pre"]
    did = (gain[attended].mean() - gain[~attended].mean()) * 100
    assert abs(did - P.REFRESHER_EFFECT_PP) <= 4


def test_remedial_gain_is_regression_to_the_mean(data: dict[str, pd.DataFrame]) -> None:
    w = _windows(data, P.REMEDIAL_POLICY, P.REMEDIAL_DATE, P.REMEDIAL_WINDOW_DAYS, P.REMEDIAL_MARKETS)
    w = w[w["n_pre"] >= P.REMEDIAL_MIN_PRE_DECISIONS]
    attended = w.index.isin(_attended(data, P.REMEDIAL_TRAINING_ID))
    assert attended.sum() == P.REMEDIAL_ATTENDEES
    gain = (w["post"] - w["pre"]).to_numpy()
    assert gain[attended].mean() * 100 > 5  # the naive before/after looks like a big win

    # Against non-attendees with the same observed pre-accuracy, nothing is left.
    pre = w["pre"].round(3).to_numpy()
    matched = [g - gain[~attended & (pre == p)].mean()
               for p, g in zip(pre[attended], gain[attended], strict=True) if (~attended & (pre == p)).any()]
    assert len(matched) >= P.REMEDIAL_ATTENDEES // 2
    assert abs(np.mean(matched) * 100 - P.REMEDIAL_EFFECT_PP) <= 4

    # ANCOVA, post ~ pre + attended: the attended coefficient is about zero too.
    design = np.column_stack([np.ones(len(w)), w["pre"], attended])
    coef = np.linalg.lstsq(design, w["post"].to_numpy(), rcond=None)[0]
    assert abs(coef[2] * 100 - P.REMEDIAL_EFFECT_PP) <= 4


def test_weak_cell_is_well_below_the_policy_elsewhere(data: dict[str, pd.DataFrame]) -> None:
    dec = _decisions_with_market(data)
    policy = dec[dec["policy"] == P.WEAK_POLICY]
    inside = policy["market"] == P.WEAK_MARKET
    assert inside.sum() >= 300
    gap = (policy.loc[~inside, "correct"].mean() - policy.loc[inside, "correct"].mean()) * 100
    assert gap >= P.WEAK_GAP_PP - 4
    # It is the weakest market x policy cell with plenty of decisions.
    cells = dec.groupby(["market", "policy"])["correct"].agg(["size", "mean"])
    assert cells[cells["size"] >= 300]["mean"].idxmin() == (P.WEAK_MARKET, P.WEAK_POLICY)


def test_tiny_cell_has_an_extreme_rate_on_too_few_decisions(data: dict[str, pd.DataFrame]) -> None:
    dec = _decisions_with_market(data)
    tiny = dec[(dec["market"] == P.TINY_MARKET) & (dec["policy"] == P.TINY_POLICY)]
    assert len(tiny) == P.TINY_DECISIONS < 6
    assert tiny["correct"].sum() == P.TINY_CORRECT


def test_fast_cohort_reaches_proficiency_sooner(data: dict[str, pd.DataFrame]) -> None:
    weeks = _weeks_to_proficiency(data)
    cohort = data["trainees"].set_index("trainee_id")["cohort"].loc[weeks.index]
    fast = weeks[cohort == P.FAST_COHORT].median()
    earlier = [c for c in P.COHORTS if c < P.FAST_COHORT]
    assert np.isfinite(fast)
    assert all(fast < weeks[cohort == c].median() for c in earlier)
    assert fast <= weeks[cohort.isin(earlier)].median() - 1.5


def test_poor_calibration_session_has_the_lowest_agreement(data: dict[str, pd.DataFrame]) -> None:
    cal = data["calibration"]
    raters = cal[~cal["is_reference"]]
    assert raters.groupby("session_id")["rater_id"].nunique().between(5, 8).all()
    assert raters.groupby("session_id")["item_id"].nunique().between(20, 30).all()
    assert cal.groupby("session_id")["is_reference"].sum().equals(cal.groupby("session_id")["item_id"].nunique())
    # Not every rater labels every item.
    assert len(raters) < raters.groupby("session_id").apply(lambda s: s["rater_id"].nunique() * s["item_id"].nunique()).sum()
    agreement = {sid: _pairwise_agreement(s) for sid, s in raters.groupby("session_id")}
    kappa = {sid: _fleiss_kappa(s) for sid, s in raters.groupby("session_id")}
    assert min(agreement, key=agreement.__getitem__) == P.POOR_CALIBRATION_SESSION
    assert kappa[P.POOR_CALIBRATION_SESSION] < 0.3
    assert all(k > 0.6 for sid, k in kappa.items() if sid != P.POOR_CALIBRATION_SESSION)
    assert set(cal.loc[cal["session_id"] == P.POOR_CALIBRATION_SESSION, "policy"]) == {P.POOR_CALIBRATION_POLICY}


def test_mislabelled_golden_items_are_failed_more_the_longer_moderators_have_been_in_production(
        data: dict[str, pd.DataFrame]) -> None:
    dec = data["decisions"]
    golden = dec[dec["source"] == "golden_set"]
    start = data["trainees"].set_index("trainee_id")["start_date"]
    tenure = (golden["date"] - golden["trainee_id"].map(start)).dt.days // 7
    policy_level = golden.groupby("policy")["correct"].mean()
    assert golden.groupby("item_id").size().median() >= P.ITEM_MIN_ATTEMPTS  # a live set each item is seen in
    for item in P.MISLABELLED_ITEMS:
        x = golden[golden["item_id"] == item]
        assert len(x) >= P.ITEM_MIN_ATTEMPTS
        assert x["correct"].mean() < policy_level[x["policy"].iloc[0]] - 0.2
        # The wrong answers are one answer, the policy's, not scattered mistakes.
        assert x.loc[~x["correct"], "given_label"].value_counts(normalize=True).iloc[0] > 0.9
    planted_items = golden["item_id"].isin(P.MISLABELLED_ITEMS)
    novices = golden.loc[planted_items & (tenure < 5), "correct"].mean()
    past_nesting = golden.loc[planted_items & (tenure >= 11), "correct"].mean()
    assert past_nesting < novices - 0.2
    for item in P.OBVIOUS_ITEMS:
        x = golden[golden["item_id"] == item]
        assert len(x) >= 35 and x["correct"].all()  # 35 right of 35: a Wilson lower bound of 0.90


def _fail_rate_against_colleagues(data: dict[str, pd.DataFrame]) -> pd.Series:
    """Each auditor's fail rate minus colleagues' in the same market x policy x ISO week, weighted by the
    auditor's audits there (indirect standardisation), in points."""
    dec = _decisions_with_market(data)
    qa = dec[dec["source"] == "qa_audit"].assign(week=lambda f: f["date"].dt.to_period("W"), fail=lambda f: ~f["correct"])
    s = qa.groupby(["market", "policy", "week", "reviewer_id"])["fail"].agg(["sum", "size"]).reset_index()
    totals = s.groupby(["market", "policy", "week"])[["sum", "size"]].transform("sum")
    s = s.assign(other_fails=totals["sum"] - s["sum"], other=totals["size"] - s["size"])
    s = s[s["other"] > 0].assign(expected=lambda f: f["size"] * f["other_fails"] / f["other"])
    per = s.groupby("reviewer_id")[["sum", "expected", "size"]].sum()
    return 100 * (per["sum"] - per["expected"]) / per["size"]


def test_the_lenient_and_the_strict_auditor_stand_out_from_colleagues(data: dict[str, pd.DataFrame]) -> None:
    difference = _fail_rate_against_colleagues(data)
    assert difference[P.LENIENT_AUDITOR] < -4 and difference[P.STRICT_AUDITOR] > 3
    assert difference.idxmin() == P.LENIENT_AUDITOR
    dec = data["decisions"]
    assert dec["reviewer_id"].dropna().str.fullmatch(r"QA[A-Z]{2}\d{2}").all()


def test_blind_second_audits_judge_the_same_decision_in_the_double_audit_markets(
        data: dict[str, pd.DataFrame]) -> None:
    dec = data["decisions"]
    qa = dec[dec["source"] == "qa_audit"]
    key = ["item_id", "trainee_id"]
    twice = qa[qa.duplicated(key, keep=False)]
    pairs = twice.groupby(key)
    assert pairs.ngroups > 200 and (pairs.size() == 2).all()
    assert (pairs["reviewer_id"].nunique() == 2).all() and (pairs["given_label"].nunique() == 1).all()
    assert (pairs["date"].nunique() == 1).all() and (pairs["policy"].nunique() == 1).all()
    assert set(twice["reviewer_id"].str[2:4]) == set(P.DOUBLE_AUDIT_MARKETS)
    # Second audits are numbered after every other decision.
    assert pairs["decision_id"].max().min() > dec.loc[~dec.index.isin(twice.index), "decision_id"].max()
    agree = pairs["correct"].nunique().eq(1).mean()
    assert 1 - 2 * P.AUDIT_NOISE - 0.05 < agree < 1 - P.AUDIT_NOISE / 2


def test_the_policy_update_dips_accuracy_on_its_policy(data: dict[str, pd.DataFrame]) -> None:
    trainings = data["trainings"]
    briefings = trainings[(trainings["kind"] == "policy_update") & (trainings["policy"] == P.POLICY_UPDATE_POLICY)
                          & (trainings["date"] == pd.Timestamp(P.POLICY_UPDATE_DATE))]
    assert set(briefings["market"]) == set(P.MARKETS) and set(briefings["title"]) == {P.POLICY_UPDATE_TITLE}
    dec = data["decisions"]
    policy = dec[dec["policy"] == P.POLICY_UPDATE_POLICY]
    when, span = pd.Timestamp(P.POLICY_UPDATE_DATE), pd.Timedelta(days=P.POLICY_UPDATE_DIP_DAYS)
    before = policy.loc[(policy["date"] >= when - 2 * span) & (policy["date"] < when), "correct"].mean()
    after = policy.loc[(policy["date"] >= when) & (policy["date"] < when + span), "correct"].mean()
    assert before - after > P.POLICY_UPDATE_DIP_PP / 100 / 2


# --- size, scale and files ------------------------------------------------------------------------------
def test_default_size_is_the_bundled_size(data: dict[str, pd.DataFrame]) -> None:
    assert abs(len(data["decisions"]) - P.DEFAULT_DECISIONS) <= 0.01 * P.DEFAULT_DECISIONS


def test_build_scales_to_the_requested_volume(data: dict[str, pd.DataFrame]) -> None:
    big = build(decisions=200_000)
    assert abs(len(big["decisions"]) - 200_000) <= 20_000
    assert len(big["trainees"]) > 2 * len(data["trainees"])
    assert len(big["trainings"]) > len(data["trainings"])
    assert big["decisions"]["decision_id"].is_unique


def test_bundled_exports_are_current_and_small(tmp_path: pathlib.Path) -> None:
    paths = write_exports(tmp_path)
    assert set(paths) == set(DATASET_NAMES)
    total = 0
    for name, path in paths.items():
        bundled = EXPORTS_DIR / f"{name}.csv"
        total += bundled.stat().st_size
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(bundled.read_bytes()).digest(), (
            f"{bundled} is stale: run python -m sample_data.generate")
    assert total <= MAX_BUNDLED_BYTES


def test_exports_are_plain_csv_with_iso_dates_and_true_false() -> None:
    header, first = (EXPORTS_DIR / "decisions.csv").read_text(encoding="utf-8").splitlines()[:2]
    assert header == ",".join(DATASETS["decisions"].column_names)
    fields = first.split(",")
    assert dt.date.fromisoformat(fields[2])
    assert fields[4] in {"true", "false"}
    attendance = pd.read_csv(EXPORTS_DIR / "attendance.csv", dtype=str)
    assert set(attendance["attended"]) == {"true", "false"}
    trainees = pd.read_csv(EXPORTS_DIR / "trainees.csv", dtype=str, encoding="utf-8")
    assert trainees["start_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_command_line_writes_every_dataset(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--out", str(tmp_path), "--seed", "3", "--decisions", "20000"])
    assert {p.name for p in tmp_path.iterdir()} == {f"{name}.csv" for name in DATASET_NAMES}
    assert "decisions.csv" in capsys.readouterr().out
