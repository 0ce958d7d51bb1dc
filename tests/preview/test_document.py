"""The server-side preview document (share pages): a port of preview.js buildSrcdoc."""

from __future__ import annotations

from playground.preview.document import NO_ENTRY, build_srcdoc
from playground.preview.highlight import highlight_file


def test_local_stylesheets_and_scripts_are_inlined_and_others_left_alone() -> None:
    files = {
        "index.html": (
            '<link rel="icon" href="x.css"><link rel="stylesheet" href="./a.css?v=1">'
            "<link rel=stylesheet href='https://cdn.example/b.css'>"
            '<script type="module" src="app.js"></script><script src="missing.js"></script>'
        ),
        "a.css": "p{}</STYLE>",
        "x.css": "ignored",
        "app.js": "let s = '</script><!--';",
    }
    out = build_srcdoc(files)
    assert '<link rel="icon" href="x.css">' in out
    assert "<style>p{}<\\/STYLE></style>" in out
    assert "https://cdn.example/b.css" in out
    assert "<script type=\"module\">let s = '<\\/script><\\!--';</script>" in out
    assert '<script src="missing.js"></script>' in out


def test_without_an_html_file_the_preview_says_so() -> None:
    assert build_srcdoc({"main.py": "print(1)"}) == NO_ENTRY
    assert build_srcdoc({"pages/home.HTM": "<p>home</p>"}) == "<p>home</p>"


def test_unknown_file_types_are_shown_as_escaped_plain_text() -> None:
    html = highlight_file("notes.unknownext", "<b>你好 🎉</b>\n")
    assert "&lt;b&gt;你好 🎉&lt;/b&gt;" in html and html.startswith('<div class="hl">')
