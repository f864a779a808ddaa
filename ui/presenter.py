"""Presenter mode: for screen-sharing, names become stable pseudonyms, ids are hidden, small groups are
suppressed and raw tables are left out. Switched on in the sidebar or with `?present=1`."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from access import privacy
from ui.cache import con, store

MIN_GROUP = privacy.MIN_GROUP
# Columns that identify a person, and what their pseudonym says.
PERSON_COLUMNS = {"trainee_id": "Trainee", "rater_id": "Rater", "trainer": "Trainer", "reviewer_id": "Reviewer",
                  "imported_by": "User", "undone_by": "User"}
NAME_COLUMNS = ("name", "comment", "raw")


def is_on() -> bool:
    return bool(st.session_state.get("present", False))


def too_few(people: object) -> bool:
    """Must a figure about `people` people stay off the screen? (access.privacy's rule, while presenting.)"""
    return privacy.too_few(people, presenting=is_on())


def keep(frame: pd.DataFrame, people: str | pd.Series) -> privacy.Kept:
    """The rows of `frame` that may be shown: while presenting, those from fewer than MIN_GROUP people go."""
    return privacy.keep_groups(frame, people, presenting=is_on())


def hidden_note(what: str = "figure") -> str:
    return f"Hidden while presenting: fewer than {MIN_GROUP} people behind this {what}."


def switch(*, forced: bool = False) -> bool:
    """The sidebar switch, started from `?present=1` and kept in the URL so a shared link presents.
    `forced` (viewers) keeps it on."""
    initial = st.query_params.get("present", "") in ("1", "true", "True")
    if "present" not in st.session_state or forced:
        st.session_state["present"] = initial or forced
    on = st.sidebar.toggle("Presenter mode", key="present", disabled=forced,
                           help="Pseudonyms for names, no ids, no raw tables, groups under 5 people hidden, "
                           "larger type." + (" Always on for viewers." if forced else ""))
    if on:
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]
    return on


def _salt() -> bytes:
    return _salt_of(store().path)


@functools.lru_cache(maxsize=8)
def _salt_of(path: str) -> bytes:
    # Read once per database: a page can pseudonymise hundreds of people per run.
    row = con().execute("SELECT value FROM meta WHERE key = 'pseudonym_salt'").fetchone()
    return (row[0] if row else "uplift").encode()


def pseudonym(value: object, prefix: str = "Trainee") -> str:
    """The same person always gets the same pseudonym on this store; it cannot be turned back into a name."""
    return _pseudonym(_salt(), value, prefix)


def _pseudonym(salt: bytes, value: object, prefix: str) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    digest = hmac.new(salt, str(value).encode(), hashlib.sha256).digest()
    return f"{prefix} {base64.b32encode(digest[:5]).decode()[:5]}"


def person(value: object, prefix: str = "Trainee", name: object = None) -> str:
    """How to show a person: pseudonym while presenting, else the name with the id."""
    return people([value], prefix, [name])[0]


def people(values: Iterable[object], prefix: str = "Trainee", names: Iterable[object] | None = None) -> list[str]:
    """`person` for each of `values` (with its name from `names`, in order). The mode and the salt are read
    once: the Trainee explorer labels its whole roster on every run (22,000 trainees at 10M decisions: 0.8 s
    of session-state reads when each label read the mode)."""
    ids = _items(values)
    if is_on():
        salt = _salt()
        return [_pseudonym(salt, v, prefix) for v in ids]
    named = [None] * len(ids) if names is None else _items(names)
    return [str(v) if n is None or pd.isna(n) or n == "" else f"{n} ({v})" for v, n in zip(ids, named, strict=True)]


def _items(values: Iterable[object]) -> list[object]:
    # A column's own tolist: iterating an Arrow-backed column yields its values one slow step at a time.
    return values.tolist() if isinstance(values, pd.Series) else list(values)


def mask(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy safe to show while presenting: person columns pseudonymised, names and free text dropped."""
    if not is_on():
        return frame
    out = frame.drop(columns=[c for c in NAME_COLUMNS if c in frame.columns])
    for column, prefix in PERSON_COLUMNS.items():
        if column in out.columns:
            out[column] = [pseudonym(v, prefix) for v in out[column]]
    return out


# Larger type on a shared screen: body text, tiles (labels wrap rather than being cut), buttons, and the
# tables (drawn on a canvas, so scaled as a whole). Charts are enlarged by ui.show.chart.
_PRESENTER_CSS = """<style>
html, body, [data-testid='stAppViewContainer'] { font-size: 1.2rem; }
[data-testid='stMetricLabel'] p { font-size: 1.1rem; white-space: normal; overflow: visible; }
[data-testid='stMetricValue'] { font-size: 2.6rem; }
[data-testid='stBaseButton-secondary'] p, [data-testid='stBaseButton-primary'] p { white-space: normal; }
[data-testid='stDataFrame'] { zoom: 1.2; }
</style>"""


# On every screen: a tile's label wraps instead of being cut ("Assessment pass r...").
_BASE_CSS = "<style>[data-testid='stMetricLabel'] p { white-space: normal; overflow: visible; }</style>"


def style() -> None:
    """Tile labels that wrap, and larger type while presenting, for screen-sharing. Fixed CSS only: no user
    value goes in here."""
    st.markdown(_PRESENTER_CSS if is_on() else _BASE_CSS, unsafe_allow_html=True)
