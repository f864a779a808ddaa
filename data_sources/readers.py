"""Turn a file, a workbook sheet or a sheet's values into a staging table of text cells in DuckDB.

Every source ends up the same way: a temporary table `c0 .. cN VARCHAR` on the caller's connection,
plus the header row. Typing, validation and keys happen later, in SQL.
Large CSV files are streamed by DuckDB's reader, never loaded whole into Python.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 256 * 1024
CHUNK = 4 * 1024 * 1024
# The widest table Uplift stages: the widest dataset has 13 columns, and exports carry extra ones, but a
# file with thousands is not an export (100,000 text columns took DuckDB past 4 GB before it failed).
MAX_COLUMNS = 1000
# DuckDB's reader rejects a row longer than this (its max_line_size default), and above about 33 MB drops
# it without a reject record: rows are measured against it independently (see account_for_lines).
MAX_ROW_BYTES = 2_000_000
_staging_counter = itertools.count(1)


class NotATable(Exception):
    """The input cannot be read as a table; the message says why, for people."""


class EmptySheet(NotATable):
    """A sheet with no header row: normal in a workbook, where it is skipped."""


@dataclass
class RawTable:
    """One sheet or file, staged as text in DuckDB."""

    source: str  # file name or sheet URL
    tab: str | None  # worksheet name, for workbooks and Google Sheets
    headers: list[str]
    table: str  # temporary staging table on the connection that staged it
    rows: int
    content_hash: str
    delimiter: str | None = None
    encoding: str | None = None
    # Rows the reader itself could not split into cells: (row number, raw line, reason).
    read_rejects: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # SQL for a row's number in the source (header = row 1) over the staging table aliased `s`.
    row_expr: str = "s.row_number"
    # Rows the source holds below its header, counted apart from the parser (blank lines not counted):
    # every import checks staged + rejected rows against it, so no row vanishes unaccounted.
    rows_in_file: int | None = None

    @property
    def label(self) -> str:
        return f"{self.source} [{self.tab}]" if self.tab else self.source


def _new_table_name() -> str:
    return f"staging_{next(_staging_counter)}"


def file_hash(path: Path) -> str:
    return scan_file(path).digest


@dataclass(frozen=True)
class FileScan:
    digest: str  # sha256 of the bytes
    lines: int  # physical lines, counting a last line without a newline


def scan_file(path: Path) -> FileScan:
    """The file's hash and its physical line count, in one read (bytes.count is C speed; the hash releases
    the GIL, so this runs beside DuckDB's read of the same file)."""
    digest = hashlib.sha256()
    newlines, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return FileScan(digest.hexdigest(), newlines + (0 if last == b"\n" else 1))


# ---- recognising what a file is ---------------------------------------------------------------------

def sniff_kind(head: bytes) -> str:
    """'xlsx', 'xls', 'empty', 'binary', or 'text' from a file's first bytes."""
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return "empty"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    sample = head[:8192]
    if b"\x00" in sample:
        # UTF-16 without a BOM has a NUL beside nearly every ASCII byte; anything else with NULs is binary.
        if sample[1::2].count(0) > len(sample) * 0.4 or sample[0::2].count(0) > len(sample) * 0.4:
            return "text"
        return "binary"
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if controls > len(sample) * 0.05:
        return "binary"
    return "text"


def detect_encoding(head: bytes, *, truncated: bool = False) -> str:
    """utf-8-sig, utf-16 (BOM or NUL pattern), utf-8, or cp1252 as the last resort."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:8192]
    if b"\x00" in sample:
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if truncated and exc.start >= len(head) - 4:
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        raise NotATable(
            "the text encoding is not one Uplift reads (UTF-8, UTF-16 or Windows-1252); "
            "save the file as CSV UTF-8 and try again"
        ) from exc


def detect_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first lines into the most, equally wide, columns."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut short
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=delim, strict=False)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delim, score
    return best


# ---- CSV and text files ------------------------------------------------------------------------------

# ---- temporary files: uploads and transcodes -----------------------------------------------------------
# Named uplift-<pid>-..., owner-only, and removed in a `finally`; a process killed before its `finally`
# leaves them behind, so the next process to open a store removes those of processes no longer running.
_TEMP_PREFIX = "uplift-"


def _temp_file(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-", suffix=suffix)  # mode 0600
    os.close(fd)
    return Path(name)


def sweep_temp_files(folder: Path | None = None) -> int:
    """Remove temporary files left by Uplift processes that are gone (killed mid-read). Returns how many."""
    removed = 0
    for path in Path(folder or tempfile.gettempdir()).glob(f"{_TEMP_PREFIX}*-*"):
        pid = path.name[len(_TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def read_upload(
    con: duckdb.DuckDBPyConnection, data: bytes | memoryview, name: str
) -> list[RawTable]:
    """Stage an uploaded file. DuckDB reads files, not buffers: the bytes go to an owner-only temporary
    file, removed however the read ends."""
    path = _temp_file(Path(name).suffix or ".csv")
    try:
        path.write_bytes(data)
        return read_path(con, path, display_name=name)
    finally:
        path.unlink(missing_ok=True)


def _transcode_to_utf8(path: Path, encoding: str) -> Path:
    """Stream a UTF-16 or cp1252 file into a UTF-8 temporary file DuckDB can read (the caller removes it;
    here only when the transcoding itself fails)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    target = _temp_file(".csv")
    try:
        with open(path, "rb") as fh, open(target, "wb") as out:
            while chunk := fh.read(CHUNK):
                out.write(decoder.decode(chunk).encode("utf-8"))
            out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _header_line(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                return [cell.strip().lstrip("\ufeff") for cell in row]
    except csv.Error:
        return []  # no readable header row: the caller says so
    return []


def read_csv_file(
    con: duckdb.DuckDBPyConnection, path: Path, *, display_name: str | None = None
) -> RawTable:
    """Stage a delimited text file. Raises NotATable with a message for people."""
    name = display_name or path.name
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    kind = sniff_kind(head)
    if kind == "empty":
        raise NotATable(f"{name} is empty: there is no header row and no data")
    if kind in ("xlsx", "xls", "binary"):
        raise NotATable(_not_text_message(name, kind))
    encoding = detect_encoding(head, truncated=len(head) == SNIFF_BYTES)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    _check_header_fits(name, text, truncated=len(head) == SNIFF_BYTES)
    delimiter = detect_delimiter(text)
    headers = _header_line(text, delimiter)
    if not headers or not any(headers):
        raise NotATable(f"{name} has no header row")
    if len(headers) > MAX_COLUMNS:
        raise NotATable(
            f"{name} has {len(headers):,} columns; Uplift reads at most {MAX_COLUMNS:,}: export only the "
            "columns of one dataset (the Data page has templates)"
        )
    readable = path
    raw: RawTable | None = None
    try:
        if encoding not in ("utf-8", "utf-8-sig"):
            readable = _transcode_to_utf8(path, encoding)
        # The file's hash and line count are taken beside DuckDB's read of it rather than before: both
        # release the GIL, and on a large file the hash alone is a second or two.
        with ThreadPoolExecutor(max_workers=1) as pool:
            scanned = pool.submit(scan_file, readable)
            raw = _stage_csv(con, readable, name, headers, delimiter, encoding, content_hash="")
            scan = scanned.result()
        raw.content_hash = scan.digest if readable == path else file_hash(path)
        account_for_lines(raw, readable, scan)
    except BaseException:
        if raw is not None:
            drop(con, raw)
        raise
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)
    return raw


def _check_header_fits(name: str, text: str, *, truncated: bool) -> None:
    """A header row that does not end within the sniffed bytes is refused: reading on would take the
    delimiter and the column names from a cut line (and a file that wide is not an export)."""
    if truncated and "\n" not in text and "\r" not in text:
        raise NotATable(
            f"{name}: the header row is longer than {SNIFF_BYTES // 1024} KB, so it has far more columns than "
            f"Uplift reads (at most {MAX_COLUMNS:,}): export only the columns of one dataset"
        )


# ---- every line accounted for -----------------------------------------------------------------------

@dataclass
class LineAudit:
    """The file's rows as its quotes and newlines delimit them, counted without DuckDB's parser."""

    rows: int = 0  # rows below the header, blank lines not counted
    oversized: list[tuple[int, int, str]] = field(default_factory=list)  # (line, bytes, start of the row)
    unclosed: tuple[int, int] | None = None  # a quote opened on line a runs to line b (or the end)


def account_for_lines(raw: RawTable, path: Path, scan: FileScan) -> None:
    """Check that every row below the header was staged or rejected, and set `raw.rows_in_file`.

    Usually the physical line count settles it (one line per row). When it does not (cells holding line
    breaks, blank lines, an unclosed quote, a row DuckDB dropped for its size) the file is walked once more,
    by quotes and newlines only: an unclosed quote is refused naming its line, a row too long to read becomes
    a rejected row with its line, and any other difference is refused, since rows would go missing."""
    read = raw.rows + len(raw.read_rejects)
    if scan.lines - 1 == read:
        raw.rows_in_file = read
        return
    audit = audit_lines(path)
    if audit.unclosed is not None:
        start, end = audit.unclosed
        runs = "to the end of the file" if end < 0 else f"to line {end:,}"
        raise NotATable(
            f"{raw.source}: line {start:,} opens a quoted cell that is not closed, so everything from there "
            f"{runs} would be read as one cell; close or remove that quote and import again"
        )
    known = {line for line, *_r in raw.read_rejects}
    dropped = [(line, start, _too_long(size)) for line, size, start in audit.oversized if line not in known]
    if dropped:
        raw.read_rejects = sorted([*raw.read_rejects, *dropped])
        raw.row_expr = row_number_sql([line for line, *_r in raw.read_rejects])
        read += len(dropped)
    if audit.rows != read:
        raise NotATable(
            f"{raw.source} has {audit.rows:,} rows below its header but only {read:,} could be read or set "
            "aside with a reason; nothing was imported. Save it again as CSV UTF-8 and retry"
        )
    raw.rows_in_file = read


def audit_lines(path: Path) -> LineAudit:
    """Walk the file by newlines and quotes (a newline inside quotes continues the row; a doubled quote
    leaves the parity as it was), in pieces of at most CHUNK bytes, so a huge line costs no more memory."""
    audit = LineAudit()
    line = 1  # the header's line; rows start below it
    start, size, odd, blank, head = 0, 0, False, True, b""
    with open(path, "rb") as fh:
        fh.readline()
        while piece := fh.readline(CHUNK):
            if not size:
                start, blank, head = line + 1, True, piece[:200]
            size += len(piece)
            blank = blank and not piece.strip(b"\r\n")
            odd ^= bool(piece.count(b'"') % 2)
            if not piece.endswith(b"\n"):
                continue  # a piece of a long line, or the last line
            line += 1
            if odd:
                continue  # a line break inside a quoted cell
            _end_row(audit, start, line, size, blank, head)
            size = 0
    if size and odd:
        audit.unclosed = (start, -1)
    elif size:
        _end_row(audit, start, line + 1, size, blank, head)
    return audit


def _end_row(audit: LineAudit, start: int, end: int, size: int, blank: bool, head: bytes) -> None:
    if blank:
        return
    audit.rows += 1
    if size > MAX_ROW_BYTES:
        if end > start and audit.unclosed is None:
            audit.unclosed = (start, end)  # a quote left open swallowed lines until another closed it
        audit.oversized.append((start, size, head.decode("utf-8", errors="replace") + " ..."))


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    headers: list[str],
    delimiter: str,
    encoding: str,
    content_hash: str,
) -> RawTable:
    table = _new_table_name()
    width = len(headers)
    columns = {f"c{i}": "VARCHAR" for i in range(width)}
    con.execute("DROP TABLE IF EXISTS reject_errors")
    con.execute("DROP TABLE IF EXISTS reject_scans")
    try:
        # Quotes as Excel writes them; rows with the wrong number of cells go to reject_errors.
        con.execute(
            f"""CREATE TEMP TABLE {table} AS
                SELECT * FROM read_csv(?, delim = ?, header = false, skip = 1, all_varchar = true,
                    columns = ?, quote = '"', escape = '"', store_rejects = true, auto_detect = false,
                    new_line = ?)""",
            [str(path), delimiter, columns, _newline(path)],
        )
    except duckdb.Error as exc:
        raise NotATable(f"{name} could not be read as a table: {_first_line(exc)}") from exc
    rejects = con.execute(
        "SELECT line, any_value(csv_line), any_value(error_type), any_value(error_message) "
        "FROM reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    rows_row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    read_rejects = [
        (int(line), _shown(str(raw)), _reader_reason(str(kind), width)) for line, raw, kind, _msg in rejects
    ]
    notes = []
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"read as {encoding} text")
    if delimiter != ",":
        notes.append(f"cells separated by {_delimiter_name(delimiter)}")
    return RawTable(
        source=name, tab=None, headers=headers, table=table, rows=int(rows_row[0]) if rows_row else 0,
        content_hash=content_hash, delimiter=delimiter, encoding=encoding, read_rejects=read_rejects,
        notes=notes, row_expr=row_number_sql([line for line, *_r in read_rejects]),
    )


def row_number_sql(reject_lines: list[int]) -> str:
    """Row numbers as a spreadsheet shows them (the header is row 1), computed from rowid when needed
    rather than stored: rows the reader rejected still count, so later rows shift past them."""
    return "(s.rowid + 2" + "".join(
        f" + CASE WHEN s.rowid >= {int(line) - i - 2} THEN 1 ELSE 0 END" for i, line in enumerate(sorted(reject_lines))
    ) + ")"


def _shown(raw_line: str, limit: int = 10_000) -> str:
    """A rejected line as kept with its reason: whole, unless it is huge."""
    return raw_line if len(raw_line) <= limit else raw_line[:limit] + f" ... ({len(raw_line):,} characters)"


def _newline(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    return "\\r\\n" if b"\r\n" in head else "\\n"


def _reader_reason(kind: str, width: int) -> str:
    if kind == "MISSING COLUMNS":
        return f"has fewer cells than the {width} columns of the header"
    if kind == "TOO MANY COLUMNS":
        return f"has more cells than the {width} columns of the header"
    if kind == "INVALID ENCODING" or kind == "INVALID UNICODE":
        return "contains bytes that are not valid text"
    if kind == "UNQUOTED VALUE":
        return "has a quote in the middle of a cell"
    if kind == "LINE SIZE OVER MAXIMUM":
        return _too_long()
    return kind.lower()


def _too_long(size: int | None = None) -> str:
    shown = f" ({size / 1_000_000:.0f} MB)" if size else ""
    return f"is longer{shown} than the {MAX_ROW_BYTES // 1_000_000} MB one row may hold; shorten its cells"


def _delimiter_name(d: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}[d]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _not_text_message(name: str, kind: str) -> str:
    if kind == "xlsx":
        return f"{name} is an Excel workbook, not CSV text: upload it with the .xlsx extension"
    if kind == "xls":
        return f"{name} is an old Excel 97-2003 workbook (.xls): save it as .xlsx or CSV UTF-8 and try again"
    return f"{name} is not a text table (it contains binary data): export the sheet as CSV or .xlsx"


# ---- workbooks and sheet values ---------------------------------------------------------------------

def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def max_sheet_rows() -> int:
    """The most rows a worksheet may hold: Excel's own limit, or `UPLIFT_MAX_SHEET_ROWS` (tests lower it)."""
    return int(os.environ.get("UPLIFT_MAX_SHEET_ROWS") or 1_048_576)


_BATCH = 50_000  # rows held in Python at once while staging sheet values


def stage_values(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[Sequence[object]],
    *,
    source: str,
    tab: str | None,
    content_hash: str | None = None,
) -> RawTable:
    """Stage rows of cell values (a worksheet, a Google Sheet). The first non-empty row is the header."""
    it: Iterator[Sequence[object]] = iter(rows)
    label = f"{source} [{tab}]" if tab else source
    header_row_number, headers = _header_row(it, label)
    return _stage_rows(con, it, headers, header_row_number, source=source, tab=tab, content_hash=content_hash)


def _header_row(rows: Iterator[Sequence[object]], label: str) -> tuple[int, list[str]]:
    """The first non-empty row's number and cells (trailing blanks dropped); refused when too wide."""
    for number, raw in enumerate(rows, start=1):
        cells = [cell_text(v).strip() for v in itertools.islice(raw, MAX_COLUMNS + 1)]
        while cells and not cells[-1]:
            cells.pop()
        if len(cells) > MAX_COLUMNS:
            raise NotATable(
                f"{label} has more than {MAX_COLUMNS:,} columns in its header row; Uplift reads at most "
                f"{MAX_COLUMNS:,}: keep only the columns of one dataset"
            )
        if cells:
            return number, cells
    raise EmptySheet(f"{label} is empty: there is no header row and no data")


def _stage_rows(
    con: duckdb.DuckDBPyConnection,
    rows: Iterator[Sequence[object]],
    headers: list[str],
    header_row_number: int,
    *,
    source: str,
    tab: str | None,
    content_hash: str | None,
) -> RawTable:
    """The rows below the header into a staging table, a batch at a time, so memory stays flat whatever
    the sheet's size; a sheet with more rows than max_sheet_rows() is refused."""
    label, width, limit = f"{source} [{tab}]" if tab else source, len(headers), max_sheet_rows()
    table = _new_table_name()
    con.execute(f"CREATE TEMP TABLE {table} ({', '.join(f'c{i} VARCHAR' for i in range(width))}, row_number BIGINT)")
    digest = hashlib.sha256(repr(headers).encode("utf-8", errors="replace"))
    staged, batch, numbers = 0, list[list[str]](), list[int]()
    try:
        for offset, raw in enumerate(rows, start=1):
            cells = [cell_text(v) for v in itertools.islice(raw, width)]
            if not any(c.strip() for c in cells):
                continue
            if staged + len(batch) >= limit:
                raise NotATable(
                    f"{label} has more than {limit:,} rows, more than a worksheet holds: split it, or save it as CSV"
                )
            batch.append(cells + [""] * (width - len(cells)))
            numbers.append(header_row_number + offset)
            if len(batch) == _BATCH:
                staged += _insert_batch(con, table, batch, numbers, digest)
                batch, numbers = [], []
        staged += _insert_batch(con, table, batch, numbers, digest)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        raise
    return RawTable(source=source, tab=tab, headers=headers, table=table, rows=staged,
                    content_hash=content_hash or digest.hexdigest(), rows_in_file=staged)


def _insert_batch(
    con: duckdb.DuckDBPyConnection, table: str, batch: list[list[str]], numbers: list[int], digest: Any
) -> int:
    if not batch:
        return 0
    digest.update(repr(batch).encode("utf-8", errors="replace"))
    width = len(batch[0])
    frame = pd.DataFrame(batch, columns=[f"c{i}" for i in range(width)], dtype="string")
    frame["row_number"] = pd.Series(numbers, dtype="int64")
    con.register("incoming_values", frame)
    try:
        casts = ", ".join(f"CAST(nullif(c{i}, '') AS VARCHAR)" for i in range(width))
        con.execute(f"INSERT INTO {table} SELECT {casts}, row_number FROM incoming_values")
    finally:
        con.unregister("incoming_values")
    return len(batch)


def read_workbook(con: duckdb.DuckDBPyConnection, path: Path, *, display_name: str | None = None) -> list[RawTable]:
    """Stage every non-empty sheet of an .xlsx workbook, streaming (openpyxl's read-only mode) and within
    bounds of our own: a sheet's declared dimension is not trusted (one cell in column XFD would make
    every row 16,384 cells wide), so rows are read only as wide as the header and only as many as
    max_sheet_rows()."""
    from openpyxl import load_workbook  # only needed for workbooks

    name = display_name or path.name
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise NotATable(f"{name} is not a readable .xlsx workbook ({_first_line(exc)})") from exc
    digest = file_hash(path)
    tables = []
    try:
        for sheet in book.worksheets:
            label = f"{name} [{sheet.title}]"
            try:
                number, headers = _header_row(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True), label)
            except EmptySheet:
                continue  # empty sheets in a workbook are normal; skip them
            body = sheet.iter_rows(min_row=number + 1, max_row=number + max_sheet_rows() + 1, max_col=len(headers),
                                   values_only=True)
            tables.append(_stage_rows(con, body, headers, number, source=name, tab=sheet.title,
                                      content_hash=f"{digest}:{sheet.title}"))
    except BaseException:
        for staged in tables:
            drop(con, staged)
        raise
    finally:
        book.close()
    if not tables:
        raise NotATable(f"{name} has no sheet with a header row and data")
    return tables


def read_path(con: duckdb.DuckDBPyConnection, path: Path, *, display_name: str | None = None) -> list[RawTable]:
    """Stage a file of any supported kind: .xlsx (each sheet), else delimited text."""
    name = display_name or path.name
    if not path.exists():
        raise NotATable(f"{name}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not head.startswith(b"PK\x03\x04"):
            raise NotATable(f"{name} has an .xlsx name but is not a workbook: export it again from Excel")
        return read_workbook(con, path, display_name=name)
    return [read_csv_file(con, path, display_name=name)]


def drop(con: duckdb.DuckDBPyConnection, raw: RawTable) -> None:
    con.execute(f"DROP TABLE IF EXISTS {raw.table}")
