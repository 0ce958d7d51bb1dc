"""The preview page of a web playground, as one self-contained HTML string.

A port of frontend/src/preview.js ``buildSrcdoc`` (keep the two in step): the
entry page with the project's own stylesheets and scripts inlined, for an
iframe ``srcdoc`` with ``sandbox="allow-scripts"`` (no allow-same-origin).
Pure: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b([^>]*)>\s*</script\s*>", re.IGNORECASE)
_STYLESHEET = re.compile(r"\brel\s*=\s*[\"']?stylesheet\b", re.IGNORECASE)
_SRC_ATTR = re.compile(r"\s*\bsrc\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.IGNORECASE)
_URL_SCHEME = re.compile(r"^[a-z][\w+.-]*:|^//", re.IGNORECASE)

NO_ENTRY = '<!doctype html><p style="font:14px system-ui;color:#666">No index.html to show.</p>'


def entry_page(files: Mapping[str, str]) -> str | None:
    if "index.html" in files:
        return "index.html"
    return next((p for p in files if re.search(r"\.html?$", p, re.IGNORECASE)), None)


def build_srcdoc(files: Mapping[str, str]) -> str:
    entry = entry_page(files)
    if entry is None:
        return NO_ENTRY

    def link(match: re.Match[str]) -> str:
        tag = match.group(0)
        if not _STYLESHEET.search(tag):
            return tag
        css = files.get(_local_path(_attr(tag, "href")) or "")
        return tag if css is None else f"<style>{escape_raw_text(css, 'style')}</style>"

    def script(match: re.Match[str]) -> str:
        tag, attrs = match.group(0), match.group(1)
        js = files.get(_local_path(_attr(tag, "src")) or "")
        if js is None:
            return tag
        rest = _SRC_ATTR.sub("", attrs, count=1)
        return f"<script{rest}>{escape_raw_text(js, 'script')}</script>"

    return _SCRIPT.sub(script, _LINK.sub(link, files[entry]))


def _attr(tag: str, name: str) -> str | None:
    m = re.search(rf"\b{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", tag, re.IGNORECASE)
    if m is None:
        return None
    return next(g for g in m.groups() if g is not None)


def _local_path(url: str | None) -> str | None:
    if not url or _URL_SCHEME.search(url):
        return None
    return re.sub(r"[?#].*$", "", re.sub(r"^\./", "", url))


def escape_raw_text(text: str, element: str) -> str:
    # Inside <script>/<style> the HTML parser ends the element at "</script" (any
    # case), and in scripts "<!--" changes how that end is found (HTML spec
    # §4.12.1.3). "<\/" and "<\!" mean the same in JS strings and regexes, and
    # "\/" is a valid CSS escape.
    out = re.sub(rf"</({element})", r"<\\/\1", text, flags=re.IGNORECASE)
    return out.replace("<!--", "<\\!--") if element == "script" else out
