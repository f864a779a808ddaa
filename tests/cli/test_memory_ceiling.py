"""Hostile files meet a memory ceiling: the `uplift` command, run in a child process limited to 1.5 GB of
address space, refuses them in one sentence (or reads them within bounds) and is never killed (issue 10,
"No memory ceiling"). Every file is generated here."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

LIMIT_BYTES = int(1.5 * 1024**3)
ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from cli import main
sys.exit(main(sys.argv[1:]))
"""


def uplift_limited(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD.format(limit=LIMIT_BYTES), "--db", str(tmp_path / "u.duckdb"), *args],
        capture_output=True, text=True, timeout=240, cwd=ROOT, env={**os.environ, **(env or {})},
    )


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(path: Path, rows: list[list[tuple[str, str]]], dimension: str) -> Path:
    """A minimal .xlsx whose sheet holds `rows` of (column letters, text) cells, declaring `dimension`."""
    sheet_rows = "".join(
        f'<row r="{n}">' + "".join(_cell(f"{col}{n}", text) for col, text in cells) + "</row>"
        for n, cells in enumerate(rows, start=1)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'))
        z.writestr("xl/worksheets/sheet1.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><dimension ref="{dimension}"/>'
            f"<sheetData>{sheet_rows}</sheetData></worksheet>"))
    return path


def roster_rows(n: int, *, far_cell: bool) -> list[list[tuple[str, str]]]:
    """A roster; with `far_cell`, every row (the header too) also has a cell in the last column, XFD."""
    extra = [("XFD", "x")] if far_cell else []
    return [[("A", "trainee_id"), ("B", "market"), *extra]] + [
        [("A", f"T{i}"), ("B", "TH"), *extra] for i in range(n)
    ]


def assert_not_killed(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode >= 0, f"killed by signal {-done.returncode}"
    assert "Traceback" not in done.stderr and "Out of Memory" not in done.stderr and "MemoryError" not in done.stderr


def test_a_workbook_with_a_cell_in_column_xfd_on_every_row_is_read_within_bounds(tmp_path):
    """Every row, the header too, reaches column XFD: read whole, each row would be 16,384 cells (the
    issue's 681 KB workbook took the CLI past 6 GB). Columns past the stated maximum are not read, and
    rows only as wide as the header's columns within it."""
    rows = 30_000
    book = write_xlsx(tmp_path / "xfd.xlsx", roster_rows(rows, far_cell=True), f"A1:XFD{rows + 1}")
    done = uplift_limited(tmp_path, "import", str(book))
    assert_not_killed(done)
    assert done.returncode == 0, done.stderr
    assert f"{rows} added" in done.stdout


def test_a_workbook_with_a_header_wider_than_the_stated_maximum_is_refused(tmp_path):
    from openpyxl.utils import get_column_letter

    header = [(get_column_letter(i), f"c{i}") for i in range(1, 1201)]
    rows = [header, *roster_rows(100, far_cell=True)[1:]]
    book = write_xlsx(tmp_path / "wide.xlsx", rows, "A1:XFD101")
    done = uplift_limited(tmp_path, "import", str(book))
    assert_not_killed(done)
    assert done.returncode == 1
    assert "has more than 1,000 columns in its header row" in done.stderr


def test_a_workbook_with_more_rows_than_a_sheet_holds_is_refused(tmp_path):
    """The issue's 3M-row workbook, with the bound lowered so the test stays quick."""
    book = write_xlsx(tmp_path / "long.xlsx", roster_rows(3_000, far_cell=False), "A1:B2")
    done = uplift_limited(tmp_path, "import", str(book), env={"UPLIFT_MAX_SHEET_ROWS": "1000"})
    assert_not_killed(done)
    assert done.returncode == 1
    assert "has more than 1,000 rows, more than a worksheet holds" in done.stderr


def test_a_csv_with_100000_columns_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "wide.csv"
    width = 100_000
    with open(path, "w") as fh:
        fh.write(",".join(f"col{i}" for i in range(width)) + "\n")
        for r in range(5):
            fh.write(",".join(str(r) for _ in range(width)) + "\n")
    done = uplift_limited(tmp_path, "import", str(path))
    assert_not_killed(done)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "the header row is longer than 256 KB" in line


@pytest.mark.parametrize("width", [5_000])
def test_a_csv_wider_than_the_stated_maximum_is_refused(tmp_path, width):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(width)) + "\n" + ",".join("1" for _ in range(width)) + "\n")
    done = uplift_limited(tmp_path, "import", str(path))
    assert_not_killed(done)
    assert done.returncode == 1
    assert f"has {width:,} columns; Uplift reads at most 1,000" in done.stderr
