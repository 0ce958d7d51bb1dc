from __future__ import annotations

from playground.edits import apply_search_replace

APP = "def f():\n    return 1\n\n\ndef g():\n    return 1\n"


def _block(path: str, search: str, replace: str, fence: bool = True) -> str:
    body = f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"
    return f"{path}\n```python\n{body}```\n" if fence else f"{path}\n{body}"


def test_it_replaces_the_search_lines() -> None:
    result = apply_search_replace(
        {"app.py": APP}, _block("app.py", "def f():\n    return 1\n", "def f():\n    return 2\n")
    )
    assert result.errors == []
    assert result.files["app.py"].startswith("def f():\n    return 2\n")
    assert result.applied[0].ops == [{"from": 20, "to": 21, "insert": "2"}]


def test_blocks_work_without_a_fence_and_with_a_path_inside_the_fence() -> None:
    files = {"app.py": APP}
    bare = apply_search_replace(files, _block("app.py", "def g():\n", "def h():\n", fence=False))
    assert "def h():" in bare.files["app.py"]
    inside = (
        "```python\napp.py\n<<<<<<< SEARCH\ndef g():\n=======\ndef k():\n>>>>>>> REPLACE\n```\n"
    )
    assert "def k():" in apply_search_replace(files, inside).files["app.py"]


def test_several_blocks_in_one_fence_each_count_as_a_hunk() -> None:
    text = (
        "app.py\n```python\n<<<<<<< SEARCH\ndef f():\n=======\ndef f1():\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\ndef g():\n=======\ndef g1():\n>>>>>>> REPLACE\n```\n"
    )
    result = apply_search_replace({"app.py": APP}, text)
    assert [a.hunk for a in result.applied] == [1, 2]


def test_an_empty_search_creates_a_missing_file() -> None:
    result = apply_search_replace({}, _block("new.py", "", "x = 1\n"))
    assert result.files == {"new.py": "x = 1\n"}
    assert result.applied[0].kind == "add"


def test_an_empty_search_appends_to_an_existing_file() -> None:
    result = apply_search_replace({"a.py": "x = 1\n"}, _block("a.py", "", "y = 2\n"))
    assert result.files["a.py"] == "x = 1\ny = 2\n"


def test_ambiguous_search_is_rejected_with_the_lines() -> None:
    result = apply_search_replace(
        {"app.py": APP}, _block("app.py", "    return 1\n", "    return 3\n")
    )
    (error,) = result.errors
    assert "more than one place" in error.reason
    assert error.lines == "    return 1"
    assert result.files["app.py"] == APP


def test_missing_search_is_rejected_and_names_the_file() -> None:
    result = apply_search_replace({"app.py": APP}, _block("app.py", "nope\n", "x\n"))
    assert "not found in app.py" in result.errors[0].reason
    assert result.errors[0].hunk == 1


def test_a_block_without_a_path_is_rejected() -> None:
    text = "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n"
    assert "file path" in apply_search_replace({"a": "x\n"}, text).errors[0].reason


def test_a_block_that_breaks_syntax_is_rejected() -> None:
    result = apply_search_replace({"app.py": APP}, _block("app.py", "def f():\n", "def f(:\n"))
    assert result.errors[0].line == 1
    assert result.files["app.py"] == APP


def test_a_short_path_resolves_to_the_one_file_it_ends() -> None:
    result = apply_search_replace({"src/app.py": APP}, _block("app.py", "def g():\n", "def h():\n"))
    assert "def h():" in result.files["src/app.py"]


def test_crlf_and_blank_edge_lines_are_tolerated() -> None:
    files = {"w.py": "a = 1\r\nb = 2\r\n"}
    result = apply_search_replace(files, _block("w.py", "\nb = 2\n\n", "b = 3\n"))
    assert result.files["w.py"] == "a = 1\r\nb = 3\r\n"


def test_an_unfinished_block_is_reported_not_applied() -> None:
    result = apply_search_replace(
        {"a.py": "x = 1\n"}, "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n"
    )
    assert result.files == {"a.py": "x = 1\n"}
    assert "not finished" in result.errors[0].reason


def test_a_block_whose_replace_equals_its_search_is_unchanged() -> None:
    text = "app.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 1\n>>>>>>> REPLACE\n"
    result = apply_search_replace({"app.py": "x = 1\n"}, text)
    assert result.applied == []
    assert [(e.path, e.kind) for e in result.unchanged] == [("app.py", "unchanged")]
    assert result.ok
