"""Data is text on every page: values from files (names, titles, session ids, policies, the uploaded file's
name) that look like Markdown are shown as they are in every element Streamlit renders as Markdown, never
as images, links, colours or formulas (issue "Nothing lost, nothing leaked", item 4)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from data_sources.rollups import rebuild_decision_daily
from data_sources.store import open_store
from tests.app.conftest import _nodes, assert_clean, needs_sample
from ui import pages
from ui.show import esc

# Each would do something if rendered: fetch an image (a beacon), make a live link, colour text, typeset.
IMAGE, LINK, COLOUR, FORMULA = "![x](http://host/x.png)", "[text](http://evil)", ":red[alarm]", "$x^2$"
HOSTILE = f"{IMAGE} {LINK} {COLOUR} {FORMULA}"
RAW = (IMAGE, LINK, COLOUR, FORMULA)
HOSTILE_TRAINEE = "T0001"  # a sample trainee with decisions, trainings and calibration ratings

# The proto fields Streamlit renders as Markdown: bodies of Markdown, headings and alerts; labels, help and
# captions of widgets, metrics, expanders and tabs; a radio's options.
_BODY_TYPES = {"Markdown", "Heading", "Alert"}
_MARKDOWN_FIELDS = {"label", "help", "captions"}


def markdown_texts(message: Message) -> Iterator[str]:
    """Every string of `message` (and the messages inside it) that Streamlit renders as Markdown."""
    kind = message.DESCRIPTOR.name
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        for item in values:
            if field.type == field.TYPE_MESSAGE:
                yield from markdown_texts(item)
            elif field.type == field.TYPE_STRING and (
                field.name in _MARKDOWN_FIELDS or (field.name == "body" and kind in _BODY_TYPES)
                or (field.name == "options" and kind == "Radio")
            ):
                yield item


def page_markdown(at: AppTest) -> list[str]:
    """Every string on the page that Streamlit renders as Markdown."""
    found = []
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            proto = getattr(node, "proto", None)
            if isinstance(proto, Message):
                found += markdown_texts(proto)
    return found


def rendered_raw(at: AppTest) -> list[str]:
    """Markdown strings on the page that hold a hostile construct unescaped."""
    return [text for text in page_markdown(at) if any(raw in text for raw in RAW)]


def shown_escaped(at: AppTest) -> bool:
    """The hostile value is on the page in a Markdown element, escaped (so the test looked at it)."""
    return any(esc(HOSTILE) in text for text in page_markdown(at))


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory, sample_db: Path) -> Path:
    """The sample store with hostile values where people read them: a trainee's name, a training's title, a
    calibration session id, a policy name and an import's file name."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(sample_db, path)
    store = open_store(path)
    con = store.cursor()
    con.execute("UPDATE trainees SET name = ? WHERE trainee_id = ?", [HOSTILE, HOSTILE_TRAINEE])
    con.execute("UPDATE trainings SET title = ? WHERE training_id = (SELECT min(training_id) FROM trainings)",
                [HOSTILE])
    con.execute("UPDATE calibration SET session_id = ? WHERE session_id = (SELECT min(session_id) FROM calibration)",
                [HOSTILE])
    policy = con.execute("SELECT min(policy) FROM decisions").fetchone()[0]  # type: ignore[index]
    for table in ("decisions", "decision_counts", "calibration", "trainings"):
        con.execute(f"UPDATE {table} SET policy = ? WHERE policy = ?", [HOSTILE, policy])
    rebuild_decision_daily(con)
    con.execute("UPDATE imports SET source = ? WHERE import_id = (SELECT max(import_id) FROM imports)",
                [f"{HOSTILE}.csv"])
    store.close()
    return path


@needs_sample
def test_the_check_sees_a_value_rendered_raw() -> None:
    """The check reads the fields Streamlit renders as Markdown, so a raw value there is caught."""
    from streamlit.proto.Markdown_pb2 import Markdown

    assert list(markdown_texts(Markdown(body=HOSTILE))) == [HOSTILE]
    assert list(markdown_texts(Markdown(body="plain"))) == ["plain"]


@needs_sample
@pytest.mark.parametrize("page", [p.file for p in pages.PAGES])
def test_hostile_values_are_shown_as_text_on_every_page(make_app: Callable[..., AppTest], hostile_db: Path,
                                                        page: str) -> None:
    at = make_app(hostile_db)
    at.run()
    at.switch_page(page).run()
    assert_clean(at)
    assert rendered_raw(at) == [], page
    if page == "views/home.py":  # the last import's file name
        assert shown_escaped(at)
    if page == "views/trainee.py":  # the hostile trainee's own profile: their name in its heading
        at.selectbox(key="trainee").set_value(HOSTILE_TRAINEE).run()
        assert_clean(at)
        assert rendered_raw(at) == [], f"{page}, a trainee picked"
        assert shown_escaped(at)
