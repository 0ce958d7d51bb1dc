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
# Generated once at import; the share and embed pages put it in a <style>.
STYLESHEET: str = _formatter.get_style_defs(f".{CSS_CLASS}")


def highlight_file(path: str, text: str) -> str:
    """HTML for one file: a ``<div class="hl"><pre>…`` block, text HTML-escaped."""
    try:
        lexer = get_lexer_for_filename(path, text, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return str(highlight(text, lexer, _formatter))
