from __future__ import annotations

from playground.edits.wholefile import is_whole_file, whole_file_text

FILE = "import os\n\ndef f():\n    pass\n\ndef g():\n    pass\n\nmain()\n"


def test_a_blank_file_or_unsupported_language_takes_the_whole_block() -> None:
    assert is_whole_file("python", "", "def f(): pass\n")
    assert is_whole_file(None, "anything", "else")
    assert is_whole_file("json", "{}", '{"a": 1}')


def test_a_block_with_every_definition_and_the_statements_is_the_whole_file() -> None:
    assert is_whole_file("python", FILE, FILE.replace("pass", "return 1"))


def test_a_block_missing_a_definition_is_not_the_whole_file() -> None:
    assert not is_whole_file("python", FILE, "import os\n\ndef f():\n    return 1\n\nmain()\n")


def test_a_block_dropping_most_statements_is_not_the_whole_file() -> None:
    assert not is_whole_file("python", FILE, "def f():\n    pass\n\ndef g():\n    pass\n")


def test_html_with_a_root_element_is_the_whole_file() -> None:
    assert is_whole_file("html", "<p>x</p>\n", "<!DOCTYPE html>\n<html></html>\n")
    assert not is_whole_file("html", "<html>\n<p>x</p>\n</html>\n", '<div id="a"></div>\n')


def test_whole_file_text_keeps_the_files_own_ending() -> None:
    block = ["x = 2", "", ""]  # models pad the block before its closing fence
    assert whole_file_text("x = 1\n", block) == "x = 2\n"
    assert whole_file_text("x = 1", block) == "x = 2"
    assert whole_file_text("x = 1\n\n", block) == "x = 2\n\n"
    assert whole_file_text("x = 1\r\ny = 1\r\n", ["x = 2", "y = 2", ""]) == "x = 2\r\ny = 2\r\n"
    assert whole_file_text("\nx = 1\n", ["", "", "x = 2"]) == "\nx = 2\n"


def test_a_new_or_blank_file_ends_with_one_newline() -> None:
    assert whole_file_text(None, ["", "x = 1", "", ""]) == "x = 1\n"
    assert whole_file_text("", ["x = 1"]) == "x = 1\n"
    assert whole_file_text(None, ["", ""]) == ""


SMALL = 'def greet(name):\n    return name\n\n\nif __name__ == "__main__":\n    print(greet("x"))\n'


def test_a_complete_program_for_a_small_file_is_the_whole_file() -> None:
    program = (
        "def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)\n\n"
        "print(factorial(5))\n"
    )
    assert is_whole_file("python", SMALL, program)


def test_a_block_that_uses_a_name_only_the_file_defines_is_not_the_whole_file() -> None:
    assert not is_whole_file(
        "python", SMALL, "def shout(s):\n    return s\n\nprint(greet(shout('a')))\n"
    )
    script = "import math\nx = 5\nprint(math.sqrt(x))\n"
    assert not is_whole_file("python", script, "print(math.sqrt(x) * 2)\n")


def test_a_fragment_of_a_script_is_not_the_whole_script() -> None:
    script = "name = 'Ada'\nprint(name)\nprint(len(name))\n"
    assert not is_whole_file("python", script, "print('bye')\n")
    assert is_whole_file("python", "print('hi')\n", "name = input()\nprint(name)\n")


def test_every_definition_with_new_main_code_is_the_whole_file() -> None:
    assert is_whole_file(
        "python", SMALL, 'def greet(name):\n    return name\n\nprint(greet("y"))\n'
    )
    assert not is_whole_file("python", SMALL, "def greet(name):\n    return name.upper()\n")
