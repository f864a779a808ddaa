"""Weak spots page, driven with AppTest against a real DuckDB file loaded with the sample data."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from sample_data import planted
from tests.app.conftest import assert_clean, frame_with, leaks, needs_sample, open_page, roster

PAGE = "views/weak_spots.py"
WEAK = f"{planted.WEAK_MARKET} × {planted.WEAK_POLICY}"


def heading(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("### "))


def pick(at: AppTest, market: str, policy: str) -> AppTest:
    at.selectbox(key="cell_market").set_value(market)
    at.selectbox(key="cell_policy").set_value(policy).run()
    assert_clean(at)
    return at


def ranked(at: AppTest):  # -> pd.DataFrame
    return frame_with(at, "Rank").set_index(["Market", "Policy"])


def thin(at: AppTest):  # -> pd.DataFrame
    """The list of cells with too few reviews: shown apart from the ranked list, without ranks."""
    frames = [f.value for f in at.dataframe if "Status" in f.value.columns and "Rank" not in f.value.columns]
    assert len(frames) == 1, "no separate list of thin cells"
    return frames[0].set_index(["Market", "Policy"])


@needs_sample
def test_heatmap_marks_flagged_and_thin_cells_and_selects_by_cell(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    text = json.dumps(spec, ensure_ascii=False)
    assert '"fields": ["market", "policy"]' in text and '"name": "cell"' in text  # a point selection on the cell
    assert "n<30" in text and "●" in text  # thin cells and flagged cells are marked on the map
    assert '"scheme": "blueorange"' in text and "datum.flagged" in text


@needs_sample
def test_the_planted_weak_spot_is_flagged_with_a_refresher_line(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    # Planted on several hundred QA audits; the golden set holds far fewer decisions per cell.
    at.segmented_control(key="measure_source").set_value("qa_audit").run()
    assert_clean(at)
    table = ranked(at)
    assert table.loc[(planted.WEAK_MARKET, planted.WEAK_POLICY), "Status"] == "Flagged"
    statuses = table["Status"].tolist()
    assert statuses == sorted(statuses, key=lambda s: s != "Flagged")  # flagged cells come first
    lines = [c.value for c in at.get("code")]
    assert any(line.startswith(f"Refresher suggested: {planted.WEAK_MARKET} x {planted.WEAK_POLICY} — quality")
               for line in lines)


@needs_sample
def test_the_drill_down_opens_on_the_top_ranked_cell(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    market, policy = ranked(at).index[0]
    assert (at.selectbox(key="cell_market").value, at.selectbox(key="cell_policy").value) == (market, policy)
    assert heading(at) == f"### {market} × {policy}"  # a heading a browser test can find


@needs_sample
def test_picking_the_weak_spot_shows_its_confusions_trend_and_error_types(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    pick(at, "ID", "Hate Speech")
    assert heading(at) == "### ID × Hate Speech"
    pick(at, planted.WEAK_MARKET, planted.WEAK_POLICY)
    assert heading(at) == f"### {WEAK}"
    confusions = frame_with(at, "Expected → given")
    assert len(confusions) > 0 and confusions["Errors"].sum() > 0
    assert all(" → " in pair for pair in confusions["Expected → given"])
    assert abs(confusions["Share"].sum() - 1) < 1e-9
    assert frame_with(at, "Error type")["Errors"].sum() > 0
    top = confusions.iloc[0]["Expected → given"]
    assert any(f"top confusion: {top}" in c.value for c in at.get("code"))
    assert len(at.get("vega_lite_chart")) == 2  # the map and the cell's weekly trend


@needs_sample
def test_the_planted_tiny_cell_is_marked_as_thin_and_never_flagged(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    # The tiny cell is planted in QA audits (quality).
    at.segmented_control(key="measure_source").set_value("qa_audit").run()
    assert_clean(at)
    tiny = thin(at).loc[(planted.TINY_MARKET, planted.TINY_POLICY)]  # listed apart, not ranked
    assert tiny["Status"] == "Not enough data" and tiny["Reviews (n)"] == planted.TINY_DECISIONS
    assert (planted.TINY_MARKET, planted.TINY_POLICY) not in ranked(at).index
    assert not any(c.value.startswith(f"Refresher suggested: {planted.TINY_MARKET} x {planted.TINY_POLICY}")
                   for c in at.get("code"))
    pick(at, planted.TINY_MARKET, planted.TINY_POLICY)
    assert any("too few to judge" in w.value for w in at.warning)
    assert any("too few reviews to judge yet" in c.value for c in at.get("code"))


@needs_sample
def test_min_reviews_and_fdr_controls_change_what_is_judged(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    at.segmented_control(key="measure_source").set_value("golden_set").run()  # accuracy: fewer, cleaner checks
    judged = len(ranked(at))
    at.number_input(key="min_reviewed").set_value(150).run()
    assert_clean(at)
    assert len(ranked(at)) < judged
    assert "n<150" in at.get("vega_lite_chart")[0].proto.spec
    at.selectbox(key="fdr").set_value(0.01).run()
    assert_clean(at)
    assert (ranked(at)["Status"] == "Flagged").sum() <= 1


def test_weak_spots_page_on_an_empty_database_says_so(empty_app: AppTest) -> None:
    at = open_page(empty_app, PAGE)
    assert any("no cells to compare" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_filters_that_select_nothing_give_a_sentence(make_app, sample_db: Path) -> None:
    at = open_page(make_app(sample_db, cohorts=planted.COHORTS[-1], to="2026-09-30"), PAGE)
    assert any("no cells to compare" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_presenter_mode_shows_no_names_or_ids(make_app, sample_db: Path) -> None:
    at = open_page(make_app(sample_db, present="1"), PAGE)
    pick(at, planted.WEAK_MARKET, planted.WEAK_POLICY)
    people = roster()
    assert not leaks(at, set(people["name"]) | set(people["trainer"].dropna()) | set(people["trainee_id"]))


@needs_sample
def test_the_rows_behind_a_cell_open_in_a_dialog(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    pick(at, planted.WEAK_MARKET, planted.WEAK_POLICY)
    at.button(key="cell_rows").click().run()
    assert_clean(at)
    rows = frame_with(at, "expected_label")
    assert len(rows) > 0 and set(rows["market"]) == {planted.WEAK_MARKET} and set(rows["policy"]) == {planted.WEAK_POLICY}
    assert "cell_rows_rows_csv" in {b.key for b in at.get("download_button")}
