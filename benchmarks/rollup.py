"""`make bench-rollup`: raw decisions to the rollups (`uplift rollup`) on DuckDB and on Spark local[2].

For each size the sample-data generator's decisions (benchmarks/data/, reused) are converted once to typed
Parquet, as a lakehouse keeps them; then each engine runs the whole job in its own child process (so that
its peak memory is its own): read, type, de-duplicate, the four rollups, month-partitioned Parquet and the
manifest. Spark's session start is timed apart from the job. Both engines get the same memory: DuckDB's
memory_limit and Spark's driver memory. The table goes to stdout.

    python -m benchmarks.rollup                          # 1M and 20M
    python -m benchmarks.rollup --sizes 1000000          # one size
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1_000_000, 20_000_000)
SEED = 7
MEMORY = "4GB"  # DuckDB memory_limit; Spark gets spark.driver.memory of the same size


def parquet_input(size: int, seed: int) -> Path:
    """The generator's decisions for this size as one typed Parquet file (written once, then reused)."""
    import duckdb

    from benchmarks.run import ensure_data

    folder = ensure_data(size, seed)
    target = folder / "decisions.parquet"
    if not target.exists():
        con = duckdb.connect()
        con.execute("SET memory_limit = '4GB'")
        staging = folder / "decisions.parquet.tmp"
        con.sql("SELECT * FROM read_csv(?)", params=[str(folder / "decisions.csv")]).write_parquet(str(staging))
        staging.rename(target)
    return target


def child(engine: str, decisions: str, roster: str, output: str) -> dict[str, Any]:
    """One engine's run, in this (child) process: timings and counts as JSON."""
    from data_sources.engines import DuckDBEngine, SparkEngine
    from data_sources.rollup_job import JobSpec, run

    began = time.perf_counter()
    eng = (SparkEngine("local[2]", conf={"spark.driver.memory": MEMORY.lower().removesuffix("b")})
           if engine == "spark" else DuckDBEngine(memory_limit=MEMORY))
    started = time.perf_counter()
    try:
        manifest = run(JobSpec(decisions, roster, Path(output)), eng)
        done = time.perf_counter()
        jvm_peak = _jvm_peak_mib(eng)
    finally:
        eng.close()
    return {"engine": engine, "version": manifest.engine_version, "start_s": started - began, "job_s": done - started,
            "read": manifest.decisions.read, "daily_rows": manifest.tables["decision_daily"].total.rows,
            "reviewed": manifest.reviewed,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + jvm_peak}


def _jvm_peak_mib(engine: object) -> float:
    """The peak resident memory of Spark's JVM (a child process pyspark starts), from /proc; 0 for DuckDB."""
    spark = getattr(engine, "spark", None)
    proc = getattr(getattr(getattr(spark, "sparkContext", None), "_gateway", None), "proc", None)
    if proc is None:
        return 0.0
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(engine: str, decisions: Path, roster: Path, output: Path) -> dict[str, Any]:
    shutil.rmtree(output, ignore_errors=True)
    cmd = [sys.executable, "-m", "benchmarks.rollup", "--child", engine, str(decisions), str(roster), str(output)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    shutil.rmtree(output, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.rollup", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "DECISIONS", "ROSTER", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    print(f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · memory {MEMORY} per engine")
    print("peak MiB: the Python process, plus Spark's JVM")
    print(f"{'decisions':>12} {'engine':<14} {'start s':>8} {'job s':>8} {'total s':>8} {'daily rows':>11} {'peak MiB':>9}")
    for size in args.sizes:
        decisions = parquet_input(size, SEED)
        roster = decisions.parent / "trainees.csv"
        results = []
        for engine in args.engines:
            r = measure(engine, decisions, roster, decisions.parent / f"rollups-{engine}")
            results.append(r)
            label = f"{r['engine']} {r['version']}"
            print(f"{r['read']:>12,} {label:<14} {r['start_s']:>8.1f} {r['job_s']:>8.1f} {r['start_s'] + r['job_s']:>8.1f} "
                  f"{r['daily_rows']:>11,} {r['peak_mib']:>9,.0f}", flush=True)
        if len({(r["daily_rows"], r["reviewed"]) for r in results}) > 1:
            raise SystemExit(f"the engines disagree at {size:,}: {results}")


if __name__ == "__main__":
    main()
