from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from playground.edits import apply_patch, force_apply

APP = "import os\n\n\ndef f(x):\n    return x + 1\n\n\ndef g(y):\n    return y + 1\n"


def _patch(*lines: str) -> str:
    return "\n".join(["*** Begin Patch", *lines, "*** End Patch"]) + "\n"


def test_it_updates_several_files_in_one_patch() -> None:
    files = {"a.txt": "one\ntwo\n", "b.txt": "three\n"}
    result = apply_patch(
        files,
        _patch(
            "*** Update File: a.txt", "@@", "-two", "+2", "*** Update File: b.txt", "-three", "+3"
        ),
    )
    assert result.files == {"a.txt": "one\n2\n", "b.txt": "3\n"}
    assert [(a.path, a.hunk, a.kind) for a in result.applied] == [
        ("a.txt", 1, "update"),
        ("b.txt", 2, "update"),
    ]


def test_ops_are_minimal_and_in_utf16_units() -> None:
    files = {"a.txt": "😀 x = 1\n"}
    result = apply_patch(files, _patch("*** Update File: a.txt", "-😀 x = 1", "+😀 x = 2"))
    assert result.applied[0].ops == [{"from": 7, "to": 8, "insert": "2"}]


def test_add_delete_and_move_report_their_kind() -> None:
    files = {"old.py": "x = 1\n", "gone.py": "y = 2\n"}
    result = apply_patch(
        files,
        _patch(
            "*** Add File: new.py",
            "+z = 3",
            "*** Delete File: gone.py",
            "*** Update File: old.py",
            "*** Move to: pkg/moved.py",
            "-x = 1",
            "+x = 10",
        ),
    )
    assert result.files == {"new.py": "z = 3\n", "pkg/moved.py": "x = 10\n"}
    add, delete, move = (a.to_wire() for a in result.applied)
    assert add == {
        "path": "new.py",
        "hunk": 1,
        "kind": "add",
        "ops": [{"from": 0, "to": 0, "insert": "z = 3\n"}],
    }
    assert (delete["kind"], delete["ops"]) == ("delete", [])
    assert move["kind"] == "move"
    assert move["new_path"] == "pkg/moved.py"
    assert move["ops"] == [{"from": 5, "to": 5, "insert": "0"}]


def test_missing_context_names_the_file_the_hunk_and_the_lines() -> None:
    files = {"app.py": APP}
    result = apply_patch(
        files, _patch("*** Add File: ok.txt", "+ok", "*** Update File: app.py", "-missing line")
    )
    (error,) = result.errors
    assert (error.path, error.hunk) == ("app.py", 2)
    assert "app.py" in error.reason
    assert "not found" in error.reason
    assert error.lines == "missing line"
    assert error.snippet == "missing line\n^^^^^^^^^^^^"
    assert result.files["app.py"] == APP


def test_ambiguous_context_is_rejected_unless_an_anchor_narrows_it() -> None:
    body = ["-    return {v} + 1", "+    return {v} + 2"]
    twice = {"app.py": APP.replace("y", "x")}
    rejected = apply_patch(
        twice, _patch("*** Update File: app.py", "@@", *[b.format(v="x") for b in body])
    )
    assert "more than one place" in rejected.errors[0].reason
    anchored = apply_patch(
        twice, _patch("*** Update File: app.py", "@@ def g(x):", *[b.format(v="x") for b in body])
    )
    assert anchored.errors == []
    assert anchored.files["app.py"].endswith("def g(x):\n    return x + 2\n")


def test_a_missing_anchor_is_an_error() -> None:
    result = apply_patch({"app.py": APP}, _patch("*** Update File: app.py", "@@ def h():", "-x"))
    assert "anchor" in result.errors[0].reason
    assert result.errors[0].lines == "def h():"


def test_a_pure_addition_after_an_anchor_goes_right_after_it() -> None:
    result = apply_patch(
        {"app.py": APP}, _patch("*** Update File: app.py", "@@ def g(y):", "+    y = -y")
    )
    assert "def g(y):\n    y = -y\n    return y + 1\n" in result.files["app.py"]


def test_it_tolerates_whitespace_and_unicode_punctuation_in_context() -> None:
    files = {"a.py": 'msg = "it\'s - fine"   \nx = 1\n'}
    result = apply_patch(
        files,
        _patch(
            "*** Update File: a.py", " msg = \u201cit\u2019s \u2014 fine\u201d", "-x = 1", "+x = 2"
        ),
    )
    assert result.errors == []
    assert result.files["a.py"] == 'msg = "it\'s - fine"   \nx = 2\n'


def test_crlf_files_stay_crlf() -> None:
    files = {"w.txt": "a\r\nb\r\nc\r\n"}
    result = apply_patch(files, _patch("*** Update File: w.txt", " a", "-b", "+B1", "+B2"))
    assert result.files["w.txt"] == "a\r\nB1\r\nB2\r\nc\r\n"


def test_a_file_without_final_newline_keeps_it_missing() -> None:
    files = {"n.txt": "a\nb"}
    result = apply_patch(files, _patch("*** Update File: n.txt", "-b", "+c", "*** End of File"))
    assert result.files["n.txt"] == "a\nc"


def test_unicode_lines_match_and_ops_count_utf16() -> None:
    files = {"u.txt": "中文 e\u0301\n😀😀\n"}
    result = apply_patch(files, _patch("*** Update File: u.txt", " 中文 e\u0301", "-😀😀", "+😀🎉"))
    assert result.files["u.txt"] == "中文 e\u0301\n😀🎉\n"
    assert result.applied[0].ops == [{"from": 8, "to": 10, "insert": "🎉"}]


def test_it_rejects_an_edit_that_breaks_syntax_and_offers_the_ops() -> None:
    files = {"app.py": APP}
    result = apply_patch(files, _patch("*** Update File: app.py", "-def f(x):", "+def f(x:"))
    (error,) = result.errors
    assert result.files == files
    assert error.line == 4
    assert error.column is not None
    assert "syntax" in error.reason
    assert error.ops is not None
    forced = force_apply(files, "app.py", error.ops)
    assert "def f(x:\n" in forced["app.py"]


def test_absolute_paths_are_refused() -> None:
    result = apply_patch({}, _patch("*** Add File: /etc/passwd", "+x"))
    assert "absolute" in result.errors[0].reason
    assert result.files == {}


def test_an_envelope_without_end_patch_still_applies_its_last_complete_operation() -> None:
    result = apply_patch({"a.txt": "x\n"}, "*** Begin Patch\n*** Update File: a.txt\n-x\n+y\n")
    assert result.files == {"a.txt": "y\n"}


def test_a_patch_in_a_markdown_fence_is_applied() -> None:
    text = "Sure:\n```diff\n" + _patch("*** Update File: a.txt", "-x", "+y") + "```\n"
    assert apply_patch({"a.txt": "x\n"}, text).files == {"a.txt": "y\n"}


def test_it_never_raises_on_garbage() -> None:
    for text in ["", "*** Begin Patch", "@@\n-\n+", "*** Update File:\n", "*** Move to: x"]:
        apply_patch({"a": "b"}, text)


_names = st.sampled_from(["app.py", "b.txt", "c.js"])
_body = st.lists(st.sampled_from(["-x = 1", "+x = (", "+y = 2", " z", "@@", "@@ def f():", ""]))


@settings(max_examples=150, deadline=None)
@given(_names, _body)
def test_a_rejected_edit_leaves_the_files_unchanged(name: str, body: list[str]) -> None:
    files = {"app.py": "x = 1\nz\n", "b.txt": "x = 1\n", "c.js": "let x = 1;\n"}
    result = apply_patch(files, _patch(f"*** Update File: {name}", *body))
    if result.errors:
        assert result.files == files
    else:
        # An update that changes nothing is reported as unchanged, not applied.
        assert len(result.applied) + len(result.unchanged) == 1
