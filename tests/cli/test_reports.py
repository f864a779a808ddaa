"""`uplift alerts` (and the week it picks): what a scheduler sends, once per new weak spot."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

import cli
from cli.reports import ALERTS_FOUND, iso_week
from tests.app.conftest import needs_sample


@pytest.fixture
def db(sample_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "alerts.duckdb"
    shutil.copy(sample_db, copy)
    return str(copy)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts") / "sample.duckdb"
    assert cli.main(["--db", str(path), "sample"]) == 0
    return path


def test_iso_weeks_are_read_as_their_monday() -> None:
    assert iso_week("2026-W43") == dt.date(2026, 10, 19) and iso_week("2026w1") == dt.date(2025, 12, 29)
    with pytest.raises(Exception, match="ISO week"):
        iso_week("last week")


@needs_sample
def test_alerts_send_a_figure_beyond_its_limits_and_each_weak_spot_once(db: str, capsys) -> None:
    # Week 43 of the sample: quality falls beyond its control limits, and the planted weak spot is flagged.
    assert cli.main(["--db", db, "alerts", "--week", "2026-W43", "--dry-run"]) == ALERTS_FOUND
    first = capsys.readouterr().out
    assert "Quality" in first and "beyond its control limits" in first
    assert "weak spot VN x Bullying & Harassment" in first
    assert cli.main(["--db", db, "alerts", "--week", "2026-W43"]) == ALERTS_FOUND
    capsys.readouterr()
    # Run again: the weak spots were sent; the figure beyond its limits is still news for this week.
    assert cli.main(["--db", db, "alerts", "--week", "2026-W43"]) == ALERTS_FOUND
    again = capsys.readouterr().out
    assert "weak spot" not in again and "beyond its control limits" in again


@needs_sample
def test_a_quiet_week_exits_zero_and_says_so(db: str, capsys) -> None:
    assert cli.main(["--db", db, "alerts", "--week", "2025-W10"]) == 0  # before the data: nothing to send
    out = capsys.readouterr()
    assert out.out == "" and "no alerts for 2025-W10" in out.err


@needs_sample
def test_report_writes_the_weeks_html_and_presents_when_asked(db: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "week.html"
    assert cli.main(["--db", db, "report", "--week", "2026-W37", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "ISO week 37" in page and "<svg" in page
    assert "Hate Speech refresher" in page or "REF-2026-09-HS" in page or "refresher" in page.lower()
    presented = tmp_path / "week-presenting.html"
    assert cli.main(["--db", db, "report", "--week", "2026-W37", "--markets", "TH", "--present",
                     "--out", str(presented)]) == 0
    text = presented.read_text(encoding="utf-8")
    assert "Presenter mode" in text and "Markets: TH." in text
    assert "wrote" in capsys.readouterr().out


@needs_sample
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="a PDF needs Debian's chromium")
def test_report_prints_a_pdf_with_chromium(db: str, tmp_path: Path) -> None:
    out = tmp_path / "week.pdf"
    assert cli.main(["--db", db, "report", "--week", "2026-W37", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_size > 10_000


def test_a_week_without_reviews_is_refused_in_one_line(db: str, tmp_path: Path, capsys) -> None:
    assert cli.main(["--db", db, "report", "--week", "2025-W10", "--out", str(tmp_path / "x.html")]) == 1
    assert "nothing to report" in capsys.readouterr().err and not (tmp_path / "x.html").exists()
