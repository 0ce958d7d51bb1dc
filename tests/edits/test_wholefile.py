from __future__ import annotations

from playground.edits.wholefile import is_whole_file

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
