"""Every page in a real browser: no exception, the heatmap drill-down by click, and presenter mode that
shows no roster name anywhere on any page."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from ui.pages import PAGES as REGISTRY

ROOT = Path(__file__).resolve().parents[2]

PAGES = {p.url_path or "home": p.url_path for p in REGISTRY}


def roster() -> tuple[set[str], set[str]]:
    with open(ROOT / "sample_data" / "exports" / "trainees.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {r["name"] for r in rows if r["name"]}, {r["trainee_id"] for r in rows}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_draws_without_exception(server, page: Page, name: str):
    page.goto(f"{server.url}/{PAGES[name]}")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("[data-testid='stSidebar']").count() == 1
    screenshot(page, f"page-{name}")


def hover_until(page: Page, box: dict[str, float], want: tuple[str, ...]) -> tuple[float, float] | None:
    """Hover a grid of points over the chart until the tooltip names every string in `want`."""
    tooltip = page.locator("#vg-tooltip-element")
    steps = 40
    for j in range(steps):
        y = box["y"] + box["height"] * (j + 0.5) / steps
        for i in range(steps):
            x = box["x"] + box["width"] * (i + 0.5) / steps
            page.mouse.move(x, y)
            if tooltip.count() and tooltip.is_visible():
                text = tooltip.inner_text()
                if all(w in text for w in want):
                    return x, y
                if want[0] not in text.split("\n")[0:2] and "Market" in text:
                    break  # wrong row: move down
    return None


def test_clicking_a_heatmap_cell_shows_its_drill_down(server, page: Page):
    page.goto(f"{server.url}/weak-spots")
    wait_for_app(page)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    found = hover_until(page, box, ("TH", "Hate Speech"))
    assert found, "no heatmap cell for TH x Hate Speech under the pointer"
    page.mouse.click(*found)
    page.get_by_text("TH × Hate Speech").first.wait_for(timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, "weak-spots-drill-down")


@pytest.mark.parametrize("name", [n for n in PAGES if n != "data"])
def test_presenter_mode_shows_no_roster_name(server, page: Page, name: str):
    names, ids = roster()
    page.goto(f"{server.url}/{PAGES[name]}?present=1")
    wait_for_app(page)
    assert_no_exception(page)
    text = page.inner_text("body")
    leaked = sorted(n for n in names if n in text)
    assert not leaked, leaked[:5]
    leaked_ids = sorted(i for i in ids if f" {i}" in f" {text}" or f"({i})" in text)
    assert not leaked_ids, leaked_ids[:5]
    screenshot(page, f"present-{name}")


def test_the_weekly_report_downloads_as_one_self_contained_file(server, page: Page, tmp_path: Path):
    names, _ids = roster()
    page.goto(f"{server.url}/overview?present=1")
    wait_for_app(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download weekly report").click()
    path = tmp_path / "report.html"
    info.value.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert not [n for n in names if n in html]
    # It opens with no network and no server: straight from the file.
    page.goto(path.as_uri())
    assert "Uplift weekly report" in page.inner_text("h1")
    screenshot(page, "weekly-report")


def test_the_rows_behind_a_cell_open_in_a_dialog_and_download(server, page: Page, tmp_path: Path):
    page.goto(f"{server.url}/weak-spots?cell_market=VN&cell_policy=Bullying+%26+Harassment")
    wait_for_app(page)
    page.get_by_role("button", name="decisions behind this cell").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    dialog.get_by_text("VN × Bullying & Harassment").first.wait_for(timeout=30_000)
    with page.expect_download() as info:
        dialog.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "rows.csv"
    info.value.save_as(path)
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {r["market"] for r in rows} == {"VN"} and {r["policy"] for r in rows} == {"Bullying & Harassment"}
    screenshot(page, "rows-dialog")


def test_item_health_in_presenter_mode_names_no_auditor(server, page: Page):
    with open(ROOT / "sample_data" / "exports" / "decisions.csv", encoding="utf-8") as fh:
        auditors = {r["reviewer_id"] for r in csv.DictReader(fh) if r["reviewer_id"]}
    page.goto(f"{server.url}/item-health?present=1")
    wait_for_app(page)
    assert_no_exception(page)
    text = page.inner_text("body")
    assert not sorted(a for a in auditors if a in text)
    assert "Reviewer " in text  # auditors appear as pseudonyms instead
