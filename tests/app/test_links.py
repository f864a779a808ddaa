"""A link reopens exactly the view its sender saw: every pick on a page is in the URL."""

from __future__ import annotations

from sample_data import planted
from tests.app.conftest import assert_clean, needs_sample


def opened(make_app, db, page: str, **query: str):
    at = make_app(db, **query)
    at.run()
    at.switch_page(page).run()
    assert_clean(at)
    return at


@needs_sample
def test_a_weak_spot_link_opens_on_its_cell_measure_and_levels(make_app, sample_db) -> None:
    at = opened(make_app, sample_db, "views/weak_spots.py", measure_source="Accuracy (golden set)", min_reviewed="60",
                cell_market=planted.WEAK_MARKET, cell_policy=planted.WEAK_POLICY)
    assert at.segmented_control(key="measure_source").value == "golden_set"
    assert at.number_input(key="min_reviewed").value == 60
    heading = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert heading == f"### {planted.WEAK_MARKET} × {planted.WEAK_POLICY}"


@needs_sample
def test_a_calibration_link_opens_on_its_session(make_app, sample_db) -> None:
    first = opened(make_app, sample_db, "views/calibration.py")
    label = next(o for o in first.selectbox(key="session").options if planted.POOR_CALIBRATION_SESSION in o)
    at = opened(make_app, sample_db, "views/calibration.py", session=label)
    assert at.selectbox(key="session").value == planted.POOR_CALIBRATION_SESSION
