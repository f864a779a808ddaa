"""Home and Data pages, driven with AppTest against a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

from tests.app.conftest import assert_clean, frame_with, leaks

ROSTER = "Agent ID,Market,Name\nN1,TH,สมหญิง\nN2,VN,Trần Văn Bình\n"


def test_home_shows_what_is_loaded_and_the_sample_banner(sample_app):
    at = sample_app.run()
    assert_clean(at)
    assert any("Sample data" in w.value for w in at.warning)
    table = frame_with(at, "dataset")
    assert set(table["dataset"]) >= {"trainees", "decisions", "trainings", "calibration"}
    assert int(table.set_index("dataset").loc["decisions", "rows"]) > 1000
    assert any("Last import" in c.value for c in at.caption)


def test_home_on_an_empty_database_says_how_to_start(empty_app):
    at = empty_app.run()
    assert_clean(at)
    assert any("database is empty" in i.value for i in at.info)


def test_data_page_previews_imports_and_undoes_an_upload(make_app, tmp_path: Path):
    at = make_app(tmp_path / "d.duckdb")
    at.run()
    at.switch_page("views/data.py").run()
    assert_clean(at)
    at.get("file_uploader")[0].set_value(("roster.csv", ROSTER.encode(), "text/csv")).run()
    assert_clean(at)
    assert at.selectbox(key="up0_0_dataset").value == "trainees"
    assert any("2 ready" in m.value for m in at.markdown)
    at.button(key="import_all").click().run()
    assert_clean(at)
    assert any("imported as trainees (import #1): 2 added" in s.value for s in at.success)
    history = frame_with(at, "import_id")
    assert history.iloc[0]["source"] == "roster.csv" and history.iloc[0]["rows_added"] == 2
    at.selectbox(key="undo_pick").set_value(1).run()
    at.button(key="undo_button").click().run()
    assert any("undone: 2 rows removed" in s.value for s in at.success)


def test_data_page_shows_rejected_rows_before_importing(make_app, tmp_path: Path):
    at = make_app(tmp_path / "d.duckdb")
    at.run()
    at.switch_page("views/data.py").run()
    bad = "trainee_id,date,policy,correct\nT1,2026-04-01,Hate Speech,Pass\nT1,31/02/2026,Hate Speech,Pass\n"
    at.get("file_uploader")[0].set_value(("qa.csv", bad.encode(), "text/csv")).run()
    assert_clean(at)
    rejects = frame_with(at, "reason")
    assert rejects.iloc[0]["row"] == 3 and "is not a date" in rejects.iloc[0]["reason"]
    at.button(key="import_all").click().run()
    assert any("Nothing was imported" in e.value and "Import the good rows" in e.value for e in at.error)


def test_data_page_names_a_file_that_is_not_a_table(make_app, tmp_path: Path):
    at = make_app(tmp_path / "d.duckdb")
    at.run()
    at.switch_page("views/data.py").run()
    at.get("file_uploader")[0].set_value(("blob.csv", bytes(range(256)) * 20, "text/csv")).run()
    assert_clean(at)
    assert any("blob.csv is not a text table" in e.value for e in at.error)


def test_templates_are_offered_for_every_dataset(sample_app):
    at = sample_app.run()
    at.switch_page("views/data.py").run()
    assert_clean(at)
    keys = {b.key for b in at.get("download_button")}
    assert {f"template_{n}" for n in ("trainees", "decisions", "calibration", "feedback")} <= keys


def test_a_corrupt_database_gets_a_clear_message_and_a_way_back(make_app, tmp_path: Path):
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database" * 500)
    at = make_app(broken).run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "could not be opened as an Uplift database" in message and "uplift restore" in message


def test_the_leak_check_sees_a_name_in_a_table_cell(make_app, tmp_path: Path):
    """The presenter-mode checks search what pages send; a name inside a table must be found (tables travel
    as Arrow bytes, not text), or every 'names no one' test could pass without looking."""
    at = make_app(tmp_path / "leak.duckdb")
    at.run()
    at.switch_page("views/data.py").run()
    planted = "Zyxwvuts Plantedname ภาษาไทย"
    at.get("file_uploader")[0].set_value(("roster.csv", f"trainee_id,market,name\nT1,TH,{planted}\n".encode(),
                                          "text/csv")).run()
    assert_clean(at)
    assert any(planted in str(v) for f in at.dataframe for v in f.value.to_numpy().ravel()), "shown in the preview"
    assert leaks(at, {planted}) == {planted}
