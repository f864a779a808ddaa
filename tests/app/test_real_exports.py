"""Real exports as analysts bring them, imported through the command line or the Data page, then read on
the pages with AppTest: an undated calibration round, a severity scale with `NA` ratings and unequal
raters per item, an LMS export without training ids, and the Data page's flow (several files in one
click, undo, the sample data out)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data_sources import sample
from data_sources.label_order import saved_order
from data_sources.store import open_store
from metrics import calibration as cal
from metrics import words
from tests.app.conftest import assert_clean, frame_with, needs_sample, open_page, shown_text

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ["none", "mild", "moderate", "severe"]


def uplift(db: Path, *args: str) -> str:
    """`uplift` in a process of its own, as an analyst runs it; its output."""
    done = subprocess.run([sys.executable, "-m", "cli", "--db", str(db), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def severity_export(rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """A 4-level severity round: 40 items, each rated by 2 to 6 of 6 raters, a few ratings `NA`. Returns the
    CSV and the raters x items matrix of level positions (nan: not rated or NA)."""
    raters, items = 6, 40
    truth = rng.integers(0, 4, items)
    matrix = np.full((raters, items), np.nan)
    lines = ["Round,Example ID,Annotator,Severity,Round Date"]
    for item in range(items):
        for rater in sorted(rng.choice(raters, size=int(rng.integers(2, raters + 1)), replace=False)):
            if rng.random() < 0.07:
                lines.append(f"SEV-1,ex{item:02d},coder{rater},NA,")
                continue
            level = int(np.clip(truth[item] + rng.choice([-1, 0, 0, 0, 1]), 0, 3))
            matrix[rater, item] = level
            lines.append(f"SEV-1,ex{item:02d},coder{rater},{LEVELS[level]},")
    return "\n".join(lines) + "\n", matrix


def test_a_severity_scale_with_NA_is_ordinal_on_the_calibration_page_and_matches_krippendorff(
    make_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    """Krippendorff's ordinal alpha on the page equals the `krippendorff` package's (Castro 2017) on the same
    ratings to 1e-9; NA ratings are missing, not a fifth level; the round has no date."""
    text, matrix = severity_export(np.random.default_rng(15))
    export = tmp_path / "severity.csv"
    export.write_text(text)
    db = tmp_path / "sev.duckdb"
    out = uplift(db, "import", str(export), "--label-order", ",".join(LEVELS))
    assert "skipped as missing" in out and "saved the order of calibration labels" in out
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal", value_domain=[0, 1, 2, 3])

    store = open_store(db)
    con = store.cursor()
    assert con.execute("SELECT count(DISTINCT label) FROM calibration").fetchone() == (4,)  # NA is no label
    sa = cal.session_agreement(con, "SEV-1", order=saved_order(con))
    store.close()
    assert sa.level.level == "ordinal"
    assert sa.alpha.estimate == pytest.approx(expected, abs=1e-9)

    at = open_page(make_app(db), "views/calibration.py")
    assert any("Labels: ordinal" in e.label for e in at.expander)
    [metric] = [m for m in at.metric if m.label.startswith("Agreement beyond chance")]
    assert metric.label == "Agreement beyond chance (α, ordinal)"
    assert metric.value == words.signed(expected)
    assert at.selectbox(key="session").options[0].startswith("undated")


def test_an_undated_calibration_export_lists_every_session_as_undated(
    make_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    rows = ["session_id,item_id,rater_id,label"]
    rows += [f"ROUND-{s},i{i},r{r},{'yes' if (i + r + s) % 3 else 'no'}" for s in (1, 2, 3) for i in range(6)
             for r in range(4)]
    export = tmp_path / "undated.csv"
    export.write_text("\n".join(rows) + "\n")
    db = tmp_path / "undated.duckdb"
    uplift(db, "import", str(export))
    at = open_page(make_app(db), "views/calibration.py")
    options = at.selectbox(key="session").options
    assert sorted(o.rsplit(" · ", 1)[-1] for o in options) == ["ROUND-1", "ROUND-2", "ROUND-3"]
    assert all(o.startswith("undated") for o in options)
    assert any("3 undated sessions" in c.value for c in at.caption)


# ---- an LMS export ----------------------------------------------------------------------------------------

def lms_exports(folder: Path) -> pd.DataFrame:
    """A roster and an LMS attempts export as an LMS writes them: learner ids, titles and types in its own
    words, certification attempts (some passing only at the second or third), and pre/post tests with no
    training id, paired by policy. Returns the pre/post pairs written, for the expected gain."""
    rng = np.random.default_rng(7)
    learners = [f"L{i:03d}" for i in range(1, 17)]
    roster = ["Learner ID,Market,Hire Date,Hire Class"]
    roster += [f"{lid},{'TH' if i % 2 else 'VN'},2026-03-02,{'2026-03 A' if i < 8 else '2026-03 B'}"
               for i, lid in enumerate(learners)]
    (folder / "roster.csv").write_text("\n".join(roster) + "\n")
    lines = ["Learner ID,Assessment Title,Assessment Type,Attempt Number,Score,Max Points,Passing Score,"
             "Completion Date,Policy"]
    pairs = []
    for i, lid in enumerate(learners):
        pre, post = int(rng.integers(40, 70)), int(rng.integers(60, 95))
        pairs.append((pre, post))
        lines.append(f"{lid},Hate Speech pre-test,Pre-Test,1,{pre},100,,2026-03-03,Hate Speech")
        lines.append(f"{lid},Hate Speech post-test,Post-Test,1,{post},100,,2026-03-20,Hate Speech")
        for attempt in range(1, 1 + (i % 3) + 1):  # one, two or three attempts; the last one passes
            score = 85 if attempt == (i % 3) + 1 else 60
            day = dt.date(2026, 4, 1) + dt.timedelta(days=7 * attempt)
            lines.append(f"{lid},Policy certification,Certification Exam,{attempt},{score},100,80,{day},Hate Speech")
    (folder / "lms.csv").write_text("\n".join(lines) + "\n")
    return pd.DataFrame(pairs, columns=["pre", "post"])


def test_an_lms_export_without_training_ids_shows_on_tests_and_certification(
    make_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    pairs = lms_exports(tmp_path)
    db = tmp_path / "lms.duckdb"
    out = uplift(db, "import", str(tmp_path / "roster.csv"), str(tmp_path / "lms.csv"))
    assert "imported as trainees" in out and "imported as assessments" in out
    at = open_page(make_app(db), "views/assessments.py")
    gain = next(m for m in at.metric if m.label.startswith("Score gain"))
    assert gain.value == f"{(pairs['post'] - pairs['pre']).mean():+.1f} points"
    assert "n=16 trainees" in shown_text(at)
    table = frame_with(at, "passed at the first attempt")
    assert list(table["Cohort (hire class)"]) == ["2026-03 A", "2026-03 B"]
    assert list(table["trainees"]) == [8, 8]
    # Learners 0, 3, 6 (cohort A) and 9, 12, 15 (cohort B) pass at their first attempt.
    assert table["passed at the first attempt"].str.startswith("37.5% (95% CI").all()  # 3 of 8
    assert table["passed in the end"].str.startswith("100.0% (95% CI").all()


# ---- the Data page ----------------------------------------------------------------------------------------

ROSTER = "Agent ID,Market,Start Date\nA1,TH,2026-04-01\nA2,VN,2026-04-01\n"
QA = "Agent ID,QA Date,Policy,Moderator Decision,Expected Decision\n" + "".join(
    f"A{1 + i % 2},2026-05-{1 + i:02d},Spam,{'remove' if i % 3 else 'approve'},remove\n" for i in range(10))
LATER = "Agent ID,QA Date,Policy,Result\nA1,2026-06-30,Spam,Pass\n"


def data_page(at: AppTest) -> AppTest:
    return open_page(at, "views/data.py")


def test_two_files_import_with_one_click_and_both_results_stay_listed_and_dates_follow(
    make_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    at = data_page(make_app(tmp_path / "flow.duckdb"))
    at.get("file_uploader")[0].set_value([("roster.csv", ROSTER.encode(), "text/csv"),
                                          ("qa.csv", QA.encode(), "text/csv")]).run()
    assert_clean(at)
    assert [b.label for b in at.button if b.key == "import_all"] == ["Import all 2"]
    at.button(key="import_all").click().run()
    assert_clean(at)
    done = [s.value for s in at.success]
    assert any("roster.csv: imported as trainees (import #1): 2 added" in s for s in done), done
    assert any("qa.csv: imported as decisions (import #2): 10 added" in s for s in done), done
    assert not [b for b in at.button if b.key == "import_all"]  # nothing left to import
    # The sidebar's dates span the new data at once.
    assert (at.date_input(key="from").value, at.date_input(key="to").value) == (
        dt.date(2026, 5, 1), dt.date(2026, 5, 10))
    at.get("file_uploader")[0].set_value([("roster.csv", ROSTER.encode(), "text/csv"),
                                          ("qa.csv", QA.encode(), "text/csv"),
                                          ("later.csv", LATER.encode(), "text/csv")]).run()
    at.button(key="import_all").click().run()
    assert_clean(at)
    assert len([s for s in at.success if "imported as" in s.value]) == 3  # every file's result listed
    assert at.date_input(key="to").value == dt.date(2026, 6, 30)
    at.switch_page("views/weak_spots.py").run()
    assert_clean(at)
    assert at.date_input(key="to").value == dt.date(2026, 6, 30)


def test_undo_picks_nothing_and_the_history_follows_it(make_app: Callable[..., AppTest], tmp_path: Path) -> None:
    at = data_page(make_app(tmp_path / "undo.duckdb"))
    at.get("file_uploader")[0].set_value([("roster.csv", ROSTER.encode(), "text/csv"),
                                          ("qa.csv", QA.encode(), "text/csv")]).run()
    at.button(key="import_all").click().run()
    picker = at.selectbox(key="undo_pick")
    assert picker.value is None and at.button(key="undo_button").disabled
    picker.set_value(2).run()
    at.button(key="undo_button").click().run()
    assert_clean(at)
    assert any("import #2 (qa.csv) undone: 10 rows removed" in s.value for s in at.success)
    history = frame_with(at, "import_id").set_index("import_id")
    assert history.loc[2, "status"] == "undone" and history.loc[1, "status"] == "active"
    assert at.selectbox(key="undo_pick").value is None
    assert at.selectbox(key="undo_pick").options == ["#1 trainees from roster.csv"]


def test_a_calibration_preview_counts_missing_labels_and_names_their_level(
    make_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    text, _matrix = severity_export(np.random.default_rng(3))
    at = data_page(make_app(tmp_path / "prev.duckdb"))
    at.get("file_uploader")[0].set_value(("severity.csv", text.encode(), "text/csv")).run()
    assert_clean(at)
    missing = text.count(",NA,")
    captions = [c.value for c in at.caption]
    assert any(f"{missing} labels are missing (ratings not given: skipped)" in c for c in captions), captions
    assert any("**nominal**" in c for c in captions)
    [link] = at.get("page_link")
    assert link.proto.page == "calibration" and "Set their order on the Calibration page" in link.proto.label


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    path = tmp_path / "sample.duckdb"
    store = open_store(path)
    assert all(r.ok for r in sample.load_sample(store.cursor()))
    store.close()
    return path


@needs_sample
def test_the_sample_data_is_removed_in_one_click_and_home_says_how(
    make_app: Callable[..., AppTest], sample_copy: Path
) -> None:
    at = make_app(sample_copy).run()
    banner = next(w.value for w in at.warning if "Sample data" in w.value)
    assert "Remove the sample data" in banner and "uplift sample --remove" in banner
    at.switch_page("views/data.py").run()
    at.button(key="remove_sample").click().run()
    assert_clean(at)
    assert any("Sample data removed: 7 imports undone" in s.value for s in at.success)
    assert not [b for b in at.button if b.key == "remove_sample"]
    at.switch_page("views/home.py").run()
    assert any("database is empty" in i.value for i in at.info)


def test_a_mapping_remembered_on_the_data_page_gets_a_name_for_the_command_line(
    make_app: Callable[..., AppTest], tmp_path: Path
) -> None:
    db = tmp_path / "names.duckdb"
    at = data_page(make_app(db))
    at.get("file_uploader")[0].set_value([("roster.csv", ROSTER.encode(), "text/csv"),
                                          ("qa.csv", QA.encode(), "text/csv")]).run()
    at.checkbox(key="up0_0_save").check().run()
    at.text_input(key="up0_0_name").input("HR roster").run()
    at.checkbox(key="up1_0_save").check().run()  # remembered without a name
    at.button(key="import_all").click().run()
    assert_clean(at)
    names = frame_with(at, "columns")
    assert sorted(names["name"]) == ["(no name)", "HR roster"]
    at.selectbox(key="name_pick").select_index(0).run()
    at.text_input(key="mapping_name").input("vendor QA").run()
    at.button(key="name_mapping").click().run()
    assert_clean(at)
    assert sorted(frame_with(at, "columns")["name"]) == ["HR roster", "vendor QA"]
    table = frame_with(at, "columns").set_index("name")
    assert table.loc["HR roster", "columns"] == "agent id → trainee_id, market → market, start date → start_date"
    assert table.loc["vendor QA", "dataset"] == "decisions"
