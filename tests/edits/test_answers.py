"""Real-shaped answers of small local models (qwen2.5-coder 0.5B/1.5B), issue #11.

Each fixture in ``answers/`` is a full answer as the model streams it: prose and
fenced blocks, sometimes with the prompt's own layout echoed back. The tests
assert what the learner would see: the files after the answer, and the words of
any refusal.
"""

from __future__ import annotations

from pathlib import Path

from playground.edits import EditResult, EditStream, apply_edits
from tests.edits.starters import INDEX_HTML, STYLE_CSS, WEB

ANSWERS = Path(__file__).parent / "answers"


def answer(name: str) -> str:
    return (ANSWERS / name).read_text(encoding="utf-8")


def run(files: dict[str, str], name: str, active: str | None = None) -> EditResult:
    result = apply_edits(files, answer(name), active=active)
    # Streamed token by token, the answer must give the same files.
    stream = EditStream(files, active=active)
    text = answer(name)
    for start in range(0, len(text), 7):
        stream.feed(text[start : start + 7])
    stream.finish()
    assert stream.files == result.files
    return result


# -- the prompt's layout echoed back (3 of 16 web answers) ---------------------


def test_an_echoed_layout_around_the_block_does_not_land_in_index_html() -> None:
    result = run(WEB, "web_heading_echo_nested.md", active="index.html")
    assert result.files == {
        **WEB,
        "index.html": INDEX_HTML.replace("Hello, Flint", "Welcome to my page"),
    }
    assert result.errors == []


def test_echoed_headers_at_the_top_of_a_block_are_dropped() -> None:
    result = run(WEB, "web_echo_headers_inside_block.md", active="index.html")
    page = result.files["index.html"]
    assert "Project files" not in page
    assert "## index.html" not in page
    assert page == INDEX_HTML.replace(
        "Ask the model to change this page.", "I am learning to code with Flint."
    )


def test_an_echoed_instruction_line_does_not_become_a_css_selector() -> None:
    result = run(WEB, "web_css_instruction_echo.md")
    assert result.files["style.css"] == STYLE_CSS.replace("#b4441c", "blue")
    assert result.errors == []


# -- stray fence lines ----------------------------------------------------------


def test_a_stray_fence_before_prose_keeps_the_prose_out_of_the_files() -> None:
    result = run(WEB, "web_stray_fence_before_prose.md")
    assert result.files == {
        **WEB,
        "style.css": STYLE_CSS + "\nbutton {\n  background: red;\n}\n",
    }
    assert result.errors == []


def test_a_closing_fence_followed_by_prose_closes_the_block() -> None:
    result = run(WEB, "web_closing_fence_with_prose.md")
    assert result.files == {**WEB, "style.css": STYLE_CSS.replace("#b4441c", "blue")}
    assert result.errors == []
