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
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 256 * 1024
CHUNK = 4 * 1024 * 1024
_staging_counter = itertools.count(1)


class NotATable(Exception):
    """The input cannot be read as a table; the message says why, for people."""


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

    @property
    def label(self) -> str:
        return f"{self.source} [{self.tab}]" if self.tab else self.source


def _new_table_name() -> str:
    return f"staging_{next(_staging_counter)}"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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

def _transcode_to_utf8(path: Path, encoding: str) -> Path:
    """Stream a UTF-16 or cp1252 file into a UTF-8 temporary file DuckDB can read."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    out = tempfile.NamedTemporaryFile(prefix="uplift-", suffix=".csv", delete=False)  # noqa: SIM115
    with open(path, "rb") as fh, out:
        while chunk := fh.read(CHUNK):
            out.write(decoder.decode(chunk).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(out.name)


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
    delimiter = detect_delimiter(text)
    headers = _header_line(text, delimiter)
    if not headers or not any(headers):
        raise NotATable(f"{name} has no header row")
    readable = path
    if encoding not in ("utf-8", "utf-8-sig"):
        readable = _transcode_to_utf8(path, encoding)
    # The file's hash is taken beside DuckDB's read of it rather than before: both release the GIL, and on a
    # large file the hash alone is a second or two.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(file_hash, path)
        try:
            raw = _stage_csv(con, readable, name, headers, delimiter, encoding, content_hash="")
        finally:
            if readable != path:
                readable.unlink(missing_ok=True)
        raw.content_hash = digest.result()
    return raw


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
    # Row numbers as a spreadsheet shows them (the header is row 1), computed from rowid when needed
    # rather than stored: rows the reader rejected still count, so later rows shift past them.
    row_expr = "(s.rowid + 2" + "".join(
        f" + CASE WHEN s.rowid >= {int(line) - i - 2} THEN 1 ELSE 0 END" for i, (line, *_r) in enumerate(rejects)
    ) + ")"
    rows_row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    read_rejects = [
        (int(line), str(raw), _reader_reason(str(kind), width)) for line, raw, kind, _msg in rejects
    ]
    notes = []
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"read as {encoding} text")
    if delimiter != ",":
        notes.append(f"cells separated by {_delimiter_name(delimiter)}")
    return RawTable(
        source=name, tab=None, headers=headers, table=table, rows=int(rows_row[0]) if rows_row else 0,
        content_hash=content_hash, delimiter=delimiter, encoding=encoding, read_rejects=read_rejects,
        notes=notes, row_expr=row_expr,
    )


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
    return kind.lower()


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
    header_row_number = 0
    headers: list[str] = []
    for header_row_number, raw in enumerate(it, start=1):  # noqa: B007 (the number is used after)
        cells = [cell_text(v).strip() for v in raw]
        if any(cells):
            headers = cells
            break
    label = f"{source} [{tab}]" if tab else source
    if not headers:
        raise NotATable(f"{label} is empty: there is no header row and no data")
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    body: list[list[str]] = []
    numbers: list[int] = []
    for offset, raw in enumerate(it, start=1):
        cells = [cell_text(v) for v in raw][:width]
        if not any(c.strip() for c in cells):
            continue
        body.append(cells + [""] * (width - len(cells)))
        numbers.append(header_row_number + offset)
    frame = pd.DataFrame(body, columns=[f"c{i}" for i in range(width)], dtype="string")
    frame["row_number"] = pd.Series(numbers, dtype="int64")
    table = _new_table_name()
    con.register("incoming_values", frame)
    try:
        casts = ", ".join(f"CAST(nullif(c{i}, '') AS VARCHAR) AS c{i}" for i in range(width))
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT {casts}, row_number FROM incoming_values")
    finally:
        con.unregister("incoming_values")
    digest = content_hash or hashlib.sha256(
        repr((headers, body)).encode("utf-8", errors="replace")
    ).hexdigest()
    return RawTable(source=source, tab=tab, headers=headers, table=table, rows=len(body), content_hash=digest)


def read_workbook(con: duckdb.DuckDBPyConnection, path: Path, *, display_name: str | None = None) -> list[RawTable]:
    """Stage every non-empty sheet of an .xlsx workbook."""
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
            try:
                tables.append(
                    stage_values(con, sheet.iter_rows(values_only=True), source=name, tab=sheet.title,
                                 content_hash=f"{digest}:{sheet.title}")
                )
            except NotATable:
                continue  # empty sheets in a workbook are normal; skip them
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
