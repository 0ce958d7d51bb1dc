"""The presentation's one rule: changes ordered by version, positions in UTF-16."""

from __future__ import annotations

import pytest

from playground.live.state import (
    Change,
    LiveBehindError,
    LiveInvalidError,
    LiveState,
    Push,
    apply_push,
    apply_update,
)

START = LiveState(
    version=3, files={"a.js": "let x = 1;\n", "b.css": "p {}\n"}, active="a.js", files_at=3
)


def test_a_change_at_the_current_version_is_the_next_version() -> None:
    new, update = apply_push(START, Push(base=3, changes=[Change("a.js", 8, 9, "42")]))
    assert new.version == 4 and new.files["a.js"] == "let x = 42;\n"
    assert update == {
        "version": 4,
        "changes": [{"path": "a.js", "from": 8, "to": 9, "insert": "42"}],
    }
    assert START.files["a.js"] == "let x = 1;\n"  # the old state is left as it was
    # What a viewer holding version 3 makes of the update is the server's version 4.
    assert apply_update(START.files, update) == new.files


def test_changes_made_on_an_older_version_are_refused_with_the_current_one() -> None:
    with pytest.raises(LiveBehindError) as caught:
        apply_push(START, Push(base=2, changes=[Change("a.js", 0, 0, "x")]))
    assert caught.value.detail == {"version": 3} and caught.value.retryable


def test_changes_on_a_version_whose_files_are_still_current_are_taken() -> None:
    # Versions 4 and 5 started generations; the files are as they were at 3.
    state = LiveState(version=5, files=dict(START.files), files_at=3)
    new, _ = apply_push(state, Push(base=3, changes=[Change("a.js", 0, 3, "var")]))
    assert new.version == 6 and new.files["a.js"] == "var x = 1;\n" and new.files_at == 6
    with pytest.raises(LiveBehindError):
        apply_push(state, Push(base=2, changes=[Change("a.js", 0, 3, "var")]))


def test_the_whole_file_set_is_taken_at_any_version() -> None:
    new, update = apply_push(START, Push(base=0, files={"c.py": "print(1)\n"}))
    assert new.version == 4 and new.files == {"c.py": "print(1)\n"}
    assert update["files"] == {"c.py": "print(1)\n"}
    assert new.active == "c.py"  # the old active file is gone: the first one left


def test_positions_are_utf16_code_units() -> None:
    state = LiveState(files={"t.txt": "a😀b"})  # the emoji is two UTF-16 units
    new, _ = apply_push(state, Push(base=0, changes=[Change("t.txt", 3, 4, "c")]))
    assert new.files["t.txt"] == "a😀c"
    with pytest.raises(LiveInvalidError, match="not on a character"):
        apply_push(state, Push(base=0, changes=[Change("t.txt", 2, 2, "x")]))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (Change("a.js", 5, 99, ""), "outside the file"),
        (Change("a.js", 4, 2, ""), "outside the file"),
        (Change("nope.js", 0, 0, "x"), "no file named"),
    ],
)
def test_a_change_that_does_not_fit_is_refused_saying_why(change: Change, words: str) -> None:
    with pytest.raises(LiveInvalidError, match=words):
        apply_push(START, Push(base=3, changes=[change]))


def test_switching_the_shown_file_is_an_update_too() -> None:
    new, update = apply_push(START, Push(base=3, active="b.css"))
    assert new.active == "b.css" and update == {"version": 4, "changes": [], "active": "b.css"}


def test_a_file_changes_once_per_push() -> None:
    # Each change to a file costs a pass over it (offsets, a copy): two hundred of
    # them on a 2 MiB file held the server's loop for a few tenths of a second per
    # message. The page sends one change per file (the span that differs).
    with pytest.raises(LiveInvalidError, match=r"more than one change to a\.js"):
        apply_push(
            START, Push(base=3, changes=[Change("a.js", 0, 0, "x"), Change("a.js", 1, 1, "y")])
        )
    new, _ = apply_push(
        START, Push(base=3, changes=[Change("a.js", 0, 0, "x"), Change("b.css", 0, 0, "y")])
    )
    assert new.files == {"a.js": "xlet x = 1;\n", "b.css": "yp {}\n"}
