"""`uplift`: imports and the import log from the command line, for analysts and schedulers.

Exit 0 on success; otherwise non-zero and one line on stderr saying what was wrong and where.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from access.roles import RolesError, cli_user, roles_file
from cli import reports, rollup
from data_sources.contract import DATASETS
from data_sources.engines import EngineError
from data_sources.imports import import_path
from data_sources.label_order import save_order, saved_order, stored_labels
from data_sources.log import history
from data_sources.plan import CLI_REMEDIES, ImportRefused, Placement, mapping_named, saved_mappings
from data_sources.readers import NotATable
from data_sources.rollup_import import import_rollups, is_rollup_folder
from data_sources.rollup_job import RollupError
from data_sources.sample import load_sample, remove_sample
from data_sources.sheets import SheetsError, import_sheet
from data_sources.store import Store, StoreError, cli_memory_limit, db_path, explain_failure, open_store
from data_sources.undo import undo
from data_sources.write import ImportResult
from outgoing.backup import backup, restore

SUPPORTED = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm"}


def _files(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED))
        else:
            out.append(p)
    return out


def _print_results(results: Sequence[ImportResult]) -> int:
    failed = 0
    for r in results:
        stream = sys.stdout if r.ok else sys.stderr
        print(r.message, file=stream)
        failed += not r.ok
    return 1 if failed else 0


def _open(args: argparse.Namespace, *, batch: bool = True, create: bool = True) -> Store:
    """The store for a command, saying on stderr while it waits for a database another process holds.
    Batch commands (imports, undo, sample) get the command line's memory cap (store.CLI_MEMORY_LIMIT);
    commands that only read or take back (`create` false) refuse a missing file instead of making one."""
    return open_store(args.db, memory_limit=cli_memory_limit() if batch else None, create=create,
                      waiting=lambda message: print(f"uplift: {message}", file=sys.stderr, flush=True))


def cmd_import(args: argparse.Namespace) -> int:
    # A folder written by `uplift rollup` is imported whole (data_sources/rollup_import.py).
    folders = [Path(p) for p in args.paths if is_rollup_folder(Path(p))]
    files = _files([p for p in args.paths if Path(p) not in folders])
    if not files and not folders:
        print(f"no .csv, .tsv or .xlsx files found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    if args.label_order and args.dataset not in (None, "calibration"):
        print("uplift: --label-order orders calibration labels; leave it out for other datasets", file=sys.stderr)
        return 2
    store = _open(args)
    con = store.cursor()
    if args.mapping:
        mapping_named(con, args.mapping)  # an unknown name is refused before any file is read
    failed = 0
    results = []
    for f in files:
        done = import_path(
            con, f, dataset=args.dataset, date_order=args.date_order, keep_going=args.keep_going, user=args.user,
            strict_dates=True, renames=dict(args.map or []), mapping_name=args.mapping, label_order=args.label_order,
            remedies=CLI_REMEDIES,
        )
        for r in done:
            if not r.ok and r.placement is not None:
                r.message += ". " + _command_that_imports(f, r.placement, args)
        failed += _print_results(done)
        results.extend(done)
    # Rollup folders after the files, so that a roster imported alongside is there to check them against.
    for folder in folders:
        failed += _print_results([import_rollups(con, folder, user=args.user)])
    calibration = [r for r in results if r.ok and r.dataset == "calibration"]
    if calibration:
        _label_order_after(con, args.label_order)
    elif args.label_order:
        print("uplift: no file was imported as calibration, so --label-order was not saved", file=sys.stderr)
        return 1
    return 1 if failed else 0


def _command_that_imports(path: Path, placement: Placement, args: argparse.Namespace) -> str:
    """The command that would import a file its columns could not place: the closest dataset, the columns
    already mapped, and a --map for each column still needed (HEADER where no header is left to guess)."""
    words = ["uplift", *(["--db", args.db] if args.db else []), "import", str(path), "--dataset", placement.dataset]
    for header, column in dict(args.map or []).items():
        words += ["--map", f"{header}={column}"]
    for column, header in placement.needs.items():
        words += ["--map", f"{header or 'HEADER'}={column}"]
    words += ["--keep-going"] if args.keep_going else []
    words += ["--date-order", args.date_order] if args.date_order else []
    guessed = "" if all(placement.needs.values()) else " (with HEADER the column that holds it)"
    return f"Import it with: {shlex.join(words)}{guessed}"


def _label_order_after(con: duckdb.DuckDBPyConnection, order: list[str] | None) -> None:
    """Save the calibration labels' order given, or say how to give one when the labels are names."""
    if order:
        save_order(con, order)
        print(f"saved the order of calibration labels: {' < '.join(order)} (agreement is now ordinal)")
        return
    if saved_order(con) is not None:
        return
    from metrics.agreement import measurement_level  # numpy and scipy, only after a calibration import

    level = measurement_level(stored_labels(con))
    if level.level == "nominal":
        print(f"calibration labels read as names ({', '.join(map(str, level.categories[:6]))}): if they are "
              "ordered, give their order with --label-order LOWEST,...,HIGHEST or on the Calibration page")


def cmd_sheets(args: argparse.Namespace) -> int:
    store = _open(args)
    con = store.cursor()
    results = import_sheet(
        con, args.url, credentials=args.credentials, keep_going=args.keep_going, user=args.user,
        date_order=args.date_order,
    )
    return _print_results(results)


def cmd_imports(args: argparse.Namespace) -> int:
    store = _open(args, batch=False, create=False)
    frame = history(store.cursor())
    if frame.empty:
        print("no imports yet")
        return 0
    cols = ["import_id", "imported_at", "imported_by", "dataset", "source", "rows_read", "rows_added",
            "rows_replaced", "rows_rejected", "rows_skipped", "status"]
    print(frame[cols].to_string(index=False))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    store = _open(args)
    print(undo(store.cursor(), args.import_id, user=args.user))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    store = _open(args)
    con = store.cursor()
    if args.remove:
        print(remove_sample(con, user=args.user).message)
        return 0
    if args.if_empty:
        row = con.execute("SELECT count(*) FROM imports WHERE status = 'active'").fetchone()
        if row and row[0]:
            print(f"{store.path} already holds data: sample not loaded (drop --if-empty to add it)")
            return 0
    return _print_results(load_sample(con))


def cmd_mappings(args: argparse.Namespace) -> int:
    store = _open(args, batch=False, create=False)
    every = saved_mappings(store.cursor())
    if not every:
        print("no saved mappings: save one on the Data page (Remember this mapping), or map with --map HEADER=COLUMN")
        return 0
    for m in every:
        name = m.name or "(no name: give it one on the Data page)"
        pairs = ", ".join(f"{h} -> {c}" for h, c in m.renames.items())
        print(f"{name}\t{m.dataset}\t{pairs}\tsaved {m.saved_at:%Y-%m-%d %H:%M}")
    return 0


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


@dataclass(frozen=True)
class Command:
    """One subcommand: its name and help, the action a roles file must allow, its arguments, its work.
    A new subcommand is a function taking the parsed arguments and one entry in COMMANDS."""

    name: str
    help: str
    needs: str  # an action of access.roles.ACTIONS
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None] = lambda _p: None


def _header_to_column(text: str) -> tuple[str, str]:
    header, sep, column = text.rpartition("=")
    if not sep or not header.strip() or not column.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write HEADER=COLUMN, e.g. --map annotator=rater_id")
    return header.strip(), column.strip()


def _label_list(text: str) -> list[str]:
    labels = [part.strip() for part in text.split(",") if part.strip()]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise argparse.ArgumentTypeError(f"{text!r}: give two or more different labels, lowest first, e.g. "
                                         "--label-order none,mild,moderate,severe")
    return labels


def _import_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+")
    p.add_argument("--dataset", choices=sorted(DATASETS), help="skip recognition: the files hold this dataset")
    p.add_argument("--map", action="append", type=_header_to_column, metavar="HEADER=COLUMN",
                   help="the file's HEADER holds COLUMN (repeat it; other headers are recognised), e.g. "
                        "--map annotator=rater_id --map round=session_id")
    p.add_argument("--mapping", metavar="NAME", help="a mapping saved on the Data page, by name (`uplift mappings`)")
    p.add_argument("--date-order", choices=["dmy", "mdy"], help="for dates like 04/03/2026: day-first or month-first")
    p.add_argument("--keep-going", action="store_true", help="import the good rows and keep bad ones with reasons")
    p.add_argument("--label-order", type=_label_list, metavar="LOWEST,...,HIGHEST",
                   help="calibration labels are ordered (e.g. none,mild,moderate,severe): saved, and agreement "
                        "becomes ordinal; numbers need no order")


def _sheets_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("url")
    p.add_argument("--credentials", help="service-account key file (default: .streamlit/secrets.toml, else link sharing)")
    p.add_argument("--date-order", choices=["dmy", "mdy"])
    p.add_argument("--keep-going", action="store_true")


def _undo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("import_id", type=int)


def _backup_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="?", help="where (default: backups/ beside the database)")


def _restore_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("backup")


def _sample_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--if-empty", action="store_true", help="only into a database with no imports")
    which.add_argument("--remove", action="store_true",
                       help="take the sample data out (every sample import undone); your own imports stay")


COMMANDS = (
    Command("import", "import CSV/TSV/XLSX files or folders of them", "import", cmd_import, _import_arguments),
    Command("rollup", "roll raw decisions (Parquet or CSV in a lakehouse) up into a folder to import, on DuckDB "
            "or Spark", "import", rollup.cmd_rollup, rollup.rollup_arguments),
    Command("sheets", "import every worksheet of a Google Sheet", "import", cmd_sheets, _sheets_arguments),
    Command("imports", "the import log", "view", cmd_imports),
    Command("undo", "take an import back", "undo", cmd_undo, _undo_arguments),
    Command("backup", "copy the database to a backup file", "backup", cmd_backup, _backup_arguments),
    Command("restore", "put a backup in place of the database (the current file is kept)", "restore", cmd_restore,
            _restore_arguments),
    Command("sample", "load the bundled sample data, or take it out with --remove", "import", cmd_sample,
            _sample_arguments),
    Command("mappings", "the column mappings saved on the Data page, with their names", "view", cmd_mappings),
    Command("report", "write the weekly report (HTML, or PDF with Chromium) for a week", "view", reports.cmd_report,
            reports.report_arguments),
    Command("alerts", f"print figures beyond their control limits and new weak spots (exit {reports.ALERTS_FOUND} "
            "when there is something to send)", "view", reports.cmd_alerts, reports.alerts_arguments),
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="uplift", description="Import training, QA and assessment data into Uplift.")
    p.add_argument("--db", default=None, help=f"database file (default: $UPLIFT_DB or {db_path()})")
    p.add_argument("--user", default=None, help="who to record in the import log (default: login name)")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        one = sub.add_parser(command.name, help=command.help)
        command.arguments(one)
        one.set_defaults(command_spec=command)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Whatever the command writes (the database's WAL, backups) is readable by its owner only.
    os.umask(0o077)
    try:
        acting = cli_user(args.user)
        if acting.warning:
            print(f"uplift: {acting.warning}", file=sys.stderr)
        who = acting.user
        command: Command = args.command_spec
        action = command.needs
        if not who.can(action):
            print(f"uplift: {who.email} is a {who.role}; {args.command} needs the role that may {action} "
                  f"(see {roles_file()})", file=sys.stderr)
            return 3
        args.user = who.email
        return int(command.run(args))
    except (StoreError, ImportRefused, NotATable, SheetsError, RolesError, reports.ReportError, RollupError,
            EngineError) as exc:
        print(f"uplift: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        explained = explain_failure(exc, str(args.db or db_path()))
        print(f"uplift: {explained or f'unexpected error ({type(exc).__name__}: {exc}); nothing was changed'}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("uplift: interrupted; the store is as it was before the interrupted import", file=sys.stderr)
        return 130
    except Exception as exc:  # a last guard: one line for people, never a traceback
        print(f"uplift: unexpected error ({type(exc).__name__}: {exc}); nothing was changed", file=sys.stderr)
        return 1


