"""The presenter rule: while presenting (screen-sharing in a calibration meeting, a manager's report), no
figure, row, chart mark, tooltip or export comes from fewer than MIN_GROUP people, since a figure about two
people points at each of them. One rule, used by every page, the weekly report and every download.

Pure functions: the caller says whether it is presenting (ui.presenter.is_on() in the app, a flag in the
report and the command line).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MIN_GROUP = 5  # groups with fewer people than this are not shown while presenting


def too_few(people: object, *, presenting: bool, minimum: int = MIN_GROUP) -> bool:
    """Must a figure about `people` people be hidden? Only while presenting, and only for 1 to minimum - 1
    people (a figure about nobody has nothing to hide; a missing count is treated as too few)."""
    if not presenting:
        return False
    if people is None or pd.isna(people):  # type: ignore[call-overload]
        return True
    return 0 < int(people) < minimum  # type: ignore[call-overload]


@dataclass(frozen=True)
class Kept:
    """What may be shown of a table, and how many of its rows were held back."""

    frame: pd.DataFrame
    hidden: int

    def note(self, what: str = "row") -> str:
        """A sentence for the page, or '' when nothing was held back: '2 rows with fewer than 5 people are
        not shown while presenting.'"""
        if not self.hidden:
            return ""
        noun = what if self.hidden == 1 else what + "s"
        return f"{self.hidden} {noun} with fewer than {MIN_GROUP} people {'is' if self.hidden == 1 else 'are'} " \
               "not shown while presenting."


def keep_groups(frame: pd.DataFrame, people: str | pd.Series, *, presenting: bool,
                minimum: int = MIN_GROUP) -> Kept:
    """The rows of `frame` that may be shown: while presenting, rows whose count of people (the column
    `people`, or a Series aligned with the frame) is under `minimum` are dropped."""
    if not presenting or frame.empty:
        return Kept(frame, 0)
    counts = frame[people] if isinstance(people, str) else people
    small = [too_few(n, presenting=True, minimum=minimum) for n in counts]
    keep = ~pd.Series(small, index=frame.index, dtype=bool)
    return Kept(frame[keep], int((~keep).sum()))


def group_sizes(frame: pd.DataFrame, by: list[str]) -> pd.Series:
    """For each row, how many rows share its values of `by`: the size of the group a pseudonym shown
    beside those attributes (market, cohort, site) narrows a person down to."""
    if frame.empty:
        return pd.Series(dtype="int64", index=frame.index)
    keys = frame[by].astype("string").fillna("\0")
    return keys.groupby(by, dropna=False)[by[0]].transform("size").astype("int64")


HIDDEN = f"hidden while presenting: fewer than {MIN_GROUP} people"


def blank_small(frame: pd.DataFrame, people: str, columns: list[str], *, presenting: bool,
                minimum: int = MIN_GROUP) -> pd.DataFrame:
    """A copy of `frame` where, while presenting, the figures in `columns` of rows from fewer than
    `minimum` people read HIDDEN (the row itself stays: that a session happened names no one)."""
    if not presenting or frame.empty:
        return frame
    small = [too_few(n, presenting=True, minimum=minimum) for n in frame[people]]
    out = frame.astype(dict.fromkeys(columns, "object"))
    out.loc[small, columns] = HIDDEN
    return out
