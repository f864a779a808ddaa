"""`make load`: Uplift's pages under N concurrent sessions, timed on the server's side.

    python -m benchmarks.load                               # 8 sessions for 60 s on the bundled sample data
    python -m benchmarks.load --sessions 1,4,8,16           # each count in turn, a fresh server for each
    python -m benchmarks.load --store 1m --sessions 8       # on a 1M-decision store (built once, cached)

Starts `streamlit run app.py` on a free localhost port and drives it with websocket clients that speak
Streamlit's own protocol (no browser): each session sends a `rerun_script` BackMsg for a random page of
ui/pages.py's registry (all but the Data page), half of them with a market filter in the query string,
and times the request until the server's `script_finished` message. Think time 0.2-1 s between runs. A
session reconnects every `--visit-length` runs, so initial page loads (a new session's first run) are
measured as well as reruns. Widgets are never set: every page renders with its defaults.

An error is an exception element, an error alert, a page that is not found or not the one asked for, a
`script_finished` other than a success, a timeout, a dropped connection, or a traceback in the server log.
Reports per page runs, median, p95 and max, throughput, the server's CPU and memory (RSS every 2 s); the
same tables go to benchmarks/load_results.md. Localhost only; every loop is bounded in time and count;
the server is stopped at the end. It measures the machine: note what else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, WebSocketException
from websockets.typing import Subprotocol

from benchmarks.run import DATA, SEED, ensure_data
from data_sources.sample import load_sample
from data_sources.store import cli_memory_limit, open_store
from metrics.options import filter_options
from tests.browser.conftest import Server, start_server
from ui.pages import PAGES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "load_results.md"
MILLION = 1_000_000
STORES = ("sample", "1m")
THINK_SECONDS = (0.2, 1.0)
MEMORY_EVERY_SECONDS = 2.0
SKIPPED_PAGE = "views/data.py"  # imports and undo write to the store: not a page people click through


@dataclass(frozen=True)
class Page:
    url_path: str  # what the browser sends as page_name ('' is the default page)
    title: str


@dataclass(frozen=True)
class Plan:
    """What every session of a round does."""

    seconds: float
    timeout: float  # for one run, request to script_finished
    max_runs: int  # per session
    visit_length: int  # runs per connection: a new session (an initial page load) after that many
    markets: tuple[str, ...]
    pages: tuple[Page, ...]
    seed: int
    warm: bool  # visit every page (and market) once before the clock starts
    options: tuple[str, ...] = ()  # extra `streamlit run` arguments


@dataclass(frozen=True)
class Run:
    page: str  # the page's title
    filtered: bool  # a market filter in the query string
    first: bool  # the session's first run: its initial page load
    seconds: float  # request to script_finished (to the failure, for errors)
    error: str | None


@dataclass(frozen=True)
class ServerSample:
    at: float  # seconds since the drive started
    rss_mib: float
    cpu_seconds: float  # the server process's user + system time so far


@dataclass
class Round:
    store: str
    sessions: int
    plan: Plan
    runs: list[Run] = field(default_factory=list)
    samples: list[ServerSample] = field(default_factory=list)
    wall: float = 0.0  # the drive's duration, the last run included
    client_cpu: float = 0.0  # this process's CPU over the drive (the clients compete for the same cores)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    log_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.runs if r.error] + self.log_errors


# ---- the stores ----------------------------------------------------------------------------------------

def sample_store(folder: Path) -> Path:
    """A fresh DuckDB file with the bundled sample data, imported the way `uplift sample` does."""
    db = folder / "uplift.duckdb"
    store = open_store(db)
    failed = [r.message for r in load_sample(store.cursor()) if not r.ok]
    store.close()
    if failed:
        raise SystemExit(f"the sample data did not import: {failed}")
    return db


def million_store(folder: Path) -> Path:
    """A copy of the 1M-decision store. The store is built once from `make bench`'s generated CSVs
    (benchmarks/data, reused) and kept there; each server gets a copy, so the cached file stays pristine."""
    cached = DATA / f"load-{MILLION}-seed-{SEED}.duckdb"
    if not cached.exists():
        csvs = ensure_data(MILLION, SEED)
        partial = cached.with_name(cached.name + ".partial")
        partial.unlink(missing_ok=True)
        print(f"building the 1M-decision store in {cached} (once)", file=sys.stderr, flush=True)
        store = open_store(partial, memory_limit=cli_memory_limit())
        failed = [r.message for r in load_sample(store.cursor(), csvs) if not r.ok]
        store.con.execute("CHECKPOINT")
        store.close()
        if failed:
            raise SystemExit(f"the 1M-decision data did not import: {failed}")
        partial.rename(cached)
    db = folder / "uplift.duckdb"
    shutil.copyfile(cached, db)
    return db


def build_store(kind: str, folder: Path) -> Path:
    return million_store(folder) if kind == "1m" else sample_store(folder)


def pick_markets(db: Path, wanted: str) -> tuple[str, ...]:
    """The markets the filtered runs pick from: `wanted` ('TH,VN' or 'all'), checked against the store
    (read before the server holds the file)."""
    store = open_store(db)
    try:
        known = filter_options(store.cursor()).markets
    finally:
        store.close()
    if wanted == "all":
        return known
    picked = tuple(m.strip() for m in wanted.split(",") if m.strip())
    unknown = [m for m in picked if m not in known]
    if unknown:
        raise SystemExit(f"--markets: {', '.join(unknown)} not in the store; it has {', '.join(known)}")
    return picked


def load_pages() -> tuple[Page, ...]:
    return tuple(Page(p.url_path, p.title) for p in PAGES if p.file != SKIPPED_PAGE)


# ---- one session ---------------------------------------------------------------------------------------

def rerun_request(page: str, query: str) -> bytes:
    msg = BackMsg()
    msg.rerun_script.page_name = page
    msg.rerun_script.query_string = query
    return msg.SerializeToString()


def problem_in(msg: ForwardMsg, page: str) -> str | None:
    """What is wrong with the run, as one ForwardMsg shows it, or None."""
    kind = msg.WhichOneof("type")
    if kind == "page_not_found":
        return f"page not found: {page!r}"
    if kind == "navigation":
        ran = {p.page_script_hash: p.url_pathname for p in msg.navigation.app_pages}.get(
            msg.navigation.page_script_hash)
        if ran != page:
            return f"asked for page {page!r}, the server ran {ran!r}"
    if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
        element = msg.delta.new_element
        if element.WhichOneof("type") == "exception":
            return f"exception: {element.exception.type}: {element.exception.message[:120]}"
        if element.WhichOneof("type") == "alert" and element.alert.format == Alert.ERROR:
            return f"error shown: {element.alert.body[:120]}"
    return None


async def one_run(ws: ClientConnection, page: str, query: str) -> str | None:
    """Ask for `page` and read the server's messages up to its script_finished; the run's problem or None."""
    await ws.send(rerun_request(page, query))
    problem: str | None = None
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await ws.recv())
        problem = problem or problem_in(msg, page)
        if msg.WhichOneof("type") == "script_finished":
            if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                problem = problem or "script finished as " + ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
            return problem


async def visit(ws: ClientConnection, plan: Plan, rng: random.Random, deadline: float, budget: int,
                runs: list[Run]) -> int:
    """Up to `budget` runs on one connection; stops at the deadline or after a failed run. Runs done."""
    for i in range(budget):
        if time.monotonic() >= deadline:
            return i
        page = rng.choice(plan.pages)
        market = rng.choice(plan.markets) if plan.markets and rng.random() < 0.5 else None
        query = f"markets={market}" if market else ""
        began = time.perf_counter()
        lost = False  # the connection's state is unknown after these: start a new session
        try:
            async with asyncio.timeout(plan.timeout):
                problem = await one_run(ws, page.url_path, query)
        except TimeoutError:
            problem, lost = f"no script_finished within {plan.timeout:.0f} s", True
        except WebSocketException as exc:
            problem, lost = f"connection lost: {type(exc).__name__}: {exc}", True
        runs.append(Run(page.title, market is not None, i == 0, time.perf_counter() - began, problem))
        if lost:
            return i + 1
        await asyncio.sleep(rng.uniform(*THINK_SECONDS))
    return budget


async def session(n: int, ws_url: str, plan: Plan, deadline: float, runs: list[Run]) -> None:
    """One person: connects, clicks through `visit_length` pages, reconnects, until the deadline or
    `max_runs`."""
    rng = random.Random(plan.seed * 10_000 + n)
    await asyncio.sleep(rng.uniform(*THINK_SECONDS))  # people do not all click at the same instant
    done = 0
    while done < plan.max_runs and time.monotonic() < deadline:
        try:
            async with connect(ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None,
                               open_timeout=plan.timeout) as ws:
                done += await visit(ws, plan, rng, deadline, min(plan.visit_length, plan.max_runs - done), runs)
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            runs.append(Run("(connect)", False, True, 0.0, f"could not connect: {type(exc).__name__}: {exc}"))
            done += 1
            await asyncio.sleep(1.0)


# ---- the server's CPU and memory -----------------------------------------------------------------------

def server_sample(pid: int, at: float) -> ServerSample:
    rss = float("nan")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    # /proc/PID/stat: the command may hold spaces, so count fields after its closing parenthesis;
    # utime and stime are fields 14 and 15 of the whole line.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return ServerSample(at, rss, cpu)


async def watch(pid: int, started: float, done: asyncio.Event, samples: list[ServerSample]) -> None:
    while True:
        samples.append(server_sample(pid, time.monotonic() - started))
        if done.is_set():
            return
        with contextlib.suppress(TimeoutError):  # the next sample is due
            await asyncio.wait_for(done.wait(), MEMORY_EVERY_SECONDS)


async def drive(server: Server, sessions: int, plan: Plan, out: Round) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/_stcore/stream"
    started = time.monotonic()
    deadline = started + plan.seconds
    done = asyncio.Event()
    watcher = asyncio.create_task(watch(server.process.pid, started, done, out.samples))
    await asyncio.gather(*(session(n, ws_url, plan, deadline, out.runs) for n in range(sessions)))
    out.wall = time.monotonic() - started
    done.set()
    await watcher


async def warm_up(server: Server, plan: Plan) -> None:
    """Every page once unfiltered and once per market, not counted: the first visit after a start imports
    modules and fills the caches, which later visits hit."""
    ws_url = server.url.replace("http://", "ws://") + "/_stcore/stream"
    async with connect(ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None) as ws:
        for page in plan.pages:
            for query in ("", *(f"markets={m}" for m in plan.markets)):
                async with asyncio.timeout(max(plan.timeout, 120)):
                    await one_run(ws, page.url_path, query)


def cpu_seconds_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_round(store: str, db: Path, sessions: int, plan: Plan, log: Path) -> Round:
    """A fresh server on `db`, warmed up, driven by `sessions` sessions, stopped."""
    out = Round(store, sessions, plan)
    server = start_server(db, log, *plan.options)
    try:
        if plan.warm:
            asyncio.run(warm_up(server, plan))
        out.load_before = os.getloadavg()
        cpu = cpu_seconds_self()
        asyncio.run(drive(server, sessions, plan, out))
        out.client_cpu = cpu_seconds_self() - cpu
        out.load_after = os.getloadavg()
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except Exception:
            server.process.kill()
            server.process.wait(timeout=30)
    text = log.read_text(errors="replace")
    if "Traceback" in text:
        out.log_errors.append("server log has a traceback: " + text[text.index("Traceback"):][:300])
    return out


# ---- the report ----------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100): a value that occurred, never an interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _s(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.2f}"


def _row(label: str, runs: list[Run]) -> str:
    ok = [r.seconds for r in runs if not r.error]
    errors = sum(1 for r in runs if r.error)
    med = statistics.median(ok) if ok else float("nan")
    return (f"| {label} | {len(runs)} | {sum(r.first for r in runs)} | {sum(r.filtered for r in runs)} | "
            f"{_s(med)} | {_s(percentile(ok, 95))} | {_s(max(ok, default=float('nan')))} | {errors} |")


def _cores(r: Round) -> float:
    if len(r.samples) < 2 or r.wall <= 0:
        return float("nan")
    return (r.samples[-1].cpu_seconds - r.samples[0].cpu_seconds) / (r.samples[-1].at - r.samples[0].at)


def _cpu_per_run(r: Round) -> float:
    """Server CPU seconds per page run: less sensitive to other work on the machine than wall times."""
    if len(r.samples) < 2 or not r.runs:
        return float("nan")
    return (r.samples[-1].cpu_seconds - r.samples[0].cpu_seconds) / len(r.runs)


def _memory(r: Round) -> tuple[float, float, float]:
    rss = [s.rss_mib for s in r.samples]
    return (rss[0], max(rss), rss[-1]) if rss else (float("nan"),) * 3


def round_section(r: Round) -> str:
    lines = [f"### {r.sessions} session{'s' * (r.sessions != 1)} · {r.store} store · {r.plan.seconds:.0f} s", "",
             "| page | runs | first loads | filtered | median s | p95 s | max s | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for page in r.plan.pages:
        lines.append(_row(page.title, [x for x in r.runs if x.page == page.title]))
    lines.append(_row("**all pages**", r.runs))
    lines.append(_row("initial page loads", [x for x in r.runs if x.first]))
    lines.append(_row("reruns", [x for x in r.runs if not x.first]))
    start, peak, end = _memory(r)
    lines += [
        "",
        f"Throughput {len(r.runs) / r.wall:.2f} runs/s over {r.wall:.0f} s. Server CPU {_cores(r):.2f} cores on "
        f"average, {_cpu_per_run(r) * 1000:.0f} ms per run; the load clients' own CPU {r.client_cpu / r.wall:.2f} cores. Server memory (RSS every "
        f"{MEMORY_EVERY_SECONDS:.0f} s): start {start:.0f} MiB, peak {peak:.0f} MiB, end {end:.0f} MiB "
        f"({end - start:+.0f} MiB). Load average (1/5/15 min) before {_load(r.load_before)}, "
        f"after {_load(r.load_after)}.",
    ]
    counts = Counter(r.errors)
    if counts:
        lines += ["", "Errors:"] + [f"- {n} × {text}" for text, n in counts.most_common(10)]
    return "\n".join(lines)


def _load(x: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in x)


def summary_table(rounds: list[Round]) -> str:
    lines = ["| store | sessions | runs | runs/s | median s | p95 s | max s | errors | server CPU cores | "
             "CPU ms/run | RSS start / peak / end MiB | load before |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rounds:
        ok = [x.seconds for x in r.runs if not x.error]
        start, peak, end = _memory(r)
        lines.append(
            f"| {r.store} | {r.sessions} | {len(r.runs)} | {len(r.runs) / r.wall:.2f} | "
            f"{_s(statistics.median(ok) if ok else float('nan'))} | {_s(percentile(ok, 95))} | "
            f"{_s(max(ok, default=float('nan')))} | {len(r.errors)} | {_cores(r):.2f} | "
            f"{_cpu_per_run(r) * 1000:.0f} | {start:.0f} / {peak:.0f} / {end:.0f} | {_load(r.load_before)} |")
    return "\n".join(lines)


def report(rounds: list[Round], command: str) -> str:
    plan = rounds[0].plan
    warm_text = ("every page visited once unfiltered and once per market to warm it (not counted)" if plan.warm
                 else "no warm-up (the first visits are counted)")
    head = [
        f"## Load: {dt.datetime.now():%Y-%m-%d %H:%M} · {os.cpu_count()} cores",
        "",
        f"`{command}`. Each round: a fresh `streamlit run app.py`, "
        f"{warm_text}, then N websocket sessions for {plan.seconds:.0f} s over the pages "
        f"{', '.join(p.title for p in plan.pages)}; half the runs filter one market picked from "
        f"{', '.join(plan.markets)} (`markets=XX` in the query string); think time {THINK_SECONDS[0]}-{THINK_SECONDS[1]} s; a new session every "
        f"{plan.visit_length} runs. Times are server-side: a rerun request to its `script_finished` message, "
        "in seconds; errors are excluded from the times and counted apart.",
        "",
        summary_table(rounds),
        "",
    ]
    return "\n".join(head + [round_section(r) + "\n" for r in rounds])


# ---- the command ---------------------------------------------------------------------------------------

def streamlit_option(text: str) -> tuple[str, str]:
    """'runner.postScriptGC=false' as `streamlit run`'s arguments: ('--runner.postScriptGC', 'false')."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or " " in key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. runner.postScriptGC=false; got {text!r}")
    return f"--{key.strip()}", value.strip()


def counts(text: str) -> list[int]:
    values = [int(x) for x in text.split(",") if x.strip()]
    if not values or any(v < 1 or v > 64 for v in values):
        raise argparse.ArgumentTypeError("give session counts between 1 and 64, e.g. 1,4,8,16")
    return values


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=counts, default=[8], help="session counts, run in turn: 1,4,8,16")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each round drives the server")
    parser.add_argument("--store", choices=STORES, default="sample", help="the bundled sample or 1M decisions")
    parser.add_argument("--markets", default="TH", help="what filtered runs pick from: TH,VN or all")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds one run may take")
    parser.add_argument("--max-runs", type=int, default=2000, help="runs per session at most")
    parser.add_argument("--visit-length", type=int, default=10, help="runs per connection")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-warm-up", dest="warm", action="store_false", help="count the first visits too")
    parser.add_argument("--option", action="append", default=[], type=streamlit_option,
                        help="a Streamlit option for the server, e.g. runner.postScriptGC=false (repeatable)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--append", action="store_true", help="add to --out instead of replacing it")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 0 < args.timeout <= 600:
        parser.error("--seconds must be in (0, 3600] and --timeout in (0, 600]")
    return args


def main(argv: list[str] | None = None) -> list[Round]:
    args = parse(argv)
    folder = Path(tempfile.mkdtemp(prefix="uplift-load-"))
    try:
        db = build_store(args.store, folder)
        plan = Plan(args.seconds, args.timeout, args.max_runs, args.visit_length, pick_markets(db, args.markets),
                    load_pages(), args.seed, args.warm, tuple(x for pair in args.option for x in pair))
        rounds = []
        for n in args.sessions:
            print(f"{n} session(s) on the {args.store} store for {args.seconds:.0f} s", file=sys.stderr, flush=True)
            rounds.append(run_round(args.store, db, n, plan, folder / f"server-{n}.log"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    command = "python -m benchmarks.load " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(rounds, command.strip())
    print(text)
    previous = args.out.read_text() if args.append and args.out.exists() else "# Uplift under load\n\n"
    args.out.write_text(previous.rstrip("\n") + "\n\n" + text)
    return rounds


if __name__ == "__main__":
    sys.exit(1 if any(r.errors for r in main()) else 0)
