"""Load the bundled sample data (sample_data/exports/*.csv) into a store through the real importer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data_sources.rollups import rebuild_decision_daily
from data_sources.store import Store, bump_data_version

EXPORTS = Path(__file__).resolve().parent.parent / "sample_data" / "exports"


def load_sample(store: Store) -> None:
    # TEMPORARY loader until data_sources.imports lands: inserts the CSVs directly.
    con = store.cursor()
    for path in sorted(EXPORTS.glob("*.csv")):
        dataset = path.stem
        df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
        cols = [c for c in df.columns]
        con.register("incoming", df)
        col_sql = ", ".join(cols)
        con.execute(f"INSERT INTO {dataset} ({col_sql}, import_id) SELECT {col_sql}, 0 FROM incoming")
        con.unregister("incoming")
    rebuild_decision_daily(con)
    bump_data_version(con)
