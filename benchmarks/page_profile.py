"""Where a page run's time goes: every page sampled inside a real server, one session at a time.

    python -m benchmarks.page_profile                       # the sample data; writes benchmarks/page_profile.md
    python -m benchmarks.page_profile --store 1m --append
    python -m benchmarks.page_profile --option runner.postScriptGC=false     # what if, for comparison

One session asks for Home (the server's first run: imports, not counted), then for each page of the
registry but Data: a first visit (its measures not yet cached: the pages share some, so later pages find
a few cached) and `--reruns` reruns (what most clicks cost once the caches are warm); then for each page
a new session's first run with the caches warm (an initial page load), `--reruns` / 2 times. No filters,
widgets at their defaults. The sequence runs twice on fresh servers: plain, timed by the client as benchmarks.load
does, and under benchmarks.profiled_server, which samples the script thread's stack every 2 ms.

Each sample goes to the innermost "anchor" on its stack: DuckDB (query and fetch, through
profiled_server.TimedConnection), cache (ui/cache.py's look-ups and copies, st.cache_data's hashing and
pickled copies), Arrow (Streamlit's dataframe conversion), Altair (ui/charts.py builders, altair, its
JSON-schema validation, Streamlit's vega marshalling), metrics (pandas/NumPy/SciPy on the aggregates),
pages+ui (views/, ui/, access/, outgoing/, data_sources/), Streamlit (the rest of it). Neutral code (pandas, NumPy, pyarrow, the standard library)
counts for the anchor that called it; C code counts for the Python function that called it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from benchmarks import load
from benchmarks.profiled_server import DUCKDB_METHODS
from tests.browser.conftest import Server, start_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "page_profile.md"
PROJECT = (*(str(ROOT / d) + "/" for d in ("views", "ui", "access", "outgoing", "data_sources")), str(ROOT / "app.py"))
# (category, test on the function's file): the first that matches names an anchor.
ANCHORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cache", ("/streamlit/runtime/caching/", str(ROOT / "ui" / "cache.py"))),
    ("Arrow", ("/streamlit/dataframe_util.py", "/streamlit/elements/arrow.py")),
    ("Altair", ("/altair/", "/jsonschema/", "/referencing/", "/narwhals/", "/streamlit/elements/vega_charts.py",
                str(ROOT / "ui" / "charts.py"))),
    ("metrics", (str(ROOT / "metrics") + "/",)),
    ("pages+ui", PROJECT),
    ("watcher", ("/streamlit/watcher/",)),
    ("Streamlit", ("/streamlit/",)),
)
KINDS = ("first visit", "rerun", "new session")
CATEGORIES = ("DuckDB", "cache", "Arrow", "Altair", "metrics", "pages+ui", "watcher", "Streamlit", "gc", "other")
PROJECT_CODE = (*PROJECT, str(ROOT / "metrics") + "/")


def category(frame: str) -> str | None:
    """The anchor category of one sampled frame ('file:line:name'), or None for neutral code."""
    file, _, name = frame.rsplit(":", 2)
    if (file.endswith("benchmarks/profiled_server.py") and name in DUCKDB_METHODS) or "/duckdb/" in file:
        return "DuckDB"
    return next((cat for cat, marks in ANCHORS if any(m in file for m in marks)), None)


@dataclass(frozen=True)
class Sampled:
    """One script run as benchmarks.profiled_server recorded it."""

    wall: float
    gc_seconds: float
    gc_tracked: int  # objects the collector tracked after the run's collection
    stacks: list[tuple[tuple[str, ...], float]]  # frames innermost first, seconds
    sent_bytes: float = 0.0
    serialise_seconds: float = 0.0


def stacks_of(raw: dict[str, Any], key: str) -> list[tuple[tuple[str, ...], float]]:
    frames = raw["frames"]
    return [(tuple(frames[i] for i in idx), seconds) for idx, seconds in raw[key]]


def read_run(path: Path) -> tuple[dict[str, Any], Sampled]:
    raw = json.loads(path.read_text())
    return raw, Sampled(raw["wall"], raw["gc_seconds"], raw["gc_tracked"], stacks_of(raw, "stacks"))


def event_loop(raw_next: dict[str, Any]) -> Sampled:
    """The main thread's busy samples during a run and its tail (recorded when the next run started)."""
    stacks = stacks_of(raw_next, "previous_run_loop")
    return Sampled(sum(t for _, t in stacks), 0.0, 0, stacks)


def in_gc(stack: tuple[str, ...]) -> bool:
    return any(f.endswith(":collect") and "benchmarks/profiled_server.py" in f for f in stack)


def breakdown(run: Sampled) -> dict[str, float]:
    """Seconds per category: each sample goes to the innermost anchor on its stack; the forced garbage
    collection is its own line; what the sampler did not see (thread start, the last few ms) is 'other'."""
    out: dict[str, float] = defaultdict(float)
    for stack, seconds in run.stacks:
        if not in_gc(stack):  # weakref callbacks run Python inside the collection: timed with it
            out[next((c for c in map(category, stack) if c), "other")] += seconds
    out["gc"] = run.gc_seconds
    out["other"] += max(0.0, run.wall - sum(out.values()))
    return dict(out)


def _where(frame: str) -> str:
    file, line, name = frame.rsplit(":", 2)
    for base in (str(ROOT) + "/", "/site-packages/", "/lib/python3.11/"):
        if base in file:
            file = file.split(base, 1)[1]
    return f"{file}:{line} {name}"


def _project(frame: str) -> bool:
    file = frame.rsplit(":", 2)[0]
    return file.startswith(PROJECT_CODE) and not frame.endswith((":<module>", ":main"))


def top_project_calls(runs: list[Sampled], n: int) -> list[tuple[str, float]]:
    """The project's own functions by inclusive time (what the page calls), seconds per run."""
    total: dict[str, float] = defaultdict(float)
    for run in runs:
        for stack, seconds in run.stacks:
            if in_gc(stack):
                continue
            for frame in {f for f in stack if _project(f)}:
                total[frame] += seconds
    ranked = sorted(total.items(), key=lambda kv: -kv[1])[:n]
    return [(_where(f), t / len(runs)) for f, t in ranked]


def top_own_time(runs: list[Sampled], n: int) -> list[tuple[str, str, float]]:
    """Innermost Python frames by time (C code shows as the Python function that called it), with the
    category each sample went to, seconds per run."""
    total: dict[tuple[str, str], float] = defaultdict(float)
    for run in runs:
        for stack, seconds in run.stacks:
            if stack and not in_gc(stack):
                total[(stack[0], next((c for c in map(category, stack) if c), "other"))] += seconds
    ranked = sorted(total.items(), key=lambda kv: -kv[1])[:n]
    return [(_where(f), c, t / len(runs)) for (f, c), t in ranked]


# ---- driving the server --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    page: load.Page
    kind: str  # one of KINDS, "startup" or "flush"


@dataclass
class Measured:
    step: Step
    client_seconds: float
    problem: str | None


def steps(pages: tuple[load.Page, ...], reruns: int) -> list[Step]:
    home = next(p for p in pages if p.url_path == "")
    out = [Step(home, "startup")]
    for page in pages:
        out += [Step(page, "first visit")] + [Step(page, "rerun")] * reruns
    for page in pages:  # caches warm now: what a session's initial page load adds to a rerun
        out += [Step(page, "new session")] * max(1, reruns // 2)
    return [*out, Step(home, "flush")]  # the last step's line carries the previous run's sending figures


async def _drive(server: Server, plan: list[Step]) -> list[Measured]:
    ws_url = server.url.replace("http://", "ws://") + "/_stcore/stream"
    out = []
    # Someone else stays connected, as in any room: when the last session leaves, Streamlit drops its
    # compiled scripts, and every new session would then pay for compiling them again.
    bystander = await connect(ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None)
    ws = await connect(ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None)
    try:
        for step in plan:
            if step.kind == "new session":
                await ws.close()
                ws = await connect(ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None)
            began = time.perf_counter()
            async with asyncio.timeout(300):
                problem = await load.one_run(ws, step.page.url_path, "")
            out.append(Measured(step, time.perf_counter() - began, problem))
            await asyncio.sleep(0.5)  # as a person would; lets the sending side finish before the next run
    finally:
        await ws.close()
        await bystander.close()
    return out


def drive(db: Path, folder: Path, plan: list[Step], options: list[str], sampled: bool) -> tuple[list[Measured], Path]:
    """The plan against a fresh server, plain or under benchmarks.profiled_server (its records in the
    folder returned)."""
    out_dir = folder / ("sampled" if sampled else "plain")
    out_dir.mkdir()
    extra: dict[str, Any] = {"launcher": "benchmarks.profiled_server",
                             "env": {"UPLIFT_PROFILE_DIR": str(out_dir)}} if sampled else {}
    server = start_server(db, out_dir / "server.log", *options, **extra)
    try:
        measured = asyncio.run(_drive(server, plan))
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    return measured, out_dir


# ---- the report ----------------------------------------------------------------------------------------

@dataclass
class PageResult:
    title: str
    kind: str
    runs: int
    plain: float  # client-timed seconds on the plain server, mean over the runs
    sampled_client: float  # the same on the sampled server
    wall: float  # the script run's wall time on the sampled server (it ends after the forced gc)
    categories: dict[str, float]  # seconds per run
    sent_kib: float
    serialise_ms: float
    tracked: float  # objects the garbage collector tracks (after the run's collection), mean
    cpu: float  # the script thread's CPU seconds, mean
    gc_cpu: float  # of which the forced collection
    loop: float  # the event loop thread's busy seconds for the run
    loop_watcher: float  # of which the file watcher's
    calls: list[tuple[str, float]]
    own: list[tuple[str, str, float]]
    loop_own: list[tuple[str, str, float]]


def collect(plan: list[Step], plain: list[Measured], sampled: list[Measured], records: Path,
            top: int) -> list[PageResult]:
    raw, runs = zip(*(read_run(f) for f in sorted(records.glob("*.json"))), strict=True)
    if len(runs) != len(plan) or any(r["page"] != s.page.url_path for r, s in zip(raw, plan, strict=True)):
        raise SystemExit(f"expected one script run per step ({len(plan)}), the server recorded {len(runs)}")
    results = []
    for title in dict.fromkeys(s.page.title for s in plan if s.kind in KINDS):
        for kind in KINDS:
            idx = [i for i, s in enumerate(plan) if s.page.title == title and s.kind == kind]
            mine = [runs[i] for i in idx]
            sent = [raw[i + 1]["previous_run_sent"] for i in idx]  # the plan ends with a flush step
            cats = [breakdown(r) for r in mine]
            loops = [event_loop(raw[i + 1]) for i in idx]
            loop_cats = [breakdown(x) for x in loops]
            results.append(PageResult(
                title, kind, len(idx),
                statistics.mean(plain[i].client_seconds for i in idx),
                statistics.mean(sampled[i].client_seconds for i in idx),
                statistics.mean(r.wall for r in mine),
                {c: statistics.mean(x.get(c, 0.0) for x in cats) for c in CATEGORIES},
                statistics.mean(x["bytes"] for x in sent) / 1024,
                statistics.mean(x["seconds"] for x in sent) * 1000,
                statistics.mean(r.gc_tracked for r in mine),
                statistics.mean(raw[i]["cpu"] for i in idx), statistics.mean(raw[i]["gc_cpu_seconds"] for i in idx),
                statistics.mean(x.wall for x in loops), statistics.mean(x.get("watcher", 0.0) for x in loop_cats),
                top_project_calls(mine, top), top_own_time(mine, top), top_own_time(loops, 4)))
    return results


def report(results: list[PageResult], store: str, command: str, problems: list[str], load_before: str) -> str:
    lines = [f"## Where a page run's time goes ({store} store, {dt.datetime.now():%Y-%m-%d %H:%M})", "",
             f"`{command}`; load average (1/5/15 min) before {load_before}, after {load_average()}.", "",
             "Milliseconds per run (reruns and new sessions: their mean). *plain*: request to script_finished as the "
             "client saw it, on a server without the sampler; *sampled*: the same with the sampler running; *wall*: "
             "the script run's wall time on the sampled server, which ends with Streamlit's forced garbage "
             "collection (*gc*, often after script_finished has gone out); *CPU*: the script thread's CPU time. "
             "The categories split *wall*.", "",
             "| page | run | plain | sampled | wall | CPU | " + " | ".join(CATEGORIES) + " |",
             "|---|---|" + "---:|" * (len(CATEGORIES) + 4)]
    for r in results:
        cats = " | ".join(f"{r.categories[c] * 1000:.0f}" for c in CATEGORIES)
        lines.append(f"| {r.title} | {r.kind} | {r.plain * 1000:.0f} | {r.sampled_client * 1000:.0f} | "
                     f"{r.wall * 1000:.0f} | {r.cpu * 1000:.0f} | {cats} |")
    lines += ["", "Beside the script thread: *gc CPU* is the forced collection's CPU time and *tracked* the thousands "
              "of objects it walks; *event loop* is the main thread's busy time for the run (websocket I/O, session "
              "bookkeeping) and *watcher* the file watcher's part of it; *sent* the ForwardMsg bytes serialised and "
              "*serialise* the time that took.", "",
              "| page | run | gc CPU | tracked | event loop | watcher | sent KiB | serialise |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.title} | {r.kind} | {r.gc_cpu * 1000:.0f} | {r.tracked / 1000:.0f} | {r.loop * 1000:.0f} | "
                     f"{r.loop_watcher * 1000:.0f} | {r.sent_kib:.0f} | {r.serialise_ms:.1f} |")
    lines.append("")
    for r in results:
        lines += [f"### {r.title}: {r.kind}", "", "Project functions by inclusive time (ms per run): "
                  + "; ".join(f"{t * 1000:.0f} `{w}`" for w, t in r.calls) + ".", "",
                  "Innermost frames (ms per run, category): "
                  + "; ".join(f"{t * 1000:.0f} `{w}` ({c})" for w, c, t in r.own) + ".", "",
                  "Event loop, innermost frames: "
                  + "; ".join(f"{t * 1000:.0f} `{w}` ({c})" for w, c, t in r.loop_own) + ".", ""]
    if problems:
        lines += ["Problems seen:", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


def load_average() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=load.STORES, default="sample")
    parser.add_argument("--reruns", type=int, default=4)
    parser.add_argument("--top", type=int, default=8, help="functions listed per page")
    parser.add_argument("--option", action="append", default=[], type=load.streamlit_option,
                        help="a Streamlit option for both servers, e.g. runner.postScriptGC=false")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--append", action="store_true", help="add to --out instead of replacing it")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.page_profile " + " ".join(argv if argv is not None else sys.argv[1:])
    options = [x for pair in args.option for x in pair]
    folder = Path(tempfile.mkdtemp(prefix="uplift-profile-"))
    try:
        db = load.build_store(args.store, folder)
        plan = steps(load.load_pages(), args.reruns)
        load_before = load_average()
        plain, _ = drive(db, folder, plan, options, sampled=False)
        sampled, records = drive(db, folder, plan, options, sampled=True)
        problems = [f"{m.step.page.title} ({m.step.kind}): {m.problem}" for m in plain + sampled if m.problem]
        results = collect(plan, plain, sampled, records, args.top)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    text = report(results, args.store, command.strip(), problems, load_before)
    print(text)
    previous = args.out.read_text() if args.append and args.out.exists() else "# Where a page run's time goes\n\n"
    args.out.write_text(previous.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
