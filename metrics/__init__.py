"""Honest training analytics: pure functions over a DuckDB connection and a `Filters` value.

No Streamlit here: pages cache the results at their boundary, keyed on the store's data version.
"""
