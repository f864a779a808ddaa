"""Google Sheets imports. Only the HTTP boundary is fake (no network here); gspread, staging, typing and
DuckDB run for real."""

from __future__ import annotations

import io
import json
from typing import Any, ClassVar
from urllib.parse import unquote

import pytest
from google.auth.credentials import AnonymousCredentials
from gspread import Client
from gspread.http_client import HTTPClient
from openpyxl import Workbook

from data_sources.sheets import SheetsError, import_sheet, service_account_info, sheet_key
from data_sources.store import open_store

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
URL = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
TABS = {
    "Roster": [["Agent ID", "Market", "Name"], ["007", "TH", "สมชาย"], ["T2", "VN", "Nguyễn Lan"]],
    "QA": [["Agent ID", "QA Date", "Policy Area", "Result"], ["007", "04/03/2026", "Hate Speech", "Pass"],
           ["T2", "25/03/2026", "Hate Speech", "Fail"]],
    "Notes": [],
}


class FakeResponse:
    def __init__(self, payload: dict[str, Any]) -> None:
        self._payload = payload
        self.ok = True
        self.status_code = 200

    def json(self) -> dict[str, Any]:
        return self._payload


class RecordedSheetsAPI(HTTPClient):
    """Serves the JSON the Sheets v4 API returns for the spreadsheet above."""

    requests: ClassVar[list[str]] = []

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None, json: Any = None,
                files: Any = None, headers: Any = None) -> Any:
        RecordedSheetsAPI.requests.append(endpoint)
        if "/values/" in endpoint:
            title = unquote(endpoint.split("/values/")[1]).strip("'")
            return FakeResponse({"range": title, "majorDimension": "ROWS", "values": TABS[title]})
        sheets = [{"properties": {"sheetId": i, "title": t, "index": i, "sheetType": "GRID",
                                  "gridProperties": {"rowCount": 100, "columnCount": 26}}}
                  for i, t in enumerate(TABS)]
        return FakeResponse({"spreadsheetId": KEY, "properties": {"title": "Training export"}, "sheets": sheets})


def fake_client() -> Client:
    return Client(auth=AnonymousCredentials(), http_client=RecordedSheetsAPI)


def test_each_worksheet_is_a_dataset_through_gspread():
    con = open_store(":memory:").cursor()
    results = import_sheet(con, URL, client=fake_client(), user="analyst")
    assert [(r.tab, r.dataset, r.status, r.added) for r in results] == [
        ("Roster", "trainees", "imported", 2), ("QA", "decisions", "imported", 2)]
    # get_all_values keeps "007" as text, and the roster's Thai name survives.
    assert con.execute("SELECT name FROM trainees WHERE trainee_id = '007'").fetchone() == ("สมชาย",)
    assert con.execute("SELECT count(*) FROM decision_daily WHERE market = 'TH'").fetchone() == (1,)
    log = con.execute("SELECT source, tab FROM imports ORDER BY import_id").fetchall()
    assert log == [(URL, "Roster"), (URL, "QA")]
    again = import_sheet(con, URL, client=fake_client())
    assert all(r.status == "unchanged" for r in again)


def _xlsx() -> bytes:
    book = Workbook()
    book.active.title = "Roster"
    for row in TABS["Roster"]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_link_shared_sheet_is_read_without_credentials(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return _xlsx()

    con = open_store(":memory:").cursor()
    results = import_sheet(con, URL, fetch=fetch)
    assert asked == [f"https://docs.google.com/spreadsheets/d/{KEY}/export?format=xlsx"]
    assert [(r.tab, r.dataset, r.added) for r in results] == [("Roster", "trainees", 2)]


def test_private_sheet_without_credentials_says_how_to_share(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    con = open_store(":memory:").cursor()
    with pytest.raises(SheetsError, match="anyone with the link"):
        import_sheet(con, URL, fetch=lambda _url: b"<html>Sign in</html>")


def test_not_a_sheets_link():
    with pytest.raises(SheetsError, match="not a Google Sheets link"):
        sheet_key("https://example.com/file.csv")


def test_service_account_from_secrets_or_key_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[gcp_service_account]\ntype = "service_account"\nclient_email = "a@b.iam"\n')
    assert service_account_info(secrets=secrets) == {"type": "service_account", "client_email": "a@b.iam"}
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "k@b.iam"}))
    assert service_account_info(str(key), secrets=secrets)["client_email"] == "k@b.iam"
    assert service_account_info(secrets=tmp_path / "missing.toml") is None
