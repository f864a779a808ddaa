"""The cache boundary: pure functions of measure results computed once for the same figures."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.cache import derived


def test_derived_computes_the_same_figures_once_and_new_figures_again() -> None:
    calls: list[int] = []

    def total(frame: pd.DataFrame, *, times: int) -> int:
        calls.append(1)
        return int(frame["x"].sum()) * times

    st.cache_data.clear()
    frame = pd.DataFrame({"x": [1, 2]})
    assert derived(total, frame, times=2) == 6
    assert derived(total, frame.copy(), times=2) == 6  # equal values, another object: from the cache
    assert len(calls) == 1
    assert derived(total, pd.DataFrame({"x": [1, 3]}), times=2) == 8
    assert derived(total, frame, times=3) == 9
    assert len(calls) == 3
