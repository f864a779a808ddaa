"""Honest training analytics: pure functions over a DuckDB connection and a `Filters` value.

One argument convention across the package: a difference is always `second - first`, and where the
roles have names the arguments carry them (`before`, `after`: the result is after - before; `first`,
`second`: second - first). Results are frozen dataclasses with named fields (an `Interval` for every
estimate); degenerate inputs give nan with a reason rather than an exception.

No Streamlit here: pages cache the results at their boundary, keyed on the store's data version.
"""
