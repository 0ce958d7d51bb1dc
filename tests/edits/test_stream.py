from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playground.edits import EditApplied, EditRejected, EditStream, force_apply

FILES = {
    "app.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
    "main.js": "function a() {\n  return 1;\n}\n",
    "notes.txt": "hello 😀\r\nworld\r\n",
}

PATCH = (
    "I'll fix it.\n*** Begin Patch\n*** Update File: app.py\n@@\n-    return 1\n+    return 10\n"
    "*** Update File: notes.txt\n-world\n+wörld 🎉\n*** Delete File: main.js\n"
    "*** Update File: missing.py\n-x\n+y\n*** End Patch\nDone."
)
SEARCH_REPLACE = (
    "app.py\n```python\n<<<<<<< SEARCH\ndef g():\n    return 2\n=======\ndef g():\n    return (2\n"
    ">>>>>>> REPLACE\n```\nmain.js\n```js\n<<<<<<< SEARCH\n  return 1;\n=======\n  return 2;\n"
    ">>>>>>> REPLACE\n```\n"
)
CODE = (
    "Here:\n```python\ndef g():\n    return 'é😀'\n\n\ndef h():\n    return 3\n```\n"
    "and\n```js\nfunction a() {\n  return 5;\n}\n```\n```bash\nnpm test\n```\n"
)


def _all_at_once(text: str) -> tuple[list[dict[str, object]], dict[str, str]]:
    stream = EditStream(FILES)
    events = stream.feed(text) + stream.finish()
    return [e.to_wire() for e in events], stream.files


def test_an_edit_applies_only_once_its_terminator_line_is_complete() -> None:
    stream = EditStream(FILES)
    assert (
        stream.feed("*** Begin Patch\n*** Update File: app.py\n@@\n-    return 1\n+    return 7\n")
        == []
    )
    assert stream.feed("*** End Pa") == []
    (event,) = stream.feed("tch\n")
    assert isinstance(event, EditApplied)
    assert stream.files["app.py"].startswith("def f():\n    return 7\n")


def test_a_search_replace_block_applies_at_its_replace_marker() -> None:
    stream = EditStream(FILES)
    assert stream.feed("app.py\n<<<<<<< SEARCH\n    return 2\n=======\n    return 3\n") == []
    (event,) = stream.feed(">>>>>>> REPLACE\n")
    assert isinstance(event, EditApplied)
    assert event.hunk == 1


def test_a_code_block_applies_at_its_closing_fence() -> None:
    stream = EditStream(FILES, active="app.py")
    assert stream.feed("```python\ndef f():\n    return 4\n") == []
    (event,) = stream.feed("```\n")
    assert isinstance(event, EditApplied)


def test_events_carry_wire_dicts() -> None:
    events, files = _all_at_once(SEARCH_REPLACE)
    rejected, applied = events
    assert set(rejected) == {
        "path",
        "hunk",
        "reason",
        "lines",
        "snippet",
        "line",
        "column",
        "ops",
        "code",
    }
    assert rejected["line"] == 6
    assert rejected["code"] == "def g():\n    return (2", "the REPLACE lines, for Copy"
    assert rejected["ops"]
    assert applied == {
        "path": "main.js",
        "hunk": 2,
        "kind": "update",
        "ops": [{"from": 24, "to": 25, "insert": "2"}],
    }
    assert files["app.py"] == FILES["app.py"]


def test_the_mixed_patch_reports_every_operation() -> None:
    events, files = _all_at_once(PATCH)
    assert [e.get("kind", "rejected") for e in events] == ["update", "update", "delete", "rejected"]
    assert files["notes.txt"] == "hello 😀\r\nwörld 🎉\r\n"
    assert "main.js" not in files


def test_after_a_patch_plain_fences_are_illustrations() -> None:
    text = PATCH + "\n```python\ndef zzz():\n    pass\n```\n"
    _, files = _all_at_once(text)
    assert "zzz" not in files["app.py"]


def test_feeding_after_finish_is_an_error() -> None:
    stream = EditStream(FILES)
    stream.finish()
    with pytest.raises(RuntimeError):
        stream.feed("x")


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        EditStream(FILES, fmt="udiff")  # type: ignore[arg-type]


def _chunked(text: str, cuts: list[int]) -> tuple[list[dict[str, object]], dict[str, str]]:
    stream = EditStream(FILES, active="app.py")
    events: list[EditApplied | EditRejected] = []
    pos = 0
    for cut in sorted(set(cuts)):
        events += stream.feed(text[pos:cut])
        pos = cut
    events += stream.feed(text[pos:])
    events += stream.finish()
    assert stream.events == events
    return [e.to_wire() for e in events], stream.files


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([PATCH, SEARCH_REPLACE, CODE, PATCH.replace("\n", "\r\n")]), st.data())
def test_streaming_in_random_chunks_gives_the_same_result_as_all_at_once(
    text: str, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=40))
    stream = EditStream(FILES, active="app.py")
    whole = [e.to_wire() for e in stream.feed(text) + stream.finish()]
    assert _chunked(text, cuts) == (whole, stream.files)


def test_streaming_one_character_at_a_time_matches() -> None:
    for text in (PATCH, SEARCH_REPLACE, CODE):
        assert _chunked(text, list(range(len(text)))) == _chunked(text, [])


def replay(files: dict[str, str], events: list[EditApplied | EditRejected]) -> dict[str, str]:
    """Apply the applied events' wire ops the way a client would."""
    files = dict(files)
    for event in events:
        if not isinstance(event, EditApplied):
            continue
        if event.kind == "delete":
            del files[event.path]
            continue
        files = force_apply(files, event.path, event.ops)
        if event.kind == "move" and event.new_path is not None:
            files[event.new_path] = files.pop(event.path)
    return files


_TOKENS = [
    "*** ",
    "Begin Patch",
    "End Patch",
    "Update File: ",
    "Add File: ",
    "Delete File: ",
    "\n",
    "+",
    "-",
    "@@",
    "```",
    "```python",
    "<<<<<<< SEARCH",
    "=======",
    ">>>>>>> REPLACE",
    "app.py",
    "main.js",
    " ",
    "x",
    "def f():",
    "    return 1",
    "😀",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join))
def test_a_client_replaying_the_applied_ops_ends_with_the_same_files(text: str) -> None:
    # Rejected edits contribute nothing; applied ones exactly their ops.
    stream = EditStream(FILES, active="app.py")
    events = stream.feed(text) + stream.finish()
    assert replay(FILES, events) == stream.files


def test_a_client_replaying_a_real_answer_ends_with_the_same_files() -> None:
    for text in (PATCH, SEARCH_REPLACE, CODE):
        stream = EditStream(FILES, active="app.py")
        events = stream.feed(text) + stream.finish()
        assert replay(FILES, events) == stream.files


def test_the_safe_point_lies_between_edits_even_within_one_delta() -> None:
    files = {"a.py": "x = 1\ny = 2\n"}
    done = "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 3\n>>>>>>> REPLACE\n"
    stream = EditStream(files)
    stream.feed(done + "a.py\n<<<<<<< SEARCH\ny = ")
    assert stream.safe_chars == len(done) + len("a.py\n")
    assert not stream.between_edits


def test_a_long_line_is_counted_without_rescanning() -> None:
    stream = EditStream({})
    for _ in range(10_000):
        stream.feed("a")
    assert stream.pending_chars == 10_000
    assert stream.safe_chars == 10_000, "a half-written line of prose is safe to keep"


def test_half_a_line_of_prose_is_safe_but_half_an_edit_marker_is_not() -> None:
    stream = EditStream({"a.py": "x = 1\n"})
    stream.feed("Here is the plan.\nI will chan")
    assert stream.safe_chars == len("Here is the plan.\nI will chan")
    stream.feed("ge it.\n<<<<<<< SEA")
    assert stream.safe_chars == len("Here is the plan.\nI will change it.\n")


def test_the_playground_kind_comes_from_the_files_or_the_caller() -> None:
    assert EditStream({"index.html": "", "main.py": ""}).kind == "web"
    assert EditStream({"main.py": "", "data.txt": ""}).kind == "python"
    assert EditStream({"notes.txt": ""}).kind is None
    assert EditStream({"notes.txt": ""}, kind="python").kind == "python"


def test_no_format_adds_a_file_the_playground_cannot_use() -> None:
    files = {"main.py": "print(1)\n"}
    patch = "*** Begin Patch\n*** Add File: index.html\n+<p>hi</p>\n*** End Patch\n"
    stream = EditStream(files)
    (event,) = stream.feed(patch) + stream.finish()
    assert isinstance(event, EditRejected)
    assert event.reason.startswith("This is a Python playground; the answer's index.html")
    assert event.code == "<p>hi</p>\n"
    assert stream.files == files
    # A Python module is of use in a Python playground.
    stream = EditStream(files)
    stream.feed(patch.replace("index.html", "util.py").replace("<p>hi</p>", "X = 1"))
    stream.finish()
    assert stream.files["util.py"] == "X = 1\n"


def _assert_plain(event: EditRejected) -> None:
    reason = event.reason
    assert "hunk" not in reason.lower(), reason
    assert reason[0].isupper() and reason.endswith("."), reason


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join))
def test_every_refusal_is_a_plain_sentence(text: str) -> None:
    stream = EditStream(FILES, active="app.py")
    for event in stream.feed(text) + stream.finish():
        if isinstance(event, EditRejected):
            _assert_plain(event)


def test_every_refusal_of_the_real_answers_is_a_plain_sentence() -> None:
    for text in (PATCH, SEARCH_REPLACE, CODE, "```python\ndef f(:\n", "<<<<<<< SEARCH\nx\n"):
        stream = EditStream(FILES, active="app.py")
        for event in stream.feed(text) + stream.finish():
            if isinstance(event, EditRejected):
                _assert_plain(event)


def test_an_indented_fence_inside_a_block_is_code_not_a_new_block() -> None:
    files = {"doc.py": "def f():\n    pass\n"}
    block = 'def f():\n    """Use it like this:\n\n    ```python\n    f()\n"""\n'
    stream = EditStream(files)
    stream.feed(f"```python\n{block}```\n")
    stream.finish()
    assert stream.files["doc.py"] == block
