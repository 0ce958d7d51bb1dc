from __future__ import annotations

from playground.edits.model import EditApplied, EditRejected, Span
from playground.edits.workspace import Workspace, caret_snippet


def test_deleting_a_directory_prefix_fails_and_keeps_the_files() -> None:
    ws = Workspace({"dir/a.txt": "x"})
    event = ws.delete("dir", 1)
    assert isinstance(event, EditRejected)
    assert "directory" in event.reason
    assert ws.files == {"dir/a.txt": "x"}


def test_deleting_a_missing_file_fails() -> None:
    event = Workspace({}).delete("nope.txt", 3)
    assert isinstance(event, EditRejected)
    assert event.hunk == 3
    assert "no such file" in event.reason


def test_adding_over_an_existing_file_sends_only_the_difference() -> None:
    ws = Workspace({"a.txt": "one\ntwo\nthree\n"})
    event = ws.add("a.txt", 1, "one\n2\nthree\n")
    assert isinstance(event, EditApplied)
    assert event.kind == "add"
    assert event.ops == [{"from": 4, "to": 7, "insert": "2"}]


def test_moving_over_an_existing_file_replaces_it() -> None:
    ws = Workspace({"a.py": "x = 1\n", "b.py": "y = 2\n"})
    event = ws.update("a.py", 1, [Span(4, 5, "3")], new_path="b.py")
    assert isinstance(event, EditApplied)
    assert (event.kind, event.new_path) == ("move", "b.py")
    assert ws.files == {"b.py": "x = 3\n"}


def test_a_syntax_rejection_leaves_the_file_and_its_tree_untouched() -> None:
    ws = Workspace({"a.py": "x = 1\n"})
    bad = ws.update("a.py", 1, [Span(4, 5, "(")])
    assert isinstance(bad, EditRejected)
    assert bad.ops == [{"from": 4, "to": 5, "insert": "("}]
    assert ws.files == {"a.py": "x = 1\n"}
    good = ws.update("a.py", 2, [Span(4, 5, "2")])  # the kept tree must still match the text
    assert isinstance(good, EditApplied)
    assert ws.files == {"a.py": "x = 2\n"}


def test_overlapping_spans_are_rejected() -> None:
    ws = Workspace({"a.txt": "abcdef"})
    event = ws.update("a.txt", 1, [Span(0, 3, "x"), Span(2, 4, "y")])
    assert isinstance(event, EditRejected)
    assert ws.files == {"a.txt": "abcdef"}


def test_caret_snippet_underlines_the_first_line() -> None:
    assert caret_snippet(["  foo()", "bar"]) == "  foo()\n  ^^^^^"
    assert caret_snippet([]) == ""


def test_an_update_that_changes_nothing_is_unchanged_not_applied() -> None:
    ws = Workspace({"a.py": "x = 1\n"})
    event = ws.update("a.py", 1, [Span(0, 5, "x = 1")])
    assert isinstance(event, EditApplied)
    assert (event.kind, event.ops, event.changed) == ("unchanged", [], False)
    assert event.to_wire() == {"path": "a.py", "hunk": 1, "kind": "unchanged", "ops": []}


def test_adding_a_file_with_its_own_text_is_unchanged() -> None:
    ws = Workspace({"a.txt": "one\n"})
    event = ws.add("a.txt", 2, "one\n")
    assert isinstance(event, EditApplied)
    assert event.kind == "unchanged"
    assert ws.files == {"a.txt": "one\n"}
