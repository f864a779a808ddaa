"""Links between pages that respect roles: a link to a page this person may not open is not drawn."""

from __future__ import annotations

import streamlit as st

from ui import auth

PATHS = {"views/data.py": "data", "views/trainee.py": "trainee", "views/training.py": "training"}


def link(path: str, label: str, icon: str | None = None) -> bool:
    """Draw `st.page_link` if the signed-in person may open the page; say whether it was drawn."""
    action = auth.PAGE_ACTIONS.get(PATHS.get(path, ""), "view")
    if not auth.user().can(action):
        return False
    st.page_link(path, label=label, icon=icon)
    return True
