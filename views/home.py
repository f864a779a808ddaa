"""Home: what is loaded, from when, and where to go next."""

from __future__ import annotations

import streamlit as st

from data_sources.imports import dataset_counts, history
from data_sources.sample import is_sample_loaded
from ui import nav, presenter
from ui.state import measure

st.title("Uplift")
st.caption("Does training work, where is knowledge weak, and who needs coaching: with the uncertainty shown.")

counts = measure(dataset_counts)
log = measure(history)

if counts["rows"].sum() == 0:
    st.info(
        "The database is empty. Load the bundled sample data with `uplift sample` (or `make run`), or bring "
        "your own exports on the **Data** page."
    )
    nav.link("views/data.py", "Go to the Data page", ":material/upload_file:")
    st.stop()

if measure(is_sample_loaded):
    st.warning(
        "**Sample data.** Everything shown comes from the bundled, generated sample operation, not from real "
        "people. Import your own exports on the Data page.",
        icon=":material/science:",
    )

left, mid, right = st.columns(3)
decisions = counts.set_index("dataset")
# "rollups": decisions summed up in a rollup folder (`uplift rollup`), whose raw rows are not in the store.
reviewed = int(decisions["rows"].reindex(["decisions", "decision_counts", "rollups"], fill_value=0).sum())
left.metric("Decision rows", f"{reviewed:,}")
mid.metric("Trainees on the roster", f"{int(decisions.loc['trainees', 'rows']):,}")
right.metric("Trainings", f"{int(decisions.loc['trainings', 'rows']):,}")

st.subheader("What is loaded")
shown = counts.assign(
    first_date=counts["first_date"].astype("string").fillna("—"),
    last_date=counts["last_date"].astype("string").fillna("—"),
)
st.dataframe(shown, hide_index=True, width="stretch", key="home_counts")

active = log[log["status"] == "active"]
if not active.empty:
    last = active.iloc[0]
    who = presenter.person(last["imported_by"], "User")
    st.caption(
        f"Last import: #{last['import_id']} {last['dataset']} from {last['source']} "
        f"on {last['imported_at']:%Y-%m-%d %H:%M} by {who} ({last['rows_added']:,} rows added). "
        f"{len(active)} imports active."
    )
