"""The page registry: every page's file, title, URL path, section and the action it needs, in one table.
The navigation, the role check and the links between pages all read it."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from access.roles import User


@dataclass(frozen=True)
class PageSpec:
    file: str
    title: str
    icon: str
    url_path: str
    section: str
    needs: str = "view"  # the action in access.roles.ACTIONS this page needs
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("views/home.py", "Home", ":material/home:", "", "", default=True),
    PageSpec("views/overview.py", "Overview", ":material/dashboard:", "overview", "Managers"),
    PageSpec("views/training.py", "Training impact", ":material/school:", "training", "Trainers"),
    PageSpec("views/trainee.py", "Trainee explorer", ":material/person_search:", "trainee", "Trainers",
             needs="trainee_data"),
    PageSpec("views/learning.py", "Learning curves", ":material/show_chart:", "learning", "Trainers"),
    PageSpec("views/assessments.py", "Tests and certification", ":material/quiz:", "tests", "Trainers"),
    PageSpec("views/weak_spots.py", "Weak spots", ":material/grid_on:", "weak-spots", "Trainers"),
    PageSpec("views/items.py", "Item health", ":material/fact_check:", "item-health", "Trainers"),
    PageSpec("views/calibration.py", "Calibration", ":material/balance:", "calibration", "Calibration"),
    PageSpec("views/data.py", "Data", ":material/upload_file:", "data", "Analysts", needs="import"),
)


def spec(file: str) -> PageSpec:
    """The registry entry of a page file ('views/data.py')."""
    return next(p for p in PAGES if p.file == file)


def allowed(who: User) -> list[PageSpec]:
    """The pages this person may open: a page they may not use is not offered at all."""
    return [p for p in PAGES if who.can(p.needs)]


def navigation(who: User) -> dict[str, list[st.Page]]:
    """`st.navigation`'s argument: this person's pages by section, in registry order."""
    out: dict[str, list[st.Page]] = {}
    for p in allowed(who):
        page = st.Page(p.file, title=p.title, icon=p.icon, default=p.default,
                       **({"url_path": p.url_path} if p.url_path else {}))
        out.setdefault(p.section, []).append(page)
    return out
