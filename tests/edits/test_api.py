from __future__ import annotations

import pytest

from playground.edits import (
    EditResult,
    apply_edits,
    apply_patch,
    force_apply,
)

FILES = {"app.py": "def f():\n    return 1\n"}


def test_apply_edits_detects_an_apply_patch_answer() -> None:
    text = "*** Begin Patch\n*** Update File: app.py\n-    return 1\n+    return 2\n*** End Patch\n"
    assert apply_edits(FILES, text).files["app.py"] == "def f():\n    return 2\n"


def test_apply_edits_detects_search_replace_blocks() -> None:
    text = "app.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 3\n>>>>>>> REPLACE\n"
    assert apply_edits(FILES, text).files["app.py"] == "def f():\n    return 3\n"


def test_apply_patch_ignores_code_fences_and_search_replace() -> None:
    text = "```python\ndef f():\n    return 5\n```\n"
    result = apply_patch(FILES, text)
    assert result == EditResult(files=FILES)


def test_the_input_mapping_is_never_mutated() -> None:
    files = dict(FILES)
    apply_edits(
        files, "app.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 3\n>>>>>>> REPLACE\n"
    )
    assert files == FILES


def test_force_apply_applies_utf16_ops_and_can_create_files() -> None:
    files = {"e.txt": "😀a"}
    assert force_apply(files, "e.txt", [{"from": 2, "to": 3, "insert": "b"}]) == {"e.txt": "😀b"}
    assert force_apply({}, "n.txt", [{"from": 0, "to": 0, "insert": "hi"}]) == {"n.txt": "hi"}


def test_force_apply_refuses_unsorted_or_overlapping_ops() -> None:
    ops = [{"from": 2, "to": 4, "insert": ""}, {"from": 1, "to": 3, "insert": ""}]
    with pytest.raises(ValueError):
        force_apply({"a": "abcdef"}, "a", ops)  # type: ignore[arg-type]


def test_result_ok_reflects_errors() -> None:
    assert apply_edits(FILES, "").ok
    assert not apply_patch(FILES, "*** Begin Patch\n*** End Patch\n").ok
