"""How people are shown: names with ids, or pseudonyms while presenting (ui.presenter)."""

from __future__ import annotations

import pandas as pd
import pytest

from ui import presenter


@pytest.fixture
def presenting(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    mode = [False]
    monkeypatch.setattr(presenter, "is_on", lambda: mode[0])
    monkeypatch.setattr(presenter, "_salt", lambda: b"test salt")
    return mode


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "object"])
def test_a_roster_column_is_labelled_as_each_person_would_be(presenting: list[bool], dtype: str) -> None:
    # Text columns as frames bring them, with a missing name and a blank one.
    ids = pd.Series(["T1", "T2", "T3"], dtype=dtype)
    names = pd.Series(["Ana", None, ""], dtype=dtype)
    assert presenter.people(ids, "Trainee", names) == ["Ana (T1)", "T2", "T3"]
    assert presenter.people(ids, "Trainee", names) == [presenter.person(i, "Trainee", n) for i, n in
                                                      zip(ids.tolist(), names.tolist(), strict=True)]
    presenting[0] = True
    shown = presenter.people(ids, "Trainee", names)
    assert shown == [presenter.pseudonym(i, "Trainee") for i in ids.tolist()]
    assert len(set(shown)) == 3 and all(s.startswith("Trainee ") and "Ana" not in s and "T1" not in s for s in shown)
