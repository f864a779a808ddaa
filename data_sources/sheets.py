"""Google Sheets: each worksheet of a spreadsheet is a dataset, imported like a file.

Two ways in:
- a service account (from `.streamlit/secrets.toml` `[gcp_service_account]`, or a key file), through
  gspread; `get_all_values()` keeps cells as the text the sheet shows ("007" stays "007");
- a sheet shared "anyone with the link", read without credentials as its .xlsx export (all worksheets).
The network is reached only through `gspread.Client` and `fetch`; tests replace exactly those.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, Unpack

import duckdb

from data_sources.imports import ImportOptions, Remedies, import_raw
from data_sources.readers import EmptySheet, NotATable, read_workbook, stage_values
from data_sources.write import ImportResult

Fetch = Callable[[str], bytes]
SECRETS = Path(".streamlit") / "secrets.toml"
_KEY = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]{20,})")


class SheetsError(Exception):
    """A sheet that cannot be reached or read; the message says what to do."""


def sheet_key(url: str) -> str:
    match = _KEY.search(url)
    if not match:
        raise SheetsError(
            f"{url!r} is not a Google Sheets link (expected https://docs.google.com/spreadsheets/d/...)"
        )
    return match.group(1)


def service_account_info(credentials: str | None = None, secrets: Path = SECRETS) -> dict[str, Any] | None:
    """A service account's key: from a key file if given, else from the app's secrets, else None."""
    if credentials:
        import json

        try:
            info: dict[str, Any] = json.loads(Path(credentials).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SheetsError(f"could not read the service-account key file {credentials}: {exc}") from exc
        return info
    if secrets.exists():
        try:
            data = tomllib.loads(secrets.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SheetsError(f"{secrets} is not valid TOML: {exc}") from exc
        section = data.get("gcp_service_account")
        if isinstance(section, dict):
            return dict(section)
    return None


def gspread_client(info: dict[str, Any]) -> Any:
    import gspread

    return gspread.service_account_from_dict(info)


def _default_fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        raise SheetsError(
            f"Google answered {exc.code} for the sheet: share it as 'anyone with the link can view', or "
            "configure a service account in .streamlit/secrets.toml"
        ) from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SheetsError(f"could not reach Google Sheets ({exc}); check the network and try again") from exc


class Reach(TypedDict, total=False):
    """How to reach a spreadsheet: a service-account key file, a gspread client, or the link fetcher (tests
    pass the last two; by default the key comes from the app's secrets, else the link is fetched)."""

    credentials: str | None
    client: Any
    fetch: Fetch | None


class SheetImport(Reach, ImportOptions, total=False):
    """How to reach the spreadsheet and what to settle for its import."""


def import_sheet(con: duckdb.DuckDBPyConnection, url: str, **options: Unpack[SheetImport]) -> list[ImportResult]:
    """Import every worksheet of the spreadsheet at `url`; each worksheet is recognised on its own."""
    reach = Reach(credentials=options.get("credentials"), client=options.get("client"), fetch=options.get("fetch"))
    raws = read_sheet(con, url, **reach)
    return [
        import_raw(con, raw, keep_going=options.get("keep_going", False), user=options.get("user"),
                   date_order=options.get("date_order"), remedies=options.get("remedies") or Remedies())
        for raw in raws
    ]


def read_sheet(con: duckdb.DuckDBPyConnection, url: str, **reach: Unpack[Reach]) -> list[Any]:
    """Stage every non-empty worksheet of the spreadsheet (see module docstring for the two ways in)."""
    key = sheet_key(url)
    client = reach.get("client")
    if client is None:
        info = service_account_info(reach.get("credentials"))
        if info is not None:
            client = gspread_client(info)
    if client is not None:
        return _read_with_gspread(con, client, key, url)
    return _read_shared_link(con, key, url, reach.get("fetch") or _default_fetch)


def _read_with_gspread(con: duckdb.DuckDBPyConnection, client: Any, key: str, url: str) -> list[Any]:
    import gspread

    try:
        spreadsheet = client.open_by_key(key)
        worksheets = spreadsheet.worksheets()
        tables = []
        for ws in worksheets:
            values = ws.get_all_values()
            try:
                tables.append(stage_values(con, values, source=url, tab=ws.title))
            except EmptySheet:
                continue  # an empty worksheet is not an error in a spreadsheet
    except gspread.exceptions.SpreadsheetNotFound as exc:
        raise SheetsError(f"no spreadsheet at {url}, or the service account has no access: share it with the account's email") from exc
    except gspread.exceptions.APIError as exc:
        raise SheetsError(f"Google Sheets refused the request for {url}: {exc}") from exc
    if not tables:
        raise SheetsError(f"{url} has no worksheet with a header row and data")
    return tables


def _read_shared_link(con: duckdb.DuckDBPyConnection, key: str, url: str, fetch: Fetch) -> list[Any]:
    # The .xlsx export carries every worksheet, where the CSV export carries only one.
    data = fetch(f"https://docs.google.com/spreadsheets/d/{key}/export?format=xlsx")
    if not data.startswith(b"PK\x03\x04"):
        raise SheetsError(
            f"{url} is not shared by link (Google answered with a sign-in page): share it as 'anyone with the "
            "link can view', or configure a service account in .streamlit/secrets.toml"
        )
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            return list(read_workbook(con, Path(tmp.name), display_name=url))
        except NotATable as exc:
            raise SheetsError(str(exc)) from exc
