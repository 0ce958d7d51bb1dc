"""Placing a code block's top-level statements (fragments.py), through the public API."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from playground.edits import apply_code_blocks
from playground.edits.syntax import parse_full
from tests.edits.starters import MAIN_PY


def _py(files: dict[str, str], code: str) -> dict[str, str]:
    return apply_code_blocks(files, f"```python\n{code}```\n").files


def test_a_new_main_block_replaces_the_old_one() -> None:
    block = 'if __name__ == "__main__":\n    print(greet("Ada"))\n    print("bye")\n'
    assert _py({"main.py": MAIN_PY}, block)["main.py"] == MAIN_PY.replace(
        '    print(greet("Flint"))\n', '    print(greet("Ada"))\n    print("bye")\n'
    )


def test_new_statements_go_next_to_the_statement_they_follow_or_precede() -> None:
    script = 'name = "Ada"\nprint(name)\nprint(len(name))\n'
    after = _py({"s.py": script}, 'name = "Bob"\nprint(name.upper())\n')
    assert after["s.py"] == 'name = "Bob"\nprint(name.upper())\nprint(name)\nprint(len(name))\n'
    before = _py({"s.py": script}, 'greeting = "Hi"\nname = "Bob"\n')
    assert before["s.py"] == 'greeting = "Hi"\nname = "Bob"\nprint(name)\nprint(len(name))\n'


def test_a_block_of_comments_only_is_refused_in_plain_words() -> None:
    result = apply_code_blocks({"main.py": MAIN_PY}, "```python\n# TODO: add a loop\n```\n")
    assert result.files == {"main.py": MAIN_PY}
    assert result.errors[0].reason.startswith("The code block for main.py has no code in it")


def test_a_statement_that_could_rewrite_two_lines_rewrites_neither() -> None:
    files = {"s.py": 'import sys\nprint("a1")\nprint("a2")\n'}
    assert (
        _py(files, 'print("a3")\n')["s.py"] == 'import sys\nprint("a1")\nprint("a2")\nprint("a3")\n'
    )


def test_statements_already_in_the_file_change_nothing() -> None:
    result = apply_code_blocks({"main.py": MAIN_PY}, '```python\nprint(greet("Flint"))\n```\n')
    assert result.files == {"main.py": MAIN_PY}
    assert [e.kind for e in result.unchanged] == ["unchanged"]


def test_crlf_files_get_crlf_statements() -> None:
    files = {"main.py": MAIN_PY.replace("\n", "\r\n")}
    text = _py(files, "for i in range(2):\n    print(i)\n")["main.py"]
    assert text == (MAIN_PY + "    for i in range(2):\n        print(i)\n").replace("\n", "\r\n")


def test_a_comment_above_a_new_statement_comes_with_it() -> None:
    text = _py({"main.py": MAIN_PY}, "# Count to three\nfor i in range(3):\n    print(i)\n")
    assert text["main.py"].endswith(
        "    # Count to three\n    for i in range(3):\n        print(i)\n"
    )


def test_javascript_statements_are_matched_by_their_first_line() -> None:
    files = {"a.js": "const b = 1;\n\nwindow.onload = () => {\n  go();\n};\n"}
    result = apply_code_blocks(files, "```js\nwindow.onload = () => {\n  stop();\n};\n```\n")
    assert result.files["a.js"] == files["a.js"].replace("go()", "stop()")


_STATEMENTS = [
    "print(1)",
    "x = 2",
    "for i in range(3):\n    print(i)",
    "total = sum([1, 2])",
    'print(greet("Ada"))',
    "import math",
    "def helper():\n    return 4",
    "while False:\n    pass",
    "# a comment",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_STATEMENTS), min_size=1, max_size=5, unique=True))
def test_no_statement_of_the_block_is_dropped(parts: list[str]) -> None:
    if all(part.startswith("#") for part in parts):
        parts = [*parts, "print(2)"]
    block = "\n".join(parts) + "\n"
    result = apply_code_blocks({"main.py": MAIN_PY}, f"```python\n{block}```\n")
    assert result.errors == []
    text = result.files["main.py"]
    lines = {line.strip() for line in text.splitlines()}
    for part in parts:  # statements, that is: a comment after the last one may go
        for line in part.splitlines():
            assert line.startswith("#") or line.strip() in lines, (line, text)
    assert parse_full("python", text).errors == 0


def test_the_main_block_is_rewritten_whole_or_line_by_line_never_both() -> None:
    block = 'print(greet("Ada"))\nif __name__ == "__main__":\n    print("new")\n'
    result = apply_code_blocks({"main.py": MAIN_PY}, f"```python\n{block}```\n")
    assert result.errors == []
    # The best match (the __main__ block, by its first line) wins over a similar line.
    assert result.files["main.py"] == MAIN_PY.replace(
        'if __name__ == "__main__":\n    print(greet("Flint"))\n',
        'print(greet("Ada"))\n\nif __name__ == "__main__":\n    print("new")\n',
    )


def test_a_refusal_offers_the_blocks_own_leading_comment_for_copy() -> None:
    text = "```python\n# Squares\nfor i in range(3):\n    print(i * i)\n```\n"
    result = apply_code_blocks({"main.py": MAIN_PY, "index.html": "<p>x</p>\n"}, text)
    # A Python block in a web playground: refused, and Copy keeps the comment.
    assert result.errors[0].code.startswith("# Squares\n")
