"""`uplift rollup`: raw decisions kept in a lakehouse rolled up, on DuckDB or Spark, into a folder that
`uplift import DIR` loads (data_sources/rollup_job.py, data_sources/rollup_import.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from data_sources.rollup_job import JobSpec, RollupError, open_engine
from data_sources.rollup_job import run as run_rollup
from data_sources.rollup_job import summary as rollup_summary
from data_sources.store import cli_memory_limit


def cmd_rollup(args: argparse.Namespace) -> int:
    spec = JobSpec(args.input, args.roster, Path(args.output), since=_date(args.since) if args.since else None)
    began = time.perf_counter()
    engine = open_engine(args.engine, args.master, memory_limit=cli_memory_limit(), spark_conf=_conf(args.spark_conf))
    try:
        manifest = run_rollup(spec, engine)
    finally:
        engine.close()
    print(rollup_summary(manifest, spec.output, time.perf_counter() - began))
    return 0


def _conf(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise RollupError(f"--spark-conf {pair!r} is not KEY=VALUE (e.g. spark.driver.memory=4g)")
        out[key.strip()] = value.strip()
    return out


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise RollupError(f"--since {text!r} is not a date like 2026-06-01") from exc


def rollup_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="duckdb on this machine, or spark (pip install -e '.[spark]' and Java 17+)")
    p.add_argument("--input", required=True, help="raw decisions: a Parquet/CSV file, a folder, or a glob (quoted)")
    p.add_argument("--roster", required=True, help="the trainees: a Parquet/CSV file, folder or glob")
    p.add_argument("--output", required=True, help="the folder to write (month-partitioned Parquet and _manifest.json)")
    p.add_argument("--master", default="local[2]", help="Spark master: local[N], spark://host:7077, or sc://host:15002")
    p.add_argument("--since", help="recompute only the months from this date's month (YYYY-MM-DD); "
                                               "keep the others")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting, repeatable (e.g. spark.driver.memory=4g)")
