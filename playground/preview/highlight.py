"""Server-side syntax highlighting for read-only pages (share, embed).

Pure: Pygments with CSS classes (no inline styles), so one stylesheet,
``STYLESHEET``, colours every page. No Django.
"""

from __future__ import annotations

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

CSS_CLASS = "hl"
_formatter = HtmlFormatter(cssclass=CSS_CLASS, style="default")
# Generated once at import; the share and embed pages put it in a <style>: the
# light colours, and dark ones when the system asks for a dark scheme.
STYLESHEET: str = (
    _formatter.get_style_defs(f".{CSS_CLASS}")
    + "\n@media (prefers-color-scheme: dark) {\n"
    + HtmlFormatter(cssclass=CSS_CLASS, style="github-dark").get_style_defs(f".{CSS_CLASS}")
    + "\n}\n"
)


def highlight_file(path: str, text: str) -> str:
    """HTML for one file: a ``<div class="hl"><pre>…`` block, text HTML-escaped."""
    try:
        lexer = get_lexer_for_filename(path, text, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    html = str(highlight(text, lexer, _formatter))
    # A block wider than the page scrolls: keyboard users must be able to reach it.
    return html.replace("<pre>", '<pre tabindex="0">', 1)
