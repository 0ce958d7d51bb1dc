from __future__ import annotations

from playground.edits.paths import bad_path, path_in_line, resolve


def test_it_reads_paths_written_in_markdown() -> None:
    files = {"Makefile"}
    assert path_in_line("app.py", files) == "app.py"
    assert path_in_line("**src/app.js**", files) == "src/app.js"
    assert path_in_line("`styles/main.css`:", files) == "styles/main.css"
    assert path_in_line("# File: ./a.py", files) == "a.py"
    assert path_in_line("Makefile", files) == "Makefile"


def test_prose_is_not_a_path() -> None:
    assert path_in_line("Here is the fix:", set()) is None
    assert path_in_line("Update the function", set()) is None
    assert path_in_line("e.g.", set()) is None


def test_bad_paths_are_explained() -> None:
    assert bad_path("/etc/passwd") is not None
    assert bad_path("../x") is not None
    assert bad_path("C:/x") is not None
    assert bad_path("a/b.py") is None


def test_a_suffix_resolves_only_when_unique() -> None:
    assert resolve("app.py", {"src/app.py"}) == "src/app.py"
    assert resolve("app.py", {"a/app.py", "b/app.py"}) == "app.py"
