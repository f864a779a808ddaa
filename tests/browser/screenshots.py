"""Regenerate the README's page screenshots: `make screenshots` (real server, sample data, chromium).

Small PNGs (viewport-sized, scaled down) so the repository stays light."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from data_sources.sample import load_sample
from data_sources.store import open_store
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_for_app

PAGES = [("home", ""), ("overview", "overview"), ("training", "training"), ("trainee", "trainee"),
         ("learning", "learning"), ("weak-spots", "weak-spots"), ("calibration", "calibration"), ("data", "data")]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="uplift-shots-"))
    store = open_store(folder / "uplift.duckdb")
    load_sample(store.cursor())
    store.close()
    server = start_server(folder / "uplift.duckdb", folder / "server.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # Presenter mode: the README shows no names, even generated ones.
            page = browser.new_page(viewport={"width": 1280, "height": 860}, device_scale_factor=0.6)
            for name, path in PAGES:
                page.goto(f"{server.url}/{path}?present=1")
                wait_for_app(page)
                page.wait_for_timeout(800)
                page.screenshot(path=str(out / f"{name}.png"))
                print(f"{out / name}.png")
            browser.close()
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
