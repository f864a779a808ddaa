"""The presenter rule, tested once: every page, the report and every download call these."""

from __future__ import annotations

import pandas as pd

from access import privacy


def test_only_groups_of_one_to_four_people_are_too_few_and_only_while_presenting() -> None:
    assert [privacy.too_few(n, presenting=True) for n in (0, 1, 4, 5, 50)] == [False, True, True, False, False]
    assert not privacy.too_few(1, presenting=False)
    assert privacy.too_few(None, presenting=True)  # an unknown count is not assumed to be large


def test_keep_groups_drops_small_rows_and_says_how_many() -> None:
    frame = pd.DataFrame({"session": ["a", "b", "c"], "raters": [3, 8, 5]})
    kept = privacy.keep_groups(frame, "raters", presenting=True)
    assert kept.frame["session"].tolist() == ["b", "c"] and kept.hidden == 1
    assert kept.note("session") == "1 session with fewer than 5 people is not shown while presenting."
    everything = privacy.keep_groups(frame, "raters", presenting=False)
    assert everything.hidden == 0 and len(everything.frame) == 3 and everything.note() == ""


def test_blank_small_hides_the_figure_but_keeps_the_row() -> None:
    frame = pd.DataFrame({"title": ["big", "small"], "attendees": [40, 2], "effect": ["+3.0 points", "+9.0 points"]})
    shown = privacy.blank_small(frame, "attendees", ["effect"], presenting=True)
    assert shown["effect"].tolist() == ["+3.0 points", privacy.HIDDEN] and shown["title"].tolist() == ["big", "small"]
    assert privacy.blank_small(frame, "attendees", ["effect"], presenting=False) is frame


def test_group_sizes_count_who_shares_the_shown_attributes() -> None:
    people = pd.DataFrame({"market": ["TH", "TH", "VN", None], "cohort": ["c1", "c1", "c1", "c1"]})
    assert privacy.group_sizes(people, ["market"]).tolist() == [2, 2, 1, 1]
    assert privacy.group_sizes(people, ["market", "cohort"]).tolist() == [2, 2, 1, 1]
