"""Home: what is loaded, from when, and where to go next."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_sources.log import dataset_counts, history
from data_sources.sample import SampleState, sample_state
from ui import nav, presenter, show
from ui.cache import measure


def empty_store() -> None:
    st.info(
        "The database is empty. Load the bundled sample data with `uplift sample` (or `make run`), or bring "
        "your own exports on the **Data** page."
    )
    nav.link("views/data.py", "Go to the Data page", ":material/upload_file:")


def loaded(counts: pd.DataFrame) -> None:
    left, mid, right = st.columns(3)
    by_dataset = counts.set_index("dataset")
    # "rollups": decisions summed up in a rollup folder (`uplift rollup`), whose raw rows are not in the store.
    reviewed = int(by_dataset["rows"].reindex(["decisions", "decision_counts", "rollups"], fill_value=0).sum())
    left.metric("Decision rows", f"{reviewed:,}")
    mid.metric("Trainees on the roster", f"{int(by_dataset.loc['trainees', 'rows']):,}")
    right.metric("Trainings", f"{int(by_dataset.loc['trainings', 'rows']):,}")
    st.subheader("What is loaded")
    show.table(counts.assign(first_date=counts["first_date"].astype("string").fillna("—"),
                             last_date=counts["last_date"].astype("string").fillna("—")), key="home_counts")


def last_import(log: pd.DataFrame) -> None:
    active = log[log["status"] == "active"]
    if active.empty:
        return
    last = active.iloc[0]
    who = presenter.person(last["imported_by"], "User")
    st.caption(show.esc(
        f"Last import: #{last['import_id']} {last['dataset']} from {last['source']} "
        f"on {last['imported_at']:%Y-%m-%d %H:%M} by {who} ({last['rows_added']:,} rows added). "
        f"{len(active)} imports active."
    ))


def sample_banner(state: SampleState) -> None:
    """While the bundled sample is loaded: say so, and how to take it out."""
    how = ("Take it out with **Remove the sample data** on the Data page (or `uplift sample --remove`); your "
           "own imports stay.")
    if state.only_sample:
        st.warning(
            "**Sample data.** Everything shown comes from the bundled, generated sample operation, not from real "
            f"people. Import your own exports on the Data page. {how}",
            icon=":material/science:",
        )
    elif state.loaded:
        st.warning(f"**The sample data is still loaded beside your own imports**, so figures mix generated and "
                   f"real people. {how}", icon=":material/science:")


def main() -> None:
    st.title("Uplift")
    st.caption("Does training work, where is knowledge weak, and who needs coaching: with the uncertainty shown.")
    counts = measure(dataset_counts)
    if counts["rows"].sum() == 0:
        empty_store()
        return
    sample_banner(measure(sample_state))
    loaded(counts)
    last_import(measure(history))


main()
