"""Small stores for the training-effect pages, built through the real importer from generated CSVs: one
refresher whose audience is each accepted value or not recorded, with QA audits, golden-set checks or both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from data_sources.imports import import_path
from data_sources.store import open_store

SESSION = dt.date(2026, 5, 11)  # a Monday
TRAINING_ID = "T-REF"
ATTENDEES = 20
TRAINEES = 40
EFFECT = 0.08  # attendees' rate from the session on


def _frames(audience: str | None, sources: Sequence[str], seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"P{i:02d}" for i in range(TRAINEES)]
    trainees = pd.DataFrame({"trainee_id": ids, "market": "TH", "name": [f"Person {i:02d}" for i in range(TRAINEES)],
                             "cohort": "2026-01", "start_date": "2026-01-05"})
    training = {"training_id": TRAINING_ID, "date": SESSION.isoformat(), "kind": "refresher",
                "title": "Hate Speech refresher", "policy": "Hate Speech", "market": "TH"}
    trainings = pd.DataFrame([training | ({"audience": audience} if audience else {})])
    attendance = pd.DataFrame({"training_id": TRAINING_ID, "trainee_id": ids[:ATTENDEES], "attended": "yes"})
    ability = 0.8 + rng.normal(0, 0.04, TRAINEES)
    rows = []
    for day in range(-35, 21):
        date = (SESSION + dt.timedelta(days=day)).isoformat()
        for i, trainee in enumerate(ids):
            p = ability[i] + (EFFECT if i < ATTENDEES and day >= 0 else 0.0)
            for source in sources:
                rows.append((trainee, date, "Hate Speech", 3, int(rng.binomial(3, min(p, 0.99))), source))
    counts = pd.DataFrame(rows, columns=["trainee_id", "date", "policy", "reviewed", "correct", "source"])
    return {"trainees": trainees, "trainings": trainings, "attendance": attendance, "decision_counts": counts}


def effect_store(path: Path, *, audience: str | None = None, sources: Sequence[str] = ("qa_audit", "golden_set"),
                 seed: int = 3) -> Path:
    """A DuckDB file at `path`: 40 TH trainees, the refresher TRAINING_ID on SESSION attended by the first 20
    (its `audience` column absent when None), 3 reviews a day per trainee and source from five weeks before
    to three weeks after; attendees' rate is EFFECT higher from the session on."""
    folder = path.parent / f"{path.stem}_csv"
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(path)
    try:
        for name, frame in _frames(audience, sources, seed).items():
            csv = folder / f"{name}.csv"
            frame.to_csv(csv, index=False)
            (result,) = import_path(store.cursor(), csv, dataset=name)
            assert result.status == "imported", result.message
    finally:
        store.close()
    return path
