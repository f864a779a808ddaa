"""Sign-in and roles: who sees which pages, presenter mode forced for viewers, markets for trainers."""

from __future__ import annotations

from pathlib import Path

import pytest

from access.roles import RolesError, User, load_roles
from tests.app.conftest import assert_clean

ROLES = """
[users]
"ana@example.com" = "analyst"
"tom@example.com" = { role = "trainer", markets = ["TH"] }
"boss@example.com" = "admin"
[default]
role = "viewer"
"""
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration"}


@pytest.fixture
def roles_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "roles.toml"
    path.write_text(ROLES)
    monkeypatch.setenv("UPLIFT_ROLES", str(path))
    return path


def signed_in(at, email: str | None):
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email} if email else {"is_logged_in": False}
    return at



def test_roles_file_is_read_with_markets_and_default(roles_file):
    config = load_roles()
    assert config is not None
    assert config.user("ANA@example.com") == User("ana@example.com", "analyst")
    assert config.user("tom@example.com").markets == ("TH",)
    assert config.user("someone@else.com").role == "viewer"
    assert User("x", "viewer").can("view") and not User("x", "viewer").can("trainee_data")
    assert User("x", "analyst").can("import") and not User("x", "analyst").can("restore")


def test_a_bad_role_is_named(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('[users]\n"a@b.c" = "superuser"\n')
    with pytest.raises(RolesError, match="superuser"):
        load_roles(path)


def test_without_auth_the_app_says_it_is_in_local_mode(sample_app):
    at = sample_app.run()
    assert_clean(at)
    assert any("Local single-user mode" in i.value for i in at.sidebar.info)


def test_signed_out_people_see_only_sign_in(sample_app, roles_file):
    at = signed_in(sample_app, None).run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric


def test_a_viewer_gets_presenter_mode_and_no_data_page(sample_app, roles_file):
    at = signed_in(sample_app, "viewer@example.com").run()
    assert_clean(at)
    toggle = at.toggle(key="present")
    assert toggle.value is True and toggle.disabled
    with pytest.raises(Exception):  # noqa: B017 (the page is not in this person's navigation)
        at.switch_page("views/data.py").run()


def test_an_analyst_imports_under_their_email(make_app, tmp_path, roles_file):
    at = signed_in(make_app(tmp_path / "d.duckdb"), "ana@example.com")
    at.run()
    at.switch_page("views/data.py").run()
    at.get("file_uploader")[0].set_value(("r.csv", b"trainee_id,market\nT1,TH\n", "text/csv")).run()
    at.button(key="import_all").click().run()
    assert_clean(at)
    from tests.app.conftest import frame_with

    assert frame_with(at, "import_id").iloc[0]["imported_by"] == "ana@example.com"


def test_a_trainer_sees_only_their_markets(sample_app, roles_file):
    at = signed_in(sample_app, "tom@example.com").run()
    assert_clean(at)
    assert at.multiselect(key="markets").options == ["TH"]


def test_someone_refused_gets_a_clear_message(sample_app, tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('[users]\n"ana@example.com" = "analyst"\n')
    monkeypatch.setenv("UPLIFT_ROLES", str(path))
    at = signed_in(sample_app, "stranger@example.com").run()
    assert any("has no access to Uplift" in e.value for e in at.error)
