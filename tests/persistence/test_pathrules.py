"""One rule for paths: what the edit engine accepts is exactly what a save accepts (#12)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playground.edits import apply_patch
from playground.edits.paths import bad_path, resolve
from playground.pathrules import collision_problem, path_problem
from playground.persistence.files import FilesError, validate_files, validate_path

REFUSED = [
    "src\\util.js",  # the model's proposal from the issue
    "/etc/passwd",
    "C:/x.js",
    "../x.js",
    "a//b.js",
    "./a.js",
    "a\x00.js",
    "a\x85.js",  # a C1 control
    "evil\u202etxt.js",  # right-to-left override: displays as "eviljs.txt"
    "a\u2066b.js",
    "con",
    "NUL.txt",
    "src/com1.js",
    "lpt9",
    "notes.",
    "notes ",
    "dir./a.js",
    "x" * 201,
]
ACCEPTED = ["a.js", "src/util.js", "Makefile", ".env", "src/.hidden/x", "console.js", "a b.js"]


@pytest.mark.parametrize("path", REFUSED)
def test_the_edit_engine_and_the_save_rules_refuse_the_same_paths(path: str) -> None:
    assert bad_path(path) is not None
    with pytest.raises(FilesError):
        validate_path(path)


@pytest.mark.parametrize("path", ACCEPTED)
def test_clean_paths_pass_both(path: str) -> None:
    assert bad_path(path) is None and validate_path(path) == path


@given(st.text(min_size=1, max_size=40))
def test_for_any_path_the_two_checks_agree(path: str) -> None:
    engine_ok = bad_path(path) is None
    try:
        validate_path(path)
        save_ok = True
    except FilesError:
        save_ok = False
    assert engine_ok == save_ok == (path_problem(path) is None)


def test_a_patch_adding_a_backslash_path_is_rejected_by_the_edit_engine() -> None:
    answer = "*** Begin Patch\n*** Add File: src\\util.js\n+export const x = 1;\n*** End Patch\n"
    result = apply_patch({"a.js": "x\n"}, answer)
    assert not result.ok and "backslash" in result.errors[0].reason
    assert set(result.files) == {"a.js"}


def test_paths_that_differ_only_in_case_cannot_live_together() -> None:
    assert collision_problem(["App.js", "app.js"]) is not None
    assert collision_problem(["src", "src/a.js"]) is not None, "a file and a folder"
    assert collision_problem(["SRC", "src/a.js"]) is not None
    assert collision_problem(["a.js", "b.js", "src/a.js"]) is None
    with pytest.raises(FilesError, match="differ only in case"):
        validate_files({"README.md": "a", "readme.md": "b"})


def test_the_edit_engine_edits_the_existing_file_when_the_model_gets_the_case_wrong() -> None:
    assert resolve("Index.html", {"index.html", "a.css"}) == "index.html"


@pytest.mark.parametrize("ch", ["\x01", "\x1b", "\x0b", "\x1f"])
def test_binary_control_characters_are_refused_in_text(ch: str) -> None:
    with pytest.raises(FilesError, match="control character"):
        validate_files({"a.txt": f"line 1\nline{ch}2"})


def test_tabs_newlines_and_form_feeds_are_text() -> None:
    assert validate_files({"a.py": "a\tb\r\nc\fd\x7f"})
