"""`make bench`: Uplift at 1M and 10M decisions against what a user would otherwise reach for.

For each size: the sample-data generator writes the CSVs (seeded; kept in benchmarks/data/ and reused),
then three child processes, so that each one's peak memory (ru_maxrss) is its own:
  import    every CSV through `data_sources.imports.import_path` into a fresh file-backed store (roster
            first), stage by stage; then plain `CREATE TABLE t AS FROM read_csv(...)` into another fresh file.
  measures  every measure each page calls: cold (a freshly opened store: DuckDB's buffers empty, the OS
            file cache warm), warm (the same call again on that connection: DuckDB only, no result cache)
            and cached (a repeat through ui.cache.measure, the app's cache keyed on the data version);
            then the hand-written DuckDB query on the plain tables and pandas read_csv + groupby.
  pages     each page's full AppTest run through app.py (Streamlit caches cleared), and a rerun.
The table goes to stdout and benchmarks/results.md.

    python -m benchmarks.run                      # 1M and 10M
    python -m benchmarks.run --sizes 1000000      # one size, quickly
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results.md"
DEFAULT_SIZES = (1_000_000, 10_000_000)
SEED = 7
# pandas holds the decisions as Python-visible columns: run it only when this much memory is free.
PANDAS_HEADROOM_BYTES = 6 * 1024**3
PAGES = {
    "Home": "home.py",
    "Overview": "overview.py",
    "Training": "training.py",
    "Trainee": "trainee.py",
    "Learning": "learning.py",
    "Weak spots": "weak_spots.py",
    "Calibration": "calibration.py",
    "Data": "data.py",
}


def _page_path(file: str) -> str:
    """The page file as app.py registers it (views/, formerly pages/)."""
    for folder in ("views", "pages"):
        if (ROOT / folder / file).exists():
            return f"{folder}/{file}"
    raise FileNotFoundError(file)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


# ---- data ----------------------------------------------------------------------------------------------

def ensure_data(size: int, seed: int) -> Path:
    """The generator's CSVs for this size and seed, written once and reused."""
    from sample_data.generate import write_exports

    folder = DATA / f"decisions-{size}-seed-{seed}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    seconds, _ = _timed(lambda: write_exports(folder, seed=seed, decisions=size))
    done.write_text(f"{seconds:.1f}\n")
    return folder


def _fresh(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return path


# ---- child: import -------------------------------------------------------------------------------------

class _StageTimer:
    """A connection stand-in that times every statement, so the import's stages can be told apart."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.stages: dict[str, float] = {}

    def execute(self, sql: str, params: Any = None) -> Any:
        began = time.perf_counter()
        result = self._con.execute(sql) if params is None else self._con.execute(sql, params)
        stage = _stage(sql)
        self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - began
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _stage(sql: str) -> str:
    s = " ".join(sql.split()).upper()
    rules = (
        ("read", lambda: "READ_CSV" in s),
        ("validate", lambda: s.startswith("CREATE TEMP TABLE TYPED") or "DUP_OF" in s or "REGEXP_EXTRACT" in s
         or "COUNT(DISTINCT KEY)" in s),
        ("rollup", lambda: "DECISION_DAILY" in s),
        ("insert", lambda: s.startswith("INSERT INTO") and "_GOOD G" in s),
        ("match", lambda: "_MATCHES" in s or "__REPLACED" in s),
        ("commit", lambda: s == "COMMIT"),
    )
    return next((name for name, test in rules if test()), "other")


def child_import(folder: Path, db: Path, plain_db: Path) -> dict[str, Any]:
    import duckdb

    from data_sources.imports import import_path
    from data_sources.sample import sample_files
    from data_sources.store import cli_memory_limit, open_store

    # As `uplift import` runs it: the command line's memory cap, not the app's (see store.CLI_MEMORY_LIMIT).
    store = open_store(_fresh(db), memory_limit=cli_memory_limit())
    timer = _StageTimer(store.cursor())
    files: dict[str, Any] = {}
    total = 0.0
    for path in sample_files(folder):
        timer.stages.clear()
        seconds, results = _timed(lambda p=path: import_path(timer, p, user="benchmark"))  # type: ignore[arg-type]
        assert all(r.ok for r in results), [r.message for r in results]
        files[path.stem] = {"seconds": seconds, "rows": sum(r.added for r in results), "stages": dict(timer.stages)}
        total += seconds
    store.con.execute("CHECKPOINT")
    store.close()
    peak = _peak_mib()
    gc.collect()
    week = _appended_week(folder, db)

    # What a user would otherwise reach for: DuckDB's own reader into a file-backed table.
    plain = duckdb.connect(str(_fresh(plain_db)))
    plain_files: dict[str, float] = {}
    for path in sample_files(folder):
        seconds, _ = _timed(lambda p=path: plain.execute(f"CREATE TABLE {p.stem} AS FROM read_csv(?)", [str(p)]))
        plain_files[path.stem] = seconds
    checkpoint, _ = _timed(lambda: plain.execute("CHECKPOINT"))
    plain_files["decisions"] += checkpoint
    week["plain"], _ = _timed(lambda: plain.execute("CREATE TABLE week AS FROM read_csv(?)", [week.pop("path")]))
    plain.close()
    return {"files": files, "total": total, "peak_mib": peak, "plain": plain_files, "memory_limit": cli_memory_limit(),
            "db_bytes": db.stat().st_size, "plain_db_bytes": plain_db.stat().st_size, "week": week}


def _appended_week(folder: Path, db: Path) -> dict[str, Any]:
    """The weekly import a team makes: the decisions of the data's last 7 days again, a week later and with new
    ids, imported into a copy of the full store (the measures then read the store as it was)."""
    import duckdb

    from data_sources.imports import import_path
    from data_sources.store import cli_memory_limit, open_store
    from data_sources.undo import undo

    path = folder / "appended-week.csv"
    if not path.exists():
        week = duckdb.connect()
        week.execute(
            """CREATE TABLE week AS SELECT 'W' || decision_id AS decision_id, * EXCLUDE (decision_id, date),
                      CAST(date + 7 AS DATE) AS date
               FROM read_csv($1) WHERE date > (SELECT max(date) FROM read_csv($1)) - INTERVAL 7 DAY""",
            [str(folder / "decisions.csv")],
        )
        week.table("week").write_csv(str(path), header=True)
        week.close()
    copy = db.with_name(db.stem + "-week.duckdb")
    shutil.copy(db, copy)
    try:
        store = open_store(copy, memory_limit=cli_memory_limit())
        timer = _StageTimer(store.cursor())
        seconds, results = _timed(lambda: import_path(timer, path, user="benchmark"))  # type: ignore[arg-type]
        assert all(r.ok for r in results), [r.message for r in results]
        _check_sums(store.con)
        # And taken back: undo updates the rollups on the week's dates, as the import did.
        undo_seconds, _ = _timed(lambda: undo(store.cursor(), max(r.import_id or 0 for r in results)))
        _check_sums(store.con)
        store.close()
    finally:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + ".wal").unlink(missing_ok=True)
    return {"seconds": seconds, "rows": sum(r.added for r in results), "stages": dict(timer.stages), "path": str(path),
            "undo_seconds": undo_seconds}


def _check_sums(con: Any) -> None:
    """The rollups an import updates in steps still sum to the same decisions (a cheap guard: the figures of a
    store whose rollups went wrong would be meaningless)."""
    from data_sources.rollups import totals_match_daily

    assert totals_match_daily(con), "decision_totals no longer sums to decision_daily"


# ---- child: measures -----------------------------------------------------------------------------------

def child_measures(folder: Path, db: Path, plain_db: Path, run_pandas: bool) -> dict[str, Any]:
    import duckdb

    from benchmarks import cases as C
    from data_sources.store import open_store

    store = open_store(db)
    ctx = C.context(store.cursor())
    store.close()
    out: dict[str, Any] = {}
    for case in C.CASES:
        gc.collect()
        store = open_store(db)  # a fresh DuckDB instance: nothing in its buffers
        con = store.cursor()
        cold, _ = _timed(lambda c=case, k=con: c.call(k, ctx))  # type: ignore[misc]
        warm, _ = _timed(lambda c=case, k=con: c.call(k, ctx))  # type: ignore[misc]
        store.close()
        out[case.name + "|" + case.page] = {"page": case.page, "name": case.name, "cold": cold, "warm": warm}

    # Through the app's cache: the first call fills it, the repeat is what a rerun costs.
    os.environ["UPLIFT_DB"] = str(db)
    import streamlit as st

    from ui import cache

    for case in C.CASES:
        a, k = case.args(ctx)
        cache.measure(case.fn, *a, **k)  # type: ignore[arg-type]
        cached, _ = _timed(lambda c=case, a=a, k=k: cache.measure(c.fn, *a, **k))  # type: ignore[misc]
        out[case.name + "|" + case.page]["cached"] = cached
    cache.store().close()
    st.cache_resource.clear()
    st.cache_data.clear()
    peak = _peak_mib()

    # The floor: a minimal hand-written query on the plain read_csv tables.
    for case in C.CASES:
        if case.sql is None:
            continue
        sql, params = case.sql(ctx)
        plain = duckdb.connect(str(plain_db), read_only=True)
        cold, _ = _timed(lambda s=sql, p=params, k=plain: k.execute(s, p).fetchall())  # type: ignore[misc]
        warm, _ = _timed(lambda s=sql, p=params, k=plain: k.execute(s, p).fetchall())  # type: ignore[misc]
        plain.close()
        out[case.name + "|" + case.page] |= {"sql_cold": cold, "sql_warm": warm}

    pandas_read = None
    if run_pandas:
        pandas_read, frames = _timed(lambda: C.read_frames(folder))
        for case in C.CASES:
            if case.pandas is not None:
                seconds, _ = _timed(lambda c=case: c.pandas(frames, ctx))  # type: ignore[misc]
                out[case.name + "|" + case.page]["pandas"] = seconds
        del frames
    return {"measures": list(out.values()), "peak_mib": peak, "pandas_read": pandas_read,
            "context": {"week": str(ctx.week), "cell": list(ctx.cell), "trainee_id": ctx.trainee_id,
                        "training_ids": list(ctx.training_ids), "session_id": ctx.session_id}}


# ---- child: pages --------------------------------------------------------------------------------------

def child_pages(db: Path, trainee_id: str, training_ids: list[str]) -> dict[str, Any]:
    os.environ["UPLIFT_DB"] = str(db)
    os.chdir(ROOT)
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    # As in tests/app: AppTest would otherwise re-detect the legacy pages/ folder and run a page whose
    # url_path is its file name on its own, without app.py's sidebar.
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]

    picks: dict[str, Callable[[AppTest], Any]] = {
        "Trainee": lambda at: at.selectbox(key="trainee").set_value(trainee_id),
        "Training": lambda at: at.multiselect(key="trainings").set_value(training_ids),
    }
    out: list[dict[str, Any]] = []
    for title, file in PAGES.items():
        path = _page_path(file)
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        if file != "home.py":
            at.run()  # app.py's first run draws Home; the page is the second
            at.switch_page(path)
        cold, _ = _timed(at.run)
        problems = [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
        warm, _ = _timed(at.run)
        row = {"page": title, "cold": cold, "warm": warm, "problems": problems}
        if title in picks:
            picks[title](at)
            picked, _ = _timed(at.run)
            row["picked"] = picked
            row["problems"] += [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
            repick, _ = _timed(at.run)
            row["picked_warm"] = repick
        out.append(row)
    return {"pages": out, "peak_mib": _peak_mib()}


# ---- the parent: run the children, print the table -----------------------------------------------------

def _child(save: Path, *args: str) -> dict[str, Any]:
    """Run one child; its result is also kept in `save`, so a later failure loses nothing."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{' '.join(cmd)} failed:\n{done.stderr[-4000:]}", file=sys.stderr)
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    save.write_text(json.dumps(result, default=str))
    return result


def _mem_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def run_size(size: int, seed: int, with_pandas: bool) -> dict[str, Any]:
    began = time.perf_counter()
    folder = ensure_data(size, seed)
    generated = time.perf_counter() - began
    db = DATA / f"uplift-{size}-seed-{seed}.duckdb"
    plain_db = DATA / f"plain-{size}-seed-{seed}.duckdb"
    print(f"[{size:,}] data ready ({generated:.1f} s); importing", file=sys.stderr, flush=True)
    tag = DATA / f"result-{size}-seed-{seed}"
    imp = _child(tag.with_suffix(".import.json"), "import", str(folder), str(db), str(plain_db))
    if "failed" in imp:
        raise SystemExit(f"the import failed: {imp['failed']}")
    csv_bytes = (folder / "decisions.csv").stat().st_size
    run_pandas = with_pandas and (size <= 1_000_000 or _mem_available() > PANDAS_HEADROOM_BYTES + 4 * csv_bytes)
    print(f"[{size:,}] import {imp['total']:.1f} s; measures (pandas: {run_pandas})", file=sys.stderr, flush=True)
    mes = _child(tag.with_suffix(".measures.json"), "measures", str(folder), str(db), str(plain_db),
                 "1" if run_pandas else "0")
    if "failed" in mes:
        raise SystemExit(f"the measures failed: {mes['failed']}")
    print(f"[{size:,}] pages", file=sys.stderr, flush=True)
    ctx = mes["context"]
    pages = _child(tag.with_suffix(".pages.json"), "pages", str(db), ctx["trainee_id"],
                   json.dumps(ctx["training_ids"]))
    if "failed" in pages:
        pages = {"pages": [], "peak_mib": 0.0, "failed": pages["failed"]}
    return {"size": size, "import": imp, "measures": mes, "pages": pages, "generated": generated}


def _ms(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x * 1000:,.0f}" if x >= 0.0095 else f"{x * 1000:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.1f}x"


def report(runs: list[dict[str, Any]], seed: int) -> str:
    lines: list[str] = []
    add = lines.append
    add("# Uplift benchmark")
    add("")
    add(f"{dt.date.today():%Y-%m-%d} · {os.cpu_count()} cores · {_mem_total()} memory · "
        f"{platform.python_implementation()} {platform.python_version()} · seed {seed}")
    add("")
    add("Cold: the first call on a freshly opened store (DuckDB's buffers empty; the OS file cache is warm). "
        "Warm: the same DuckDB call again, without Uplift's result cache. Cached: a repeat through "
        "`ui.cache.measure` (the app's cache, keyed on the data version), which is what a rerun costs. "
        "SQL: a minimal hand-written DuckDB query for the same aggregate on the raw `read_csv` tables "
        "(cold / warm); pandas: the same groupby on `pd.read_csv` frames (the read is timed apart). "
        "Ratios: measure ÷ floor, cold against cold and warm against warm. Times in ms unless marked.")
    add("")
    for run in runs:
        size, imp, mes, pages = run["size"], run["import"], run["measures"], run["pages"]
        add(f"## {size:,} decisions")
        add("")
        add("### Import (full path: validation, deduplication, rollups) against plain `read_csv`")
        add("")
        add("| dataset | rows | Uplift s | stages (s) | plain read_csv s | ratio |")
        add("|---|---:|---:|---|---:|---:|")
        plain_total = 0.0
        for name, f in imp["files"].items():
            plain = imp["plain"].get(name)
            plain_total += plain or 0.0
            stages = ", ".join(f"{k} {v:.2f}" for k, v in sorted(f["stages"].items(), key=lambda kv: -kv[1]) if v >= 0.01)
            add(f"| {name} | {f['rows']:,} | {f['seconds']:.2f} | {stages} | {plain:.2f} | {_ratio(f['seconds'], plain)} |")
        add(f"| **all** | | **{imp['total']:.2f}** | | **{plain_total:.2f}** | **{_ratio(imp['total'], plain_total)}** |")
        wk = imp.get("week")
        if wk:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in sorted(wk["stages"].items(), key=lambda kv: -kv[1]) if v >= 0.01)
            add(f"| a week appended to this store | {wk['rows']:,} | {wk['seconds']:.2f} | {stages} | "
                f"{wk['plain']:.2f} | {_ratio(wk['seconds'], wk['plain'])} |")
            if "undo_seconds" in wk:
                add(f"| that week undone | {wk['rows']:,} | {wk['undo_seconds']:.2f} | | – | – |")
        add("")
        pr = mes.get("pandas_read")
        add(f"Uplift's import ran as `uplift import` does, with DuckDB's memory capped at {imp.get('memory_limit', '1GB')} "
            "(the app's cap is 1GB); plain `read_csv` with DuckDB's defaults. "
            f"Peak memory of the import process: {imp['peak_mib']:,.0f} MiB. Store on disk "
            f"{imp['db_bytes'] / 1e6:,.0f} MB (plain tables {imp['plain_db_bytes'] / 1e6:,.0f} MB). "
            + (f"pandas `read_csv` of the same files: {pr:.1f} s." if pr is not None else
               "pandas was not run at this size (not enough free memory to hold the decisions twice)."))
        add("")
        add("### Measures")
        add("")
        add("| page | measure | cold | warm | cached | SQL cold | SQL warm | pandas | cold÷SQL | warm÷SQL |")
        add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in mes["measures"]:
            add(f"| {m['page']} | {m['name']} | {_ms(m['cold'])} | {_ms(m['warm'])} | {_ms(m.get('cached'))} | "
                f"{_ms(m.get('sql_cold'))} | {_ms(m.get('sql_warm'))} | {_ms(m.get('pandas'))} | "
                f"{_ratio(m['cold'], m.get('sql_cold'))} | {_ratio(m['warm'], m.get('sql_warm'))} |")
        by_page: dict[str, list[dict[str, Any]]] = {}
        for m in mes["measures"]:
            by_page.setdefault(m["page"], []).append(m)
        add("")
        add("Per page, summed: " + "; ".join(
            f"{p} {_ms(sum(m['cold'] for m in ms))} cold / {_ms(sum(m['warm'] for m in ms))} warm"
            for p, ms in by_page.items()) + ".")
        add(f"Peak memory of the measures process (before the SQL and pandas floors ran): {mes['peak_mib']:,.0f} MiB.")
        add("")
        add("### Pages: full AppTest run through app.py")
        add("")
        add("| page | first run (caches cleared) | rerun | after a pick | its rerun | problems |")
        add("|---|---:|---:|---:|---:|---|")
        for p in pages["pages"]:
            add(f"| {p['page']} | {_ms(p['cold'])} | {_ms(p['warm'])} | {_ms(p.get('picked'))} | "
                f"{_ms(p.get('picked_warm'))} | {'; '.join(p['problems'])[:120] or 'none'} |")
        add("")
        if "failed" in pages:
            add(f"The pages' run failed: {pages['failed']}")
        add(f"Peak memory of the app process (all pages in one process): {pages['peak_mib']:,.0f} MiB.")
        add("")
    if len(runs) > 1:
        add(_growth(runs))
    return "\n".join(lines) + "\n"


def _growth(runs: list[dict[str, Any]]) -> str:
    small, big = runs[0], runs[-1]
    factor = big["size"] / small["size"]
    rows = [f"## Growth from {small['size']:,} to {big['size']:,} ({factor:.0f}x the decisions)", "",
            "| figure | small | large | growth |", "|---|---:|---:|---:|"]

    def row(name: str, a: float, b: float, unit: str = "ms") -> None:
        fmt = (lambda x: f"{x:.2f} s") if unit == "s" else (lambda x: _ms(x))
        rows.append(f"| {name} | {fmt(a)} | {fmt(b)} | {b / a:.1f}x |" if a > 0 else f"| {name} | {fmt(a)} | {fmt(b)} | – |")

    row("import, all files", small["import"]["total"], big["import"]["total"], "s")
    row("plain read_csv, all files", sum(small["import"]["plain"].values()), sum(big["import"]["plain"].values()), "s")
    for a, b in zip(small["measures"]["measures"], big["measures"]["measures"], strict=True):
        row(f"{a['page']}: {a['name']} (cold)", a["cold"], b["cold"])
    for a, b in zip(small["pages"]["pages"], big["pages"]["pages"], strict=False):
        row(f"page {a['page']} (first run)", a["cold"], b["cold"])
    rows.append("")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="decision counts")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas floor")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "import":
            result = child_import(Path(rest[0]), Path(rest[1]), Path(rest[2]))
        elif kind == "measures":
            result = child_measures(Path(rest[0]), Path(rest[1]), Path(rest[2]), rest[3] == "1")
        else:
            result = child_pages(Path(rest[0]), rest[1], json.loads(rest[2]))
        print(json.dumps(result, default=str))
        return
    DATA.mkdir(parents=True, exist_ok=True)
    runs = [run_size(size, args.seed, not args.no_pandas) for size in sorted(args.sizes)]
    text = report(runs, args.seed)
    print(text)
    args.out.write_text(text)
    (DATA / "last-run.json").write_text(json.dumps(runs, indent=1, default=str))


if __name__ == "__main__":
    main()
