"""Soak: the app under 8 concurrent browser sessions for 5 minutes while an analyst imports and undoes.

    make soak                              # or: python -m benchmarks.soak --seconds 300 --sessions 8

Starts a real `streamlit run` on a copy of the sample data, drives Debian's chromium through every page
from 8 sessions at once, and a 9th session that uploads a file, imports it and undoes it, over and over.
Reports errors (must be 0), page times (p50/p95), imports and undos done, and the server's memory.
Not a unit test: it takes minutes, and it is the machine's load it measures."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Page, async_playwright

from data_sources.sample import load_sample
from data_sources.store import open_store
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server

PAGES = ["", "overview", "training", "trainee", "learning", "weak-spots", "calibration", "data"]
READY = """() => document.querySelector("[data-testid='stApp']")?.getAttribute("data-test-script-state") === "notRunning"
              && !document.querySelector("[data-testid='stSkeleton']")"""


@dataclass
class Tally:
    page_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    imports: int = 0
    undos: int = 0
    rss_mib: list[tuple[float, float]] = field(default_factory=list)


async def ready(page: Page) -> None:
    await page.wait_for_function(READY, timeout=60_000)


async def check(page: Page, where: str, tally: Tally) -> None:
    body = await page.inner_text("body")
    if "Something went wrong" in body or await page.locator("[data-testid='stException']").count():
        tally.errors.append(f"{where}: {body[:200]!r}")


async def viewer(n: int, url: str, context, deadline: float, tally: Tally) -> None:
    page = await context.new_page()
    i = n  # each session starts on a different page
    while time.monotonic() < deadline:
        path = PAGES[i % len(PAGES)]
        i += 1
        started = time.monotonic()
        try:
            await page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            await ready(page)
            tally.page_ms.append((time.monotonic() - started) * 1000)
            await check(page, f"session {n} /{path}", tally)
        except Exception as exc:  # a timeout is a failure the report must count
            tally.errors.append(f"session {n} /{path}: {type(exc).__name__}: {str(exc)[:160]}")


async def analyst(url: str, context, deadline: float, tally: Tally, folder: Path) -> None:
    page = await context.new_page()
    round_ = 0
    while time.monotonic() < deadline:
        round_ += 1
        export = folder / f"new_hires_{round_}.csv"
        export.write_text("trainee_id,market,name\n" + "".join(f"S{round_}-{k},TH,Soak {round_}-{k}\n" for k in range(50)))
        try:
            await page.goto(f"{url}/data", wait_until="domcontentloaded")
            await ready(page)
            await page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(export))
            await page.get_by_text("50 ready").wait_for(timeout=60_000)
            await page.get_by_role("button", name="Import", exact=True).click()
            await page.get_by_text("imported as trainees").wait_for(timeout=60_000)
            tally.imports += 1
            await ready(page)
            await page.get_by_role("tab", name="Import history").click()
            await page.get_by_role("button", name="Undo", exact=True).click()
            await page.get_by_text("undone:").first.wait_for(timeout=60_000)
            tally.undos += 1
            await check(page, "analyst", tally)
        except Exception as exc:
            tally.errors.append(f"analyst round {round_}: {type(exc).__name__}: {str(exc)[:160]}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sample_memory(pid: int, deadline: float, tally: Tally) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        tally.rss_mib.append((time.monotonic() - start, rss_mib(pid)))
        await asyncio.sleep(5)


async def soak(seconds: float, sessions: int) -> Tally:
    folder = Path(tempfile.mkdtemp(prefix="uplift-soak-"))
    store = open_store(folder / "uplift.duckdb")
    load_sample(store.cursor())
    store.close()
    server = start_server(folder / "uplift.duckdb", folder / "server.log")
    tally = Tally()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(sessions + 1)]
            warm = await contexts[0].new_page()  # first visit: imports and caches, not counted
            for path in PAGES:
                await warm.goto(f"{server.url}/{path}")
                await ready(warm)
            await warm.close()
            deadline = time.monotonic() + seconds
            await asyncio.gather(
                sample_memory(server.process.pid, deadline, tally),
                analyst(server.url, contexts[-1], deadline, tally, folder),
                *(viewer(n, server.url, contexts[n], deadline, tally) for n in range(sessions)),
            )
            await browser.close()
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    log = (folder / "server.log").read_text(errors="replace")
    if "Traceback" in log:
        tally.errors.append("server log has a traceback: " + log[log.index("Traceback"):][:300])
    return tally


def report(t: Tally, seconds: float, sessions: int) -> str:
    times = sorted(t.page_ms)
    p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
    rss = [r for _, r in t.rss_mib]
    lines = [
        f"soak: {sessions} sessions + 1 analyst for {seconds:.0f} s",
        f"errors: {len(t.errors)}",
        f"page loads: {len(times)} · p50 {statistics.median(times) if times else float('nan'):.0f} ms · p95 {p95:.0f} ms · max {max(times, default=float('nan')):.0f} ms",
        f"imports: {t.imports} · undos: {t.undos}",
        f"server memory: start {rss[0]:.0f} MiB · peak {max(rss):.0f} MiB · end {rss[-1]:.0f} MiB · growth {rss[-1] - rss[0]:+.0f} MiB" if rss else "server memory: not sampled",
    ]
    lines += [f"  error: {e}" for e in t.errors[:20]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--sessions", type=int, default=8)
    args = parser.parse_args()
    tally = asyncio.run(soak(args.seconds, args.sessions))
    print(report(tally, args.seconds, args.sessions))
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
