"""Browser tests: a real `streamlit run` server and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from data_sources.sample import load_sample
from data_sources.store import open_store

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("UPLIFT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
# Without these, chromium tries Google's hosts at start and the closed network refuses it, many times over.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    db: Path
    log: Path
    process: subprocess.Popen[bytes]


def start_server(db: Path, log: Path, *extra: str, launcher: str = "streamlit",
                 env: dict[str, str] | None = None) -> Server:
    """`streamlit run app.py` on `db` and a free port, once /_stcore/health answers. `launcher` is the module
    run as `python -m` (benchmarks.profiled_server wraps streamlit's own); `env` adds variables."""
    port = free_port()
    env = {**os.environ, **(env or {}), "UPLIFT_DB": str(db)}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", launcher, "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--browser.gatherUsageStats", "false", *extra],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return Server(url, db, log, process)
        except OSError:
            time.sleep(0.3)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "uplift.duckdb"
    store = open_store(db)
    assert all(r.ok for r in load_sample(store.cursor()))
    store.close()
    srv = start_server(db, folder / "server.log")
    yield srv
    srv.process.terminate()
    srv.process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`); .ci/run does")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_for_app(page: Page) -> None:
    """The app has drawn: stApp is there, no skeleton, and the script is not running."""
    page.wait_for_selector("[data-testid='stApp']")
    # stApp carries the script's state; skeletons are elements not drawn yet.
    page.wait_for_function(
        """() => document.querySelector("[data-testid='stApp']")?.getAttribute("data-test-script-state") === "notRunning"
              && !document.querySelector("[data-testid='stSkeleton']")""",
        timeout=60_000,
    )
    page.wait_for_timeout(500)


def assert_no_exception(page: Page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
    assert "Something went wrong" not in page.inner_text("body")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
