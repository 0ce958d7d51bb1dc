from __future__ import annotations

from playground.edits.symbols import html_elements, html_tags, python_main_guard, top_level_items


def _keys(lang: str, text: str) -> list[tuple[str, str]]:
    return [i.key for i in top_level_items(lang, text) or []]


def test_python_definitions_include_their_decorators() -> None:
    text = "import os\n@dec\ndef f():\n    pass\nclass A:\n    pass\nx = 1\n"
    items = top_level_items("python", text) or []
    assert [i.key for i in items] == [
        ("import", "import os"),
        ("function", "f"),
        ("class", "A"),
        ("statement", "x = 1"),
    ]
    assert text[items[1].start : items[1].end].startswith("@dec")


def test_javascript_and_typescript_declarations_unwrap_exports() -> None:
    assert _keys(
        "javascript", "export const a = 1;\nexport default function f() {}\nclass B {}\n"
    ) == [
        ("variable", "a"),
        ("function", "f"),
        ("class", "B"),
    ]
    assert _keys("typescript", "interface I {}\ntype T = 1;\nenum E { A }\n") == [
        ("interface", "I"),
        ("type", "T"),
        ("enum", "E"),
    ]


def test_css_rules_are_keyed_by_selector_text() -> None:
    assert _keys("css", "a,  b > c { x: y }\n@media (max-width: 1px) { a {} }\n") == [
        ("rule", "a, b > c"),
        ("at-rule", "@media (max-width: 1px)"),
    ]


def test_html_elements_are_keyed_by_id_or_unique_tag() -> None:
    page = '<html><body><div id="a"><p>x</p></div><main>m</main></body></html>'
    assert [i.name for i in html_elements(page)] == ["<html>", "<body>", "#a", "<main>"]


def test_json_has_no_symbols() -> None:
    assert top_level_items("json", "{}") is None


def test_offsets_are_string_indices_even_after_emoji() -> None:
    text = "s = '😀'\ndef f():\n    pass\n"
    item = (top_level_items("python", text) or [])[1]
    assert text[item.start : item.end] == "def f():\n    pass"


def test_items_know_the_names_they_bind() -> None:
    items = top_level_items(
        "python", "import a.b, c as d\nfrom m import (x, y as z)\np, q = 1, 2\n"
    )
    assert [i.names for i in items or []] == [("a", "d"), ("x", "z"), ("p", "q")]
    js = top_level_items("javascript", 'import a, { b as c } from "m";\nlet u = 1, v = 2;\n')
    assert [i.names for i in js or []] == [("a", "c"), ("u", "v")]


def test_the_python_main_guard_and_its_body() -> None:
    text = "def f():\n    pass\n\n\nif __name__ == '__main__':\n    f()\n    print(1)\n"
    guard = python_main_guard(text)
    assert guard is not None
    assert [i.name for i in guard.body] == ["f()", "print(1)"]
    assert guard.indent == "    "
    assert python_main_guard("if x:\n    f()\n") is None


def test_html_tags_have_their_attributes() -> None:
    tags = html_tags('<ul class="a"><li>x</li></ul>\n<script src="s.js"></script>\n')
    assert [(t.tag, t.attrs) for t in tags] == [
        ("ul", {"class": "a"}),
        ("li", {}),
        ("script", {"src": "s.js"}),
    ]
    assert [t.tag for t in html_tags("<main><p>x</p></main><p>y</p>", top_level=True)] == [
        "main",
        "p",
    ]
