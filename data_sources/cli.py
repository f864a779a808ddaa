"""`uplift`: imports and the import log from the command line, for analysts and schedulers.

Exit 0 on success; otherwise non-zero and one line on stderr saying what was wrong and where.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from data_sources import imports
from data_sources.backup import backup, restore
from data_sources.engines import EngineError
from data_sources.readers import NotATable
from data_sources.roles import RolesError, cli_user, roles_file
from data_sources.rollup_import import import_rollups, is_rollup_folder
from data_sources.rollup_job import JobSpec, RollupError, open_engine
from data_sources.rollup_job import run as run_rollup
from data_sources.rollup_job import summary as rollup_summary
from data_sources.sample import load_sample
from data_sources.sheets import SheetsError, import_sheet
from data_sources.store import StoreError, cli_memory_limit, db_path, open_store

SUPPORTED = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm"}


def _files(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED))
        else:
            out.append(p)
    return out


def _print_results(results: Sequence[imports.ImportResult]) -> int:
    failed = 0
    for r in results:
        stream = sys.stdout if r.ok else sys.stderr
        print(r.message, file=stream)
        failed += not r.ok
    return 1 if failed else 0


def cmd_import(args: argparse.Namespace) -> int:
    # A folder written by `uplift rollup` is imported whole (data_sources/rollup_import.py).
    folders = [Path(p) for p in args.paths if is_rollup_folder(Path(p))]
    files = _files([p for p in args.paths if Path(p) not in folders])
    if not files and not folders:
        print(f"no .csv, .tsv or .xlsx files found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    store = open_store(args.db, memory_limit=cli_memory_limit())
    con = store.cursor()
    results = []
    for f in files:
        results.extend(imports.import_path(
            con, f, dataset=args.dataset, date_order=args.date_order, keep_going=args.keep_going,
            user=args.user, strict_dates=True,
        ))
    # Rollup folders after the files, so that a roster imported alongside is there to check them against.
    results.extend(import_rollups(con, folder, user=args.user) for folder in folders)
    return _print_results(results)


def cmd_rollup(args: argparse.Namespace) -> int:
    since = _date(args.since) if args.since else None
    spec = JobSpec(args.input, args.roster, Path(args.output), since=since)
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


def cmd_sheets(args: argparse.Namespace) -> int:
    store = open_store(args.db, memory_limit=cli_memory_limit())
    con = store.cursor()
    results = import_sheet(
        con, args.url, credentials=args.credentials, keep_going=args.keep_going, user=args.user,
        date_order=args.date_order,
    )
    return _print_results(results)


def cmd_imports(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    frame = imports.history(store.cursor())
    if frame.empty:
        print("no imports yet")
        return 0
    cols = ["import_id", "imported_at", "imported_by", "dataset", "source", "rows_read", "rows_added",
            "rows_replaced", "rows_rejected", "status"]
    print(frame[cols].to_string(index=False))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    store = open_store(args.db, memory_limit=cli_memory_limit())
    print(imports.undo(store.cursor(), args.import_id, user=args.user))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    store = open_store(args.db, memory_limit=cli_memory_limit())
    con = store.cursor()
    if args.if_empty:
        row = con.execute("SELECT count(*) FROM imports WHERE status = 'active'").fetchone()
        if row and row[0]:
            print(f"{store.path} already holds data: sample not loaded (drop --if-empty to add it)")
            return 0
    return _print_results(load_sample(con))


def cmd_backup(args: argparse.Namespace) -> int:
    target = backup(Path(args.db or db_path()), Path(args.target) if args.target else None)
    print(f"backed up to {target}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    db = Path(args.db or db_path())
    count, kept = restore(db, Path(args.backup))
    where = f"; the previous file is kept as {kept}" if kept else ""
    print(f"restored {args.backup} ({count} imports) into {db}{where}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="uplift", description="Import training, QA and assessment data into Uplift.")
    p.add_argument("--db", default=None, help=f"database file (default: $UPLIFT_DB or {db_path()})")
    p.add_argument("--user", default=None, help="who to record in the import log (default: login name)")
    sub = p.add_subparsers(dest="command", required=True)

    imp = sub.add_parser("import", help="import CSV/TSV/XLSX files or folders of them")
    imp.add_argument("paths", nargs="+")
    imp.add_argument("--dataset", choices=sorted(imports.DATASETS), help="skip recognition: the files hold this dataset")
    imp.add_argument("--date-order", choices=["dmy", "mdy"], help="for dates like 04/03/2026: day-first or month-first")
    imp.add_argument("--keep-going", action="store_true", help="import the good rows and keep bad ones with reasons")
    imp.set_defaults(func=cmd_import)

    sh = sub.add_parser("sheets", help="import every worksheet of a Google Sheet")
    sh.add_argument("url")
    sh.add_argument("--credentials", help="service-account key file (default: .streamlit/secrets.toml, else link sharing)")
    sh.add_argument("--date-order", choices=["dmy", "mdy"])
    sh.add_argument("--keep-going", action="store_true")
    sh.set_defaults(func=cmd_sheets)

    ro = sub.add_parser("rollup", help="roll raw decisions (Parquet or CSV in a lakehouse) up into a folder to import")
    ro.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                    help="duckdb on this machine, or spark (pip install -e '.[spark]' and Java 17+)")
    ro.add_argument("--input", required=True, help="raw decisions: a Parquet/CSV file, a folder, or a glob (quoted)")
    ro.add_argument("--roster", required=True, help="the trainees: a Parquet/CSV file, folder or glob")
    ro.add_argument("--output", required=True, help="the folder to write (month-partitioned Parquet and _manifest.json)")
    ro.add_argument("--master", default="local[2]", help="Spark master: local[N], spark://host:7077, or sc://host:15002")
    ro.add_argument("--since", help="recompute only the months from this date's month (YYYY-MM-DD); keep the others")
    ro.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                    help="a Spark setting, repeatable (e.g. spark.driver.memory=4g)")
    ro.set_defaults(func=cmd_rollup)

    sub.add_parser("imports", help="the import log").set_defaults(func=cmd_imports)
    un = sub.add_parser("undo", help="take an import back")
    un.add_argument("import_id", type=int)
    un.set_defaults(func=cmd_undo)
    bk = sub.add_parser("backup", help="copy the database to a backup file")
    bk.add_argument("target", nargs="?", help="where (default: backups/ beside the database)")
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser("restore", help="put a backup in place of the database (the current file is kept)")
    rs.add_argument("backup")
    rs.set_defaults(func=cmd_restore)
    sa = sub.add_parser("sample", help="load the bundled sample data")
    sa.add_argument("--if-empty", action="store_true", help="only into a database with no imports")
    sa.set_defaults(func=cmd_sample)
    return p


# What each command needs when a roles file exists (data_sources/roles.py).
NEEDS = {cmd_import: "import", cmd_rollup: "import", cmd_sheets: "import", cmd_sample: "import", cmd_undo: "undo",
         cmd_imports: "view", cmd_backup: "backup", cmd_restore: "restore"}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        who = cli_user(args.user)
        action = NEEDS[args.func]
        if not who.can(action):
            print(f"uplift: {who.email} is a {who.role}; {args.command} needs the role that may {action} "
                  f"(see {roles_file()})", file=sys.stderr)
            return 3
        args.user = who.email
        return int(args.func(args))
    except (StoreError, imports.ImportError_, NotATable, SheetsError, RolesError, RollupError, EngineError) as exc:
        print(f"uplift: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("uplift: interrupted; the store is as it was before the interrupted import", file=sys.stderr)
        return 130
    except Exception as exc:  # a last guard: one line for people, never a traceback
        print(f"uplift: unexpected error ({type(exc).__name__}: {exc}); nothing was changed", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
