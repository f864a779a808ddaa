"""An analyst uploads a file on the Data page in a real browser and finds it in the import history."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app


def import_on_the_data_page(page, url: str, export: Path, ready: str) -> None:
    """Upload a roster file on the Data page, wait for its rows to be `ready`, import it."""
    page.goto(f"{url}/data")
    wait_for_app(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(export))
    page.get_by_text(ready).wait_for()
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("imported as trainees").wait_for()


def test_upload_a_file_and_find_it_in_the_history(server, page, tmp_path: Path):
    export = tmp_path / "new_hires_batch9.csv"
    export.write_text("Agent ID,Market,Name,Hire Date\nB9001,TH,กมล ศรีสุข,2026-11-02\nB9002,JP,佐藤 花子,2026-11-02\n",
                      encoding="utf-8")
    import_on_the_data_page(page, server.url, export, "2 ready")
    page.get_by_role("tab", name="Import history").click()
    history = page.locator("[data-testid='stDataFrame']").filter(has_text="new_hires_batch9.csv")
    history.first.wait_for()
    assert_no_exception(page)
    screenshot(page, "data-upload")


def test_a_file_over_the_upload_limit_is_refused_with_a_message(page, tmp_path: Path):
    # The limit is 300 MB in .streamlit/config.toml; a server started with 1 MB shows the same path cheaply.
    from tests.browser.conftest import start_server

    server = start_server(tmp_path / "u.duckdb", tmp_path / "server.log", "--server.maxUploadSize", "1")
    try:
        big = tmp_path / "decisions.csv"
        big.write_text("trainee_id,date,policy,correct\n" + "T1,2026-04-01,Hate Speech,1\n" * 60_000)
        page.goto(f"{server.url}/data")
        wait_for_app(page)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(big))
        page.get_by_text("File must be 1.0MB or smaller").wait_for(timeout=30_000)
        assert_no_exception(page)
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


def test_an_import_on_the_data_page_warms_the_figures_people_looked_at(server, page, tmp_path: Path):
    page.goto(f"{server.url}/overview")
    wait_for_app(page)
    page.get_by_text("Overview").first.wait_for()
    assert_no_exception(page)
    export = tmp_path / "roster_addendum.csv"
    export.write_text("trainee_id,market,start_date\nW9001,TH,2026-11-09\n", encoding="utf-8")
    import_on_the_data_page(page, server.url, export, "1 ready")
    deadline = time.monotonic() + 60
    while "figures ready for data version" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    log = server.log.read_text()
    ready = re.findall(r"warm-up: (\d+) figures ready", log)
    assert ready and int(ready[-1]) > 0, log[-2000:]
    assert "missing ScriptRunContext" not in log and "Traceback" not in log, log[-2000:]
    page.goto(f"{server.url}/overview")
    wait_for_app(page)
    assert_no_exception(page)
