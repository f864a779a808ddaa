"""Item health page, driven with AppTest against a real DuckDB file loaded with the sample data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from data_sources import sample
from sample_data import planted
from tests.app.conftest import (
    assert_clean,
    frame_with,
    leaks,
    names_shown,
    needs_sample,
    open_page,
    presenting,
    roster,
    shown_text,
)

PAGE = "views/items.py"
MISLABELLED = "Probably mislabelled or ambiguous"
TOO_EASY = "Too easy to tell anyone apart"


def auditor_ids() -> set[str]:
    return set(pd.read_csv(sample.EXPORTS / "decisions.csv", dtype=str)["reviewer_id"].dropna())


def ranked(at: AppTest) -> pd.DataFrame:
    return frame_with(at, "Rank").set_index("Item")


def thin(at: AppTest) -> pd.DataFrame:
    """The items with too few attempts: listed apart from the ranked list, without ranks."""
    frames = [f.value for f in at.dataframe if "Discrimination (r)" in f.value.columns and "Rank" not in f.value.columns]
    assert len(frames) == 1, "no separate list of items with too few attempts"
    return frames[0].set_index("Item")


def lines(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("- ")]


@needs_sample
def test_the_planted_items_head_the_review_list(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    table = ranked(at)
    flagged = len(planted.MISLABELLED_ITEMS) + len(planted.OBVIOUS_ITEMS)
    assert set(table.index[: len(planted.MISLABELLED_ITEMS)]) == set(planted.MISLABELLED_ITEMS)
    assert set(table.index[len(planted.MISLABELLED_ITEMS):flagged]) == set(planted.OBVIOUS_ITEMS)
    assert (table.loc[list(planted.MISLABELLED_ITEMS), "Status"] == MISLABELLED).all()
    assert (table.loc[list(planted.OBVIOUS_ITEMS), "Status"] == TOO_EASY).all()
    assert (table["Status"].iloc[flagged:] == "Not flagged").all()
    assert table["Rank"].tolist() == list(range(1, len(table) + 1))
    assert all(" – " not in ci and "–" in ci for ci in table["95% CI"])  # every rate with its interval
    codes = [c.value for c in at.get("code")]
    assert sum(c.startswith("Check the key: ") for c in codes) == len(planted.MISLABELLED_ITEMS)
    assert sum(c.startswith("Too easy: ") for c in codes) == len(planted.OBVIOUS_ITEMS)
    assert {"items_csv"} <= {b.key for b in at.get("download_button")}
    assert {m.label: m.value for m in at.metric}[MISLABELLED] == str(len(planted.MISLABELLED_ITEMS))
    # The item map, the review list's intervals, auditor severity, auditor-to-auditor kappa.
    assert len(at.get("vega_lite_chart")) == 4


@needs_sample
def test_items_with_too_few_attempts_are_listed_apart_and_the_bar_moves(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    apart = thin(at)
    assert (apart["Status"] == "Too few attempts").all() and (apart["Attempts"] < planted.ITEM_MIN_ATTEMPTS).all()
    assert not set(apart.index) & set(ranked(at).index)
    judged = len(ranked(at))
    at.number_input(key="item_min_attempts").set_value(15).run()
    assert_clean(at)
    assert len(ranked(at)) > judged


@needs_sample
def test_the_planted_auditors_are_named_with_what_it_means_for_quality(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    said = lines(at)
    lenient = next(s for s in said if f"Auditor {planted.LENIENT_AUDITOR} fails" in s)
    strict = next(s for s in said if f"Auditor {planted.STRICT_AUDITOR} fails" in s)
    assert "less often than colleagues on the same work" in lenient and lenient.endswith("read high.")
    assert "more often than colleagues on the same work" in strict and strict.endswith("read low.")
    severity = frame_with(at, "Comparable audits").set_index("Auditor")
    assert severity.loc[planted.STRICT_AUDITOR, "Status"] == "Stricter than colleagues"
    assert severity.loc[planted.LENIENT_AUDITOR, "Status"] == "More lenient than colleagues"
    assert (severity["Status"] != "Not flagged").sum() == 2
    agreement = frame_with(at, "Cohen's κ")
    assert len(agreement) > 0 and agreement["95% CI"].str.startswith("95% CI").all()
    assert any("κ = " in m.value and "decisions: " in m.value for m in at.markdown)


@needs_sample
def test_a_stricter_false_discovery_rate_flags_no_more(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    before = (ranked(at)["Status"] == MISLABELLED).sum()
    at.selectbox(key="item_fdr").set_value(0.01).run()
    at.selectbox(key="auditor_fdr").set_value(0.01).run()
    assert_clean(at)
    assert (ranked(at)["Status"] == MISLABELLED).sum() <= before


def test_item_health_on_an_empty_database_says_so(empty_app: AppTest) -> None:
    at = open_page(empty_app, PAGE)
    infos = [i.value for i in at.info]
    assert any("No golden-set decisions with an item id" in i for i in infos)
    assert any("No QA audits with an auditor" in i for i in infos)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_filters_that_select_nothing_give_a_sentence(make_app, sample_db: Path) -> None:
    at = open_page(make_app(sample_db), PAGE, select_nothing=True)
    infos = [i.value for i in at.info]
    assert any("No golden-set decisions with an item id match these filters" in i for i in infos)
    assert any("No QA audits with an auditor" in i for i in infos)
    assert not at.get("vega_lite_chart")


@needs_sample
def test_without_presenter_mode_auditors_are_named_by_id(sample_app: AppTest) -> None:
    at = open_page(sample_app, PAGE)
    assert leaks(at, auditor_ids())  # the presenter check below would catch them


@needs_sample
def test_presenter_mode_shows_pseudonyms_and_no_names_or_ids(make_app, sample_db: Path) -> None:
    at = presenting(make_app, sample_db, PAGE)
    people = roster()
    secrets = auditor_ids() | set(people["trainee_id"]) | set(people["name"]) | set(people["trainer"].dropna())
    assert not leaks(at, secrets)
    assert not names_shown(at)
    text = shown_text(at)
    assert "Reviewer " in text and "Auditor Reviewer" not in text
    assert any(line.startswith("- Reviewer ") and "read high." in line for line in lines(at))
    assert len(at.get("vega_lite_chart")) == 4  # every auditor audited at least five moderators
