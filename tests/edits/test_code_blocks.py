from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from playground.edits import apply_code_blocks, apply_edits
from playground.edits.code_blocks import Fence, choose_target
from tests.edits import starters

APP = "import os\n\n\ndef f(x):\n    return x + 1\n\n\ndef g():\n    return 2\n\n\nprint(f(1))\n"
FILES = {
    "app.py": APP,
    "main.js": "function a() {\n  return 1;\n}\n",
    "style.css": "a { color: red; }\n",
}


def _fence(lang: str, code: str, before: str = "") -> str:
    return f"{before}```{lang}\n{code}```\n"


def test_a_function_block_replaces_only_that_function() -> None:
    result = apply_code_blocks(FILES, _fence("python", "def g():\n    return 3\n"))
    assert result.files["app.py"] == APP.replace("return 2", "return 3")
    assert result.applied[0].ops == [
        {"from": APP.index("return 2") + 7, "to": APP.index("return 2") + 8, "insert": "3"}
    ]


def test_a_new_function_goes_after_the_last_definition() -> None:
    result = apply_code_blocks(FILES, _fence("python", "def h():\n    return 4\n"))
    text = result.files["app.py"]
    assert text.index("def h():") > text.index("def g():")
    assert text.index("def h():") < text.index("print(f(1))")


def test_new_imports_are_added_after_existing_ones() -> None:
    result = apply_code_blocks(FILES, _fence("python", "import re\n\ndef g():\n    return re\n"))
    assert result.files["app.py"].startswith("import os\nimport re\n")


def test_the_whole_file_becomes_a_minimal_diff() -> None:
    whole = APP.replace("x + 1", "x + 100")
    result = apply_code_blocks(FILES, _fence("python", whole))
    assert result.files["app.py"] == whole
    assert result.applied[0].ops == [
        {"from": APP.index("x + 1") + 5, "to": APP.index("x + 1") + 5, "insert": "00"}
    ]


def test_a_partial_block_that_drops_a_statement_is_not_taken_as_the_whole_file() -> None:
    block = "def f(x):\n    return x + 1\n\n\ndef g():\n    return 5\n"
    result = apply_code_blocks(FILES, _fence("python", block))
    assert "print(f(1))" in result.files["app.py"]
    assert "return 5" in result.files["app.py"]


def test_javascript_const_and_function_blocks() -> None:
    code = "function a() {\n  return 2;\n}\n\nconst b = () => 3;\n"
    result = apply_code_blocks(FILES, _fence("js", code))
    assert result.files["main.js"] == "function a() {\n  return 2;\n}\n\nconst b = () => 3;\n"


def test_css_rules_are_matched_by_selector() -> None:
    files = {"style.css": "a { color: red; }\n\nb { color: blue; }\n"}
    result = apply_code_blocks(files, _fence("css", "b { color: green; }\n"))
    assert result.files["style.css"] == "a { color: red; }\n\nb { color: green; }\n"


def test_html_elements_are_matched_by_id_and_reindented() -> None:
    page = '<html>\n  <body>\n    <div id="box">\n      <p>a</p>\n    </div>\n  </body>\n</html>\n'
    result = apply_code_blocks(
        {"index.html": page}, _fence("html", '<div id="box">\n  <p>b</p>\n</div>\n')
    )
    assert result.files["index.html"] == page.replace("<p>a</p>", "<p>b</p>")


def test_new_html_elements_go_before_the_body_end() -> None:
    page = "<html>\n  <body>\n    <p>x</p>\n  </body>\n</html>\n"
    result = apply_code_blocks(
        {"index.html": page}, _fence("html", '<section id="s">y</section>\n')
    )
    assert result.files["index.html"] == page.replace(
        "  </body>", '    <section id="s">y</section>\n  </body>'
    )


def test_an_explicit_path_in_the_info_string_or_the_line_before_wins() -> None:
    files = {"a.py": "def f():\n    pass\n", "b.py": "def f():\n    pass\n"}
    code = "def f():\n    return 1\n"
    by_info = apply_code_blocks(files, _fence("python b.py", code))
    assert "return 1" in by_info.files["b.py"]
    assert by_info.files["a.py"] == files["a.py"]
    by_line = apply_code_blocks(files, _fence("python", code, before="**a.py**\n"))
    assert "return 1" in by_line.files["a.py"]


def test_several_files_of_the_language_need_the_active_file_or_a_name() -> None:
    files = {"a.py": "def f():\n    pass\n", "b.py": "x = 1\n"}
    code = _fence("python", "def f():\n    return 1\n")
    assert "which Python file" in apply_code_blocks(files, code).errors[0].reason
    assert "return 1" in apply_code_blocks(files, code, active="a.py").files["a.py"]


def test_a_block_for_a_new_path_creates_the_file() -> None:
    result = apply_code_blocks({}, _fence("python new.py", "x = 1\n"))
    assert result.files == {"new.py": "x = 1\n"}
    assert result.applied[0].kind == "add"


def test_shell_fences_are_not_edits() -> None:
    result = apply_code_blocks(FILES, _fence("bash", "rm -rf /\n"))
    assert result.files == FILES
    assert result.errors == []
    assert result.applied == []


def test_a_block_that_breaks_syntax_is_rejected() -> None:
    result = apply_code_blocks(FILES, _fence("python", "def g(:\n    return 3\n"))
    assert result.files == FILES
    assert result.errors[0].path == "app.py"
    assert result.errors[0].line is not None


def test_a_block_without_definitions_is_placed_not_refused() -> None:
    # It used to be refused ("no top-level definitions to place"); a statement that
    # matches nothing now goes at the end of the file.
    result = apply_code_blocks(FILES, _fence("python", "print('hello')\n"))
    assert result.errors == []
    assert result.files["app.py"] == APP + "print('hello')\n"


def test_crlf_files_get_crlf_lines_from_code_blocks() -> None:
    files = {"w.py": "def f():\r\n    return 1\r\n\r\n\r\ndef g():\r\n    return 2\r\n"}
    result = apply_code_blocks(files, _fence("python", "def g():\n    return 3\n    # done\n"))
    assert result.files["w.py"].endswith("def g():\r\n    return 3\r\n    # done\r\n")


def test_an_unclosed_block_is_reported_not_applied() -> None:
    result = apply_code_blocks(FILES, "```python\ndef g():\n    return 3\n")
    assert result.files == FILES
    assert "not closed" in result.errors[0].reason


def test_choose_target_prefers_the_single_file_of_the_language() -> None:
    target = choose_target(Fence("css", None, []), sorted(FILES), active="app.py")
    assert target is not None
    assert target.path == "style.css"


def test_auto_detection_handles_prose_and_code() -> None:
    result = apply_edits(
        FILES, "Change g:\n\n" + _fence("python", "def g():\n    return 9\n") + "Done.\n"
    )
    assert "return 9" in result.files["app.py"]


def test_a_whole_file_block_padded_with_blank_lines_adds_no_blank_line() -> None:
    # The model copies the prompt's layout, which has a blank line before each closing fence.
    whole = APP.replace("return 2", "return 20")
    result = apply_code_blocks(FILES, f"```python app.py\n{whole}\n\n```\n")
    assert result.files["app.py"] == whole
    no_newline = {"app.py": APP.rstrip("\n")}
    result = apply_code_blocks(no_newline, f"```python app.py\n{whole}\n```\n")
    assert result.files["app.py"] == whole.rstrip("\n")


_OWN_TEXT_FILES = [
    ("main.py", starters.MAIN_PY),
    ("index.html", starters.INDEX_HTML),
    ("style.css", starters.STYLE_CSS),
    ("script.js", starters.SCRIPT_JS),
    ("app.py", APP),
]


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(_OWN_TEXT_FILES),
    st.sampled_from(["", "\n", "\n\n"]),
    st.integers(0, 3),
    st.booleans(),
)
def test_a_whole_file_block_of_the_files_own_text_changes_nothing(
    named: tuple[str, str], ending: str, padding: int, crlf: bool
) -> None:
    path, text = named
    text = text.rstrip("\n") + ending
    if crlf:
        text = text.replace("\n", "\r\n")
    block = text.replace("\r\n", "\n").rstrip("\n") + "\n" * (padding + 1)
    result = apply_code_blocks({path: text}, f"Here is the file:\n\n```{path}\n{block}```\n")
    assert result.files == {path: text}
    assert [e.kind for e in result.unchanged] == ["unchanged"]
    assert result.applied == []
    assert result.errors == []


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["", "\n", "\n\n"]), st.integers(0, 3))
def test_a_whole_file_change_keeps_the_files_trailing_newlines(ending: str, padding: int) -> None:
    text = starters.STYLE_CSS.rstrip("\n") + ending
    block = starters.STYLE_CSS.replace("#b4441c", "#0a7d32").rstrip("\n") + "\n" * (padding + 1)
    result = apply_code_blocks({"style.css": text}, f"```css style.css\n{block}```\n")
    assert result.files["style.css"] == text.replace("#b4441c", "#0a7d32")
