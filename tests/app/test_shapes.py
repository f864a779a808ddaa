"""Every page on the shapes real exports come in, not only the bundled sample: QA audits only, golden set
only, one market, a cohort of two, a partial last week, no trainings. Normal and presenting.

Each store is the bundled sample reshaped as such an export would be, imported through the real importer.
On every page: no exception; no 'nan', 'None' or unrounded number in what people read; 'nothing flagged'
only where something was tested; and while presenting, no percentage about a group of two people.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_sources import sample
from data_sources.sample import load_sample
from data_sources.store import open_store
from tests.app.conftest import assert_clean, needs_sample
from ui import pages

Reshape = Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]
PAGES = [p.file for p in pages.PAGES if p.file != "views/data.py"]


def _only_decisions(source: str) -> Reshape:
    def reshape(d: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        return {**d, "decisions": d["decisions"][d["decisions"]["source"] == source]}

    return reshape


def _people(d: dict[str, pd.DataFrame], ids: set[str]) -> dict[str, pd.DataFrame]:
    """The datasets as an export covering only these trainees would hold them."""
    out = dict(d)
    for name in ("trainees", "decisions", "attendance", "assessments", "feedback"):
        out[name] = d[name][d[name]["trainee_id"].isin(ids)]
    out["calibration"] = d["calibration"][d["calibration"]["rater_id"].isin(ids)
                                          | (d["calibration"]["is_reference"] == "true")]
    out["trainings"] = d["trainings"][d["trainings"]["training_id"].isin(out["attendance"]["training_id"])]
    return out


def one_market(d: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return _people(d, set(d["trainees"].loc[d["trainees"]["market"] == "VN", "trainee_id"]))


def cohort_of_two(d: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    roster = d["trainees"]
    last = roster[roster["cohort"] == roster["cohort"].max()]
    return _people(d, set(last["trainee_id"].head(2)))


def partial_last_week(d: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {**d, "decisions": d["decisions"][d["decisions"]["date"] <= "2026-10-28"]}  # ends on a Wednesday


def no_trainings(d: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in d.items() if k not in ("trainings", "attendance", "feedback")}


SHAPES: dict[str, Reshape] = {
    "qa_only": _only_decisions("qa_audit"), "golden_only": _only_decisions("golden_set"),
    "one_market": one_market, "cohort_of_two": cohort_of_two, "partial_last_week": partial_last_week,
    "no_trainings": no_trainings,
}


@pytest.fixture(scope="module")
def shape_dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    exports = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sample.sample_files()}
    dbs = {}
    for name, reshape in SHAPES.items():
        folder = tmp_path_factory.mktemp(name)
        for dataset, frame in reshape(exports).items():
            frame.to_csv(folder / f"{dataset}.csv", index=False)
        db = folder / "uplift.duckdb"
        store = open_store(db)
        results = load_sample(store.cursor(), folder)
        store.close()
        assert all(r.ok for r in results), [r.message for r in results if not r.ok]
        dbs[name] = db
    return dbs


TEXT_ELEMENTS = ("markdown", "caption", "info", "warning", "success", "error", "subheader", "title", "code")
NOT_A_NUMBER = re.compile(r"\b(nan|NaN|None|NaT|inf)\b")
UNROUNDED = re.compile(r"\d\.\d{5,}")
NOTHING_FLAGGED = re.compile(r"\b[Nn]o\b[^.]*\bflagged\b[^.]*")


def read_text(at: AppTest) -> list[str]:
    """What a person reads: every text element, metric and alert, but not table cells or chart data."""
    texts = [str(e.value) for kind in TEXT_ELEMENTS for e in at.get(kind)]
    texts += [f"{m.label} {m.value} {m.proto.help}" for m in at.metric]
    return texts


def check_page(at: AppTest, where: str) -> None:
    assert_clean(at)
    for text in read_text(at):
        assert not NOT_A_NUMBER.search(text), f"{where}: {text!r}"
        assert not UNROUNDED.search(text), f"{where}: {text!r}"
        for claim in NOTHING_FLAGGED.findall(text):
            assert "tested" in claim, f"{where}: 'nothing flagged' without saying what was tested: {text!r}"


@needs_sample
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("present", [False, True], ids=["normal", "presenting"])
def test_every_page_reads_right_on_this_shape(make_app, shape_dbs, shape: str, present: bool) -> None:
    at = make_app(shape_dbs[shape], **({"present": "1"} if present else {}))
    at.run()
    for page in PAGES:
        at.switch_page(page).run()
        check_page(at, f"{shape} {page} {'presenting' if present else ''}")
        if present and shape == "cohort_of_two" and page != "views/trainee.py":
            # Every group figure here is about two people: none may be on a shared screen.
            shown = [m.value for m in at.metric if "%" in str(m.value)]
            assert not shown, f"{page}: {shown}"
            cells = [v for f in at.dataframe for v in f.value.astype(str).to_numpy().ravel() if "%" in v]
            assert not cells, f"{page}: {cells[:5]}"


@needs_sample
def test_qa_only_leads_with_quality_and_never_says_no_accuracy_means_no_weak_spot(make_app, shape_dbs) -> None:
    at = make_app(shape_dbs["qa_only"])
    at.run()
    at.switch_page("views/overview.py").run()
    assert_clean(at)
    assert at.metric[0].label == "Quality"
    assert any("Weekly quality" in s.value for s in at.subheader)
    at.switch_page("views/weak_spots.py").run()
    assert at.segmented_control(key="measure_source").value == "qa_audit"


@needs_sample
def test_one_market_is_still_compared_with_the_others(make_app, sample_db) -> None:
    at = make_app(sample_db, markets="VN")
    at.run()
    at.switch_page("views/weak_spots.py").run()
    assert_clean(at)
    ranked = [f.value for f in at.dataframe if "Rank" in f.value.columns]
    assert ranked and set(ranked[0]["Market"]) == {"VN"} and ranked[0]["Policy elsewhere"].notna().all()
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "NaN" not in spec
