"""Downloads of tables: presenter-safe, formulas neutralised, and attributed in the export log."""

from __future__ import annotations

import getpass

import pandas as pd
import streamlit as st

from outgoing.export_log import log_export
from outgoing.safe_csv import safe_csv
from ui import auth, presenter
from ui.cache import store


def who() -> str:
    """Who to record for a download: the signed-in email, else the login name."""
    name = auth.actor()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def csv_button(frame: pd.DataFrame, *, file_name: str, key: str, label: str = "Download CSV",
               what: str | None = None) -> None:
    """A CSV download of `frame`. The file is made (and logged) only when the button is pressed."""
    shown = presenter.mask(frame)
    person, presenting, target = who(), presenter.is_on(), store()

    def build() -> bytes:
        # Runs when the person clicks; a fresh cursor, since this may not be the script's thread.
        log_export(target.cursor(), user=person, what=what or file_name, rows=len(shown), presenter=presenting)
        return safe_csv(shown)

    st.download_button(label, data=build, file_name=file_name, mime="text/csv", key=key, on_click="ignore")
