"""The load script (`make load`): a real server driven over Streamlit's websocket protocol, and the rules that
decide what counts as an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks import load


@pytest.mark.timeout(120)
def test_one_session_on_the_sample_runs_pages_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.md"
    [r] = load.main(["--sessions", "1", "--seconds", "6", "--no-warm-up", "--out", str(out)])
    assert len(r.runs) > 0
    assert r.errors == []
    assert r.runs[0].first  # a session's initial page load is timed, not only its reruns
    assert {x.page for x in r.runs} <= {p.title for p in load.load_pages()}
    assert all(x.seconds > 0 for x in r.runs)
    assert r.samples and all(s.rss_mib > 50 for s in r.samples)  # the server's memory was read
    text = out.read_text()
    assert f"| **all pages** | {len(r.runs)} | " in text
    assert "Server memory (RSS every 2 s): start" in text


def test_the_data_page_is_left_out_and_the_others_are_all_in() -> None:
    titles = [p.title for p in load.load_pages()]
    assert "Data" not in titles
    assert len(titles) == len(load.PAGES) - 1


def _navigation(ran: str) -> ForwardMsg:
    msg = ForwardMsg()
    for i, path in enumerate(["", "overview", "learning"]):
        page = msg.navigation.app_pages.add()
        page.page_script_hash, page.url_pathname = f"h{i}", path
    msg.navigation.page_script_hash = {"": "h0", "overview": "h1", "learning": "h2"}[ran]
    return msg


def test_a_run_of_another_page_than_asked_is_an_error() -> None:
    assert load.problem_in(_navigation("overview"), "overview") is None
    assert load.problem_in(_navigation(""), "overview") == "asked for page 'overview', the server ran ''"


def test_exceptions_error_alerts_and_missing_pages_are_errors_and_warnings_are_not() -> None:
    exception = ForwardMsg()
    exception.delta.new_element.exception.type = "ValueError"
    exception.delta.new_element.exception.message = "bad"
    error, warning = ForwardMsg(), ForwardMsg()
    error.delta.new_element.alert.format = Alert.ERROR
    error.delta.new_element.alert.body = "Something went wrong while drawing this page."
    warning.delta.new_element.alert.format = Alert.WARNING
    missing = ForwardMsg()
    missing.page_not_found.page_name = "nope"
    assert load.problem_in(exception, "") == "exception: ValueError: bad"
    assert load.problem_in(error, "") == "error shown: Something went wrong while drawing this page."
    assert load.problem_in(warning, "") is None
    assert load.problem_in(missing, "nope") == "page not found: 'nope'"


def test_percentile_is_nearest_rank() -> None:
    values = [float(x) for x in range(1, 21)]  # 1..20
    assert load.percentile(values, 95) == 19.0
    assert load.percentile(values, 50) == 10.0
    assert load.percentile([3.0], 95) == 3.0
