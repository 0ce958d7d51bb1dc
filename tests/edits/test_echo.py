from __future__ import annotations

from playground.edits.echo import is_echo_line, strip_echo

PATHS = ["index.html", "main.py"]


def test_the_prompt_layout_and_chat_labels_are_echo_lines() -> None:
    for line in (
        "# Project files",
        "## index.html",
        "### main.py:",
        "Instruction: make the heading blue",
        "### Response:",
        "(The user selected this part of main.py:)",
    ):
        assert is_echo_line(line, PATHS, "html"), line


def test_code_is_not_an_echo_line() -> None:
    for line in ("# compute the total", "user: str = 'x'", "#main { color: red; }", "x = 1"):
        assert not is_echo_line(line, PATHS, "python"), line
    assert not is_echo_line("user: str = 'x'", PATHS, "python")


def test_in_python_only_layout_headings_count_but_elsewhere_any_heading() -> None:
    assert not is_echo_line("# Updated code", PATHS, "python")
    assert is_echo_line("# main.py", PATHS, "python")
    assert is_echo_line("# Updated code", PATHS, "html")


def test_strip_echo_drops_edges_only_and_names_the_paths() -> None:
    lines = ["# Project files", "", "## index.html", "<p>x</p>", "", "## style.css", ""]
    cleaned = strip_echo(lines, [*PATHS, "style.css"], "html")
    assert cleaned.lines == ["<p>x</p>"]
    assert (cleaned.head_path, cleaned.tail_path) == ("index.html", "style.css")


def test_a_line_the_file_already_has_is_kept() -> None:
    lines = ["# main.py", "x = 1", ""]
    assert strip_echo(lines, PATHS, "python", old="# main.py\nx = 0\n").lines == lines
    assert strip_echo(lines, PATHS, "python", old="x = 0\n").lines == ["x = 1", ""]
