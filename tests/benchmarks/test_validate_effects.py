"""A small, fast run of the training-effect simulation (benchmarks/validate_effects.py): few replicates, fewer
bootstrap resamples, seeded, wide tolerances. `make validate` runs the full table."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.validate_effects import ATTENDEES, TRAINEES, Cell, replicate_units, simulate, table
from metrics.training import EffectDesign

FAST = EffectDesign(n_boot=200)
REPLICATES = 12


@pytest.fixture(scope="module")
def cells() -> dict[tuple[str, float, bool], Cell]:
    out = {}
    for mechanism, effect in (("random", 0.0), ("teams", 0.05), ("low_scorers", 0.0), ("volunteers", 0.0)):
        for cell in simulate(mechanism, effect, replicates=REPLICATES, design=FAST, seed=1):
            out[(mechanism, effect, cell.declared)] = cell
    return out


def test_a_replicate_has_the_units_the_app_reads() -> None:
    units = replicate_units("low_scorers", 0.0, np.random.default_rng(0))
    assert len(units) == TRAINEES and (units["group"] == "attended").sum() == ATTENDEES
    assert (units["pre_correct"] <= units["pre_reviews"]).all() and units["early_reviews"].gt(0).all()


def test_random_draws_are_read_without_bias(cells) -> None:
    for declared in (True, False):
        cell = cells[("random", 0.0, declared)]
        assert cell.replicates == REPLICATES and abs(cell.bias) < 2.0 and cell.coverage >= 0.75


def test_a_stable_team_difference_is_not_mistaken_for_an_effect(cells) -> None:
    declared = cells[("teams", 0.05, True)]
    assert abs(declared.bias) < 2.0 and declared.coverage >= 0.75
    assert declared.estimators == {"did": 1.0}
    assert declared.ancova_bias < -2.0  # adjusting for the starting score would understate the real effect


def test_a_useless_session_for_low_scorers_is_not_credited_with_their_rebound(cells) -> None:
    for declared in (True, False):
        cell = cells[("low_scorers", 0.0, declared)]
        assert cell.did_bias > 6.0  # regression to the mean, which the difference-in-differences credits
        assert abs(cell.bias) < 3.0 and cell.coverage >= 0.7
    assert cells[("low_scorers", 0.0, False)].estimators.get("did", 0.0) <= 0.2  # the dip in the earlier weeks


def test_volunteers_already_improving_are_overstated_and_it_is_said(cells) -> None:
    cell = cells[("volunteers", 0.0, True)]
    assert cell.bias > 0.5 and cell.caveat > 0


def test_the_table_has_a_row_per_cell(cells) -> None:
    text = table(list(cells.values()))
    assert text.count("\n") == 2 + len(cells)
    assert "| low_scorers | +0 | declared |" in text and "| random | +0 | not recorded |" in text
