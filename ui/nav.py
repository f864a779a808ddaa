"""Links between pages that respect roles: a link to a page this person may not open is not drawn."""

from __future__ import annotations

import streamlit as st

from ui import auth, pages


def link(file: str, label: str, icon: str | None = None) -> bool:
    """Draw `st.page_link` to a page of the registry if the signed-in person may open it; say whether
    it was drawn."""
    if not auth.user().can(pages.spec(file).needs):
        return False
    st.page_link(file, label=label, icon=icon)
    return True
