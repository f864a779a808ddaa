"""Sign-in and roles in the app. With an `[auth]` section in `.streamlit/secrets.toml`, people sign in
with `st.login` (any OIDC provider) and get a role from the roles file (data_sources/roles.py); without
one, Uplift runs in local single-user mode and says so."""

from __future__ import annotations

import streamlit as st

from access.roles import LOCAL_USER, RoleConfig, RolesError, User, load_roles

# The action each page needs (by url_path); pages not listed need only "view".
PAGE_ACTIONS = {"data": "import", "trainee": "trainee_data"}


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: local mode
        return False


@st.cache_data(ttl=30, show_spinner=False)
def _roles() -> RoleConfig | None:
    # Re-read every 30 s, so an admin's edit to the roles file takes effect without a restart.
    return load_roles()


def user() -> User:
    """Who is using the app on this run. Stops the run with a sign-in button or a refusal."""
    if not auth_configured():
        return LOCAL_USER
    if not st.user.is_logged_in:
        st.title("Uplift")
        st.write("Sign in to see your team's training data.")
        st.button("Sign in", on_click=st.login, key="login", type="primary")
        st.stop()
    email = str(st.user.get("email") or "")
    try:
        config = _roles()
    except RolesError as exc:
        st.error(f"Uplift's roles file has a problem, so nobody can be let in until it is fixed: {exc}")
        st.stop()
        raise
    # Signed in but no roles file: everyone sees aggregates only until an admin writes one.
    found = config.user(email) if config is not None else User(email, "viewer")
    if found is None:
        st.error(f"{email} has no access to Uplift. Ask an admin to add you to the roles file.")
        st.button("Sign out", on_click=st.logout, key="logout_refused")
        st.stop()
        raise AssertionError("unreachable")
    return found


def allowed_pages(pages: dict[str, list[st.Page]], who: User) -> dict[str, list[st.Page]]:
    """The navigation this person may see: a page they may not use is not offered at all."""
    out: dict[str, list[st.Page]] = {}
    for section, items in pages.items():
        visible = [p for p in items if who.can(PAGE_ACTIONS.get(p.url_path, "view"))]
        if visible:
            out[section] = visible
    return out


def sidebar_badge(who: User) -> None:
    if not auth_configured():
        st.sidebar.info(
            "Local single-user mode: no sign-in, full access. Add an `[auth]` section to "
            ".streamlit/secrets.toml to require sign-in and roles.",
            icon=":material/lock_open:",
        )
        return
    scope = f" · markets {', '.join(who.markets)}" if who.markets else ""
    st.sidebar.caption(f"Signed in as {who.email} ({who.role}{scope})")
    st.sidebar.button("Sign out", on_click=st.logout, key="logout")


def actor() -> str | None:
    """The name to record in the import log: the signed-in email, or None (the login name) in local mode."""
    return user().email if auth_configured() else None
