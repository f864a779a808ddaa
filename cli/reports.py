"""`uplift report` and `uplift alerts`: the weekly figures for schedulers (cron), under the same roles and
presenter rules as the app."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from access.roles import cli_user
from data_sources import alert_state
from data_sources.store import open_store
from metrics.filters import Filters, within_markets
from outgoing.alerts import new_since, week_alerts
from outgoing.export_log import log_export
from outgoing.weekly_report import summarise_week, weekly_report_html
from ui import charts

ALERTS_FOUND = 10  # the exit code when there is something to send (1 is an error, 0 nothing new)
_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def iso_week(text: str) -> dt.date:
    """'2026-W40' (or '2026W40') -> that ISO week's Monday."""
    match = _ISO_WEEK.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO week: write it like 2026-W40")
    try:
        return dt.date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO week of that year") from exc


def markets(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def scope(args: argparse.Namespace) -> tuple[Filters, tuple[str, ...]]:
    """The filters a report or alert is made for: the markets asked for, within those the user may see."""
    who = cli_user(args.user).user
    return within_markets(Filters(markets=args.markets or ()), who.markets), who.markets


def last_week(con: object) -> dt.date:
    """The Monday of the last ISO week the data covers to its Sunday (the week a Monday cron job reports)."""
    row = con.execute("SELECT max(date) FROM decision_daily").fetchone()  # type: ignore[attr-defined]
    latest = row[0] if row and row[0] else dt.date.today()
    return latest - dt.timedelta(days=latest.weekday() + (7 if latest.weekday() < 6 else 0))


def cmd_alerts(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    con = store.cursor()
    filters, visible = scope(args)
    week = args.week or last_week(con)
    found = week_alerts(con, filters, week, visible_markets=visible)
    where = ",".join(filters.markets) or "all"
    to_send = new_since(found, alert_state.known(con, where))
    for alert in to_send:
        print(alert.text)
    if not args.dry_run:
        alert_state.remember(con, where, {a.key for a in found if a.kind == "new_weak_spot"})
    if not to_send:
        print(f"no alerts for {week.isocalendar().year}-W{week.isocalendar().week:02d}", file=sys.stderr)
    return ALERTS_FOUND if to_send else 0


CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def print_pdf(html_text: str, out: Path) -> None:
    """The report printed to PDF by a headless Chromium, from the very same HTML (no network: the HTML has
    no reference to any). Raises ReportError when no Chromium is installed."""
    browser = next((b for b in CHROMIUM if Path(b).exists()), None) or shutil.which("chromium")
    if browser is None:
        raise ReportError("a PDF needs Chromium (Debian: apt-get install chromium); write .html instead")
    with tempfile.TemporaryDirectory(prefix="uplift-report-") as folder:
        page = Path(folder) / "report.html"
        page.write_text(html_text, encoding="utf-8")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", f"--user-data-dir={folder}/profile",
                        f"--print-to-pdf={out.resolve()}", "--no-pdf-header-footer", page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)


class ReportError(Exception):
    """A report that cannot be written; the message says why and what to do."""


def cmd_report(args: argparse.Namespace) -> int:
    who = cli_user(args.user).user
    presenting = bool(args.present) or not who.can("trainee_data")  # viewers see aggregates only
    store = open_store(args.db)
    con = store.cursor()
    filters, visible = scope(args)
    week_start = args.week or last_week(con)
    week = summarise_week(con, filters, week_start, visible_markets=visible, presenting=presenting)
    iso = week_start.isocalendar()
    if week is None:
        print(f"uplift: no reviews in {iso.year}-W{iso.week:02d} for these markets: nothing to report", file=sys.stderr)
        return 1
    figure = charts.week_chart(week)
    html_text = weekly_report_html(week, p_chart_svg=charts.svg(figure) if figure is not None else None)
    out = Path(args.out)
    if out.suffix.lower() == ".pdf":
        print_pdf(html_text, out)
    else:
        out.write_text(html_text, encoding="utf-8")
    log_export(con, user=who.email, what=f"weekly report {iso.year}-W{iso.week:02d} (command line)",
               rows=len(week.sessions), presenter=presenting)
    print(f"wrote {out} ({iso.year}-W{iso.week:02d}{', presenting' if presenting else ''})")
    return 0


def report_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--week", type=iso_week, help="the ISO week, e.g. 2026-W40 (default: the last complete week)")
    p.add_argument("--markets", type=markets, help="comma-separated markets, e.g. TH,VN (default: all you may see)")
    p.add_argument("--present", action="store_true", help="presenter rules: no figure about fewer than 5 people")
    p.add_argument("--out", required=True, help="the file to write: .html, or .pdf (printed by Chromium)")


def alerts_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--week", type=iso_week, help="the ISO week, e.g. 2026-W40 (default: the last complete week)")
    p.add_argument("--markets", type=markets, help="comma-separated markets, e.g. TH,VN (default: all you may see)")
    p.add_argument("--dry-run", action="store_true", help="print the alerts without remembering them as sent")
