"""Data values shown in Streamlit's Markdown-rendering elements stay text."""

from __future__ import annotations

import math

import pytest

from ui.show import esc


@pytest.mark.parametrize("hostile", [
    "![x](http://host/x.png)", "[text](http://evil)", ":red[alarm]", "$x^2$", "**bold**", "<b>x</b>",
    "# heading", "- item", "1. item", "`code`", ":material/home:", "www.evil.com", "me@evil.com", "a | b",
])
def test_every_markdown_construct_is_escaped(hostile: str) -> None:
    text = esc(hostile)
    # No special character is left unescaped: each is preceded by a backslash.
    for i, ch in enumerate(text):
        if ch in "[]*`$<>|@" and (i == 0 or text[i - 1] != "\\"):
            pytest.fail(f"{ch!r} left unescaped in {text!r}")
    assert text.replace("\\", "") == hostile


def test_plain_words_pass_unchanged_and_lines_are_joined() -> None:
    assert esc("Bullying & Harassment") == "Bullying & Harassment"
    assert esc("ภาษาไทย Tiếng Việt") == "ภาษาไทย Tiếng Việt"
    assert esc("two\nlines") == "two lines"
    assert esc(None) == "" and esc(math.nan) == ""
