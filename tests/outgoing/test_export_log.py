from __future__ import annotations

from data_sources.store import open_store
from outgoing.export_log import export_history, log_export


def test_exports_are_attributed():
    con = open_store(":memory:").cursor()
    log_export(con, user="ana@example.com", what="coaching_list.csv", rows=12, presenter=False)
    log_export(con, user="val@example.com", what="weekly_report.html", rows=0, presenter=True)
    log = export_history(con)
    assert set(log["exported_by"]) == {"ana@example.com", "val@example.com"}
    assert log.set_index("what").loc["coaching_list.csv", "rows"] == 12
