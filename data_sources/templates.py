"""Downloadable CSV templates and the contract's table for people, both made from `contract.py`."""

from __future__ import annotations

import csv
import io

from data_sources.contract import DATASETS

EXAMPLES: dict[str, dict[str, str]] = {
    "trainees": {"trainee_id": "T0001", "market": "TH", "name": "Somchai P.", "cohort": "2026-03",
                 "start_date": "2026-03-02", "language": "Thai", "site": "Bangkok", "team": "TH-1",
                 "project": "Short Video", "trainer": "Anan K.", "status": "active"},
    "trainings": {"training_id": "TR-0101", "date": "2026-04-14", "kind": "refresher",
                  "title": "Hate Speech refresher", "policy": "Hate Speech", "market": "TH",
                  "project": "Short Video", "trainer": "Anan K.", "duration_hours": "1.5", "delivery": "virtual",
                  "audience": "assigned"},
    "attendance": {"training_id": "TR-0101", "trainee_id": "T0001", "attended": "yes"},
    "decisions": {"decision_id": "QA-000001", "trainee_id": "T0001", "date": "2026-04-15",
                  "policy": "Hate Speech", "correct": "Pass", "source": "golden_set", "item_id": "V-88213",
                  "given_label": "violating", "expected_label": "violating", "reviewer_id": "QA07",
                  "error_type": "", "market": "TH", "project": "Short Video"},
    "decision_counts": {"trainee_id": "T0001", "date": "2026-04-13", "policy": "Hate Speech", "reviewed": "120",
                        "correct": "109", "accuracy": "", "source": "qa_audit"},
    "assessments": {"trainee_id": "T0001", "date": "2026-04-14", "assessment": "Hate Speech post-test",
                    "score": "86", "max_score": "100", "pass_mark": "80", "kind": "post_test",
                    "policy": "Hate Speech", "attempt": "1", "training_id": "TR-0101"},
    "calibration": {"session_id": "CAL-07", "item_id": "V-1201", "rater_id": "T0001", "label": "violating",
                    "date": "2026-05-06", "policy": "Hate Speech", "market": "TH", "is_reference": "no",
                    "comment": ""},
    "feedback": {"training_id": "TR-0101", "trainee_id": "T0001", "rating": "4", "comment": "Clear examples"},
}
assert set(EXAMPLES) == set(DATASETS)


def template_csv(dataset: str) -> str:
    ds = DATASETS[dataset]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ds.column_names)
    writer.writerow([EXAMPLES[dataset].get(c, "") for c in ds.column_names])
    return out.getvalue()


def dataset_docs() -> list[dict[str, str]]:
    rows = []
    for ds in DATASETS.values():
        required = [*list(ds.required), " or ".join(" + ".join(a) for a in ds.one_of)] if ds.one_of else list(ds.required)
        optional = [c for c in ds.column_names if c not in required and not any(c in a for a in ds.one_of)]
        rows.append({
            "dataset": ds.name, "one row is": ds.one_row_is, "required": ", ".join(required),
            "optional": ", ".join(optional),
            "re-import replaces by": ", ".join(ds.key) + (" (else the whole row)" if ds.name == "decisions" else ""),
            "values": "; ".join(f"{c.name}: {c.rule}" for c in ds.columns if c.rule),
        })
    return rows
