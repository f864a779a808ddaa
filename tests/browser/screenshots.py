"""Screenshots of every page from a real server on the sample data, in chromium.

`make screenshots`: the README's small PNGs (presenting, viewport-sized, scaled down, so the repository stays
light). `make look`: every page at 1400 px, whole page, normal and presenting, into test-artifacts/look/, to
be checked by eye (nothing cut off, the point of each chart readable on a shared screen)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from data_sources.sample import load_sample
from data_sources.store import open_store
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, wait_for_app
from ui.pages import PAGES as REGISTRY

PAGES = [(p.url_path or "home", p.url_path) for p in REGISTRY]


def look(out: Path, width: int = 1400) -> None:
    """Every page, normal and presenting, whole page at `width` pixels."""
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="uplift-look-"))
    store = open_store(folder / "uplift.duckdb")
    load_sample(store.cursor())
    store.close()
    server = start_server(folder / "uplift.duckdb", folder / "server.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": 900})
            for name, path in PAGES:
                for mode, query in (("normal", ""), ("presenting", "?present=1")):
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(f"{server.url}/{path}{query}")
                    wait_for_app(page)
                    page.wait_for_timeout(1200)
                    # Streamlit scrolls an inner container, not the page: grow the window to all of it.
                    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
                    page.set_viewport_size({"width": width, "height": min(int(height) + 40, 12000)})
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(out / f"{name}-{mode}.png"))
                    print(out / f"{name}-{mode}.png")
            browser.close()
    finally:
        server.process.terminate()
        server.process.wait(timeout=20)


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
    if len(sys.argv) > 1 and sys.argv[1] == "look":
        look(Path(sys.argv[2] if len(sys.argv) > 2 else "test-artifacts/look"))
    else:
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
