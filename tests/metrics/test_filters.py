"""The filter value every measure takes, and a person's market limit applied to it."""

from __future__ import annotations

from metrics.filters import Filters, within_markets


def test_a_trainer_limited_to_markets_sees_only_those() -> None:
    assert within_markets(Filters(), ("TH", "VN")).markets == ("TH", "VN")  # none picked: all of theirs
    assert within_markets(Filters(markets=("VN", "ID")), ("TH", "VN")).markets == ("VN",)
    assert within_markets(Filters(markets=("ID",)), ("TH",)).markets == ("TH",)  # a pick outside is dropped
    assert within_markets(Filters(markets=("ID",)), ()).markets == ("ID",)  # no limit: unchanged
