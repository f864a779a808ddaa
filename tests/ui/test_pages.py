"""The page registry: navigation, role checks and links read the same table."""

from __future__ import annotations

from pathlib import Path

from access.roles import User
from ui import pages

ROOT = Path(__file__).resolve().parents[2]


def test_every_registered_page_exists_and_every_view_is_registered() -> None:
    files = {p.file for p in pages.PAGES}
    assert all((ROOT / f).exists() for f in files)
    assert files == {f"views/{p.name}" for p in (ROOT / "views").glob("*.py")}
    assert not (ROOT / "pages").exists(), "a pages/ folder would be served by URL before sign-in runs"


def test_roles_see_only_their_pages() -> None:
    def titles(role: str) -> set[str]:
        return {p.title for p in pages.allowed(User("x@example.com", role))}

    assert "Trainee explorer" not in titles("viewer") and "Data" not in titles("viewer")
    assert "Trainee explorer" in titles("trainer") and "Data" not in titles("trainer")
    assert {"Data", "Trainee explorer", "Overview"} <= titles("analyst")
    assert pages.spec("views/data.py").needs == "import"
